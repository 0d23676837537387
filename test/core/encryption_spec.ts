import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MerossDevice } from "../../src/core/session/device";
import { MerossError } from "../../src/core/errors";
import { onboard } from "../../src/core/onboarding";
import { decryptMessageBase64, encryptMessageBase64, staticLanKey } from "../../src/core/crypto/aes";
import { checkEncryptionMode, decodeEnvelopeText, encodeEnvelope, requiresEncryption } from "../../src/core/crypto/lan";
import { HttpTransport } from "../../src/core/transport/http";
import { MqttTransport } from "../../src/core/transport/mqtt";
import { generateCertificates, type Certificates } from "../../src/core/broker/certs";
import { MerossBroker } from "../../src/core/broker/broker";
import { buildMessage } from "../../src/core/protocol/message";
import { MODELS } from "../../src/simulator/models";
import { SimulatedDevice, type DroppedEvent, type RequestEvent, type WifiConfigEvent } from "../../src/simulator/device";
import { rejectsWith, nextEvent } from "../helpers/errors";

const KEY = "encryption-spec-key";
const vectors = JSON.parse(readFileSync(join(__dirname, "../fixtures/vectors.json"), "utf8"));

describe("LAN encryption: detection and the wire form (docs/protocol.md §4)", () => {
  it("detects encryption from Encrypt.ECDHE / Encrypt.Suite only, not from firmware.encrypt", () => {
    const read = (name: string) =>
      (JSON.parse(readFileSync(join(__dirname, `../fixtures/traces/${name}.json`), "utf8")) as { ability: Record<string, unknown> })
        .ability;
    assert.equal(requiresEncryption(read("hp110a")), true, "hp110a 4.1.12 lists Encrypt.ECDHE");
    assert.equal(requiresEncryption(MODELS.mss305.ability), false, "mss305 8.3.15 has WifiX and firmware.encrypt but no LAN encryption");
    assert.equal(requiresEncryption(MODELS.mss110.ability), true);
    assert.equal(requiresEncryption({ "Appliance.Encrypt.Suite": {}, "Appliance.Encrypt.ECDHE": {} }), true);
    assert.equal(requiresEncryption({ "Appliance.Config.WifiX": {}, "Appliance.Control.ToggleX": {} }), false);
    assert.equal(requiresEncryption(undefined), false);
  });

  it("static keys of §4.4 and the real mss110 uuid, and the §4.4 message through encode/decode", () => {
    for (const v of vectors.staticLanKeys) assert.equal(staticLanKey(v.uuid, v.key, v.mac), v.aesKey);
    const m = vectors.lanMessage;
    const env = JSON.parse(m.plain);
    const b64 = encodeEnvelope(env, m.aesKey);
    assert.ok(b64.startsWith(m.base64Prefix) && b64.endsWith(m.base64Suffix), b64);
    assert.deepEqual(decodeEnvelopeText(b64, m.aesKey, "test"), env);
  });

  it("a reply that does not decrypt is WRONG_KEY with a sentence, a plain JSON reply is accepted", () => {
    const env = buildMessage({ method: "GETACK", namespace: "Appliance.System.All", key: "", payload: {} });
    const right = "0123456789abcdef0123456789abcdef";
    const wrong = "fedcba9876543210fedcba9876543210";
    const err = (() => {
      try {
        decodeEnvelopeText(encodeEnvelope(env, right), wrong, "10.0.0.9");
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof MerossError);
    assert.equal(err.code, "WRONG_KEY");
    assert.match(err.message, /could not be decrypted, so the key is probably wrong/);
    assert.ok(!err.message.includes(right) && !err.message.includes(wrong));
    assert.equal(decodeEnvelopeText(JSON.stringify(env), right, "h").header.messageId, env.header.messageId);
    assert.throws(
      () => decodeEnvelopeText("%%% not base64", right, "h"),
      (e: unknown) => e instanceof MerossError && e.code === "WRONG_KEY",
    );
    assert.throws(
      () => decodeEnvelopeText("", right, "h"),
      (e: unknown) => e instanceof MerossError && e.code === "BAD_RESPONSE",
    );
  });

  it("an unknown encryption setting is BAD_INPUT naming the choices", () => {
    assert.equal(checkEncryptionMode(undefined), "auto");
    assert.throws(
      () => checkEncryptionMode("aes"),
      (e: unknown) => e instanceof MerossError && e.code === "BAD_INPUT" && /auto.*static.*ecdhe.*off/.test(e.message),
    );
    assert.throws(
      () => new MerossDevice({ address: "127.0.0.1:1", encryption: "yes" as never }),
      (e: unknown) => e instanceof MerossError && e.code === "BAD_INPUT",
    );
  });

  describe("HttpTransport with an encryption key", () => {
    let server: Server | undefined;
    afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

    async function serve(
      handler: (body: string, req: IncomingMessage) => string,
    ): Promise<{ port: number; seen: { type?: string; body: string }[] }> {
      const seen: { type?: string; body: string }[] = [];
      server = createServer((req, res) => {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => {
          seen.push({ type: req.headers["content-type"], body });
          res.end(handler(body, req));
        });
      });
      await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
      const addr = server.address();
      return { port: typeof addr === "object" && addr ? addr.port : 0, seen };
    }

    it("posts base64 ciphertext as text/plain and decrypts the reply", async () => {
      const key = "0123456789abcdef0123456789abcdef";
      const { port, seen } = await serve((body) => {
        const req = JSON.parse(decryptMessageBase64(body, key));
        return encryptMessageBase64(JSON.stringify({ header: { ...req.header, method: "GETACK" }, payload: { ok: 1 } }), key);
      });
      const t = new HttpTransport(`127.0.0.1:${port}`);
      const req = buildMessage({ method: "GET", namespace: "Appliance.System.All", key: "" });
      const reply = await t.send(req, { encryptionKey: key });
      await t.close();
      assert.deepEqual(reply.payload, { ok: 1 });
      assert.match(seen[0].type ?? "", /^text\/plain/);
      assert.doesNotMatch(seen[0].body, /Appliance/);
    });

    it("garbage instead of ciphertext is WRONG_KEY, not a crash or garbage", async () => {
      const { port } = await serve(() => "Zm9vYmFyYmF6cXV4MTIzNA==");
      const t = new HttpTransport(`127.0.0.1:${port}`);
      await rejectsWith(
        t.send(buildMessage({ method: "GET", namespace: "Appliance.System.All", key: "" }), {
          encryptionKey: "0123456789abcdef0123456789abcdef",
        }),
        "WRONG_KEY",
        /could not be decrypted/,
      );
      await t.close();
    });
  });
});

describe("MerossDevice with encrypted simulated devices over HTTP", function () {
  this.timeout(20_000);
  const sims: SimulatedDevice[] = [];
  const devices: MerossDevice[] = [];
  const start = async (model: string, key = KEY, deviceOpts: Partial<ConstructorParameters<typeof MerossDevice>[0]> = {}) => {
    const sim = await SimulatedDevice.start({ model, key, port: 0 });
    sims.push(sim);
    const device = new MerossDevice({ address: sim.address, key, ...deviceOpts });
    devices.push(device);
    return { sim, device };
  };
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });

  it("mss110: the plaintext System.All is dropped, the session recovers through Ability and encrypts with the static key", async () => {
    const { sim, device } = await start("mss110");
    const dropped: DroppedEvent[] = [];
    sim.on("dropped", (e: DroppedEvent) => dropped.push(e));
    const info = await device.ready();
    assert.equal(info.uuid, sim.uuid);
    assert.equal(info.model, "mss110");
    assert.ok(
      dropped.some((d) => d.namespace === "Appliance.System.All"),
      "the device really refused plaintext",
    );
    assert.equal(device.encryptionScheme, "static");
    await device.setToggle(0, true);
    assert.equal(sim.state.channels[0].on, true);
    assert.equal((await device.getToggle(0)).on, true);
    const before = dropped.length;
    await device.request("GET", "Appliance.System.Runtime", {});
    assert.equal(dropped.length, before, "once encrypting, nothing more is dropped");
  });

  it("hp110a bulb: colour and brightness over encrypted HTTP", async () => {
    const { sim, device } = await start("hp110a");
    const state = await device.setLight({ rgb: 0x3366ff, luminance: 25 });
    assert.equal(state.rgb, 0x3366ff);
    assert.equal(sim.state.light?.rgb, 0x3366ff);
    assert.equal(sim.state.light?.luminance, 25);
    assert.equal(sim.state.channels[0].on, true);
  });

  it("a wrong key is WRONG_KEY, never garbage, and the sentence does not contain a key", async () => {
    const { sim } = await start("mss110");
    const wrong = new MerossDevice({ address: sim.address, key: "not-the-key" });
    devices.push(wrong);
    const err = await rejectsWith(wrong.ready(), "WRONG_KEY", /key is (probably )?wrong/);
    assert.ok(!err.message.includes(KEY) && !err.message.includes("not-the-key"));
  });

  it("a key changed behind the session's back: the encrypted reply cannot be decrypted → WRONG_KEY saying so", async () => {
    const { sim, device } = await start("mss110");
    await device.ready();
    const other = new MerossDevice({ address: sim.address, key: KEY });
    devices.push(other);
    await other.request("SET", "Appliance.Config.Key", {
      key: { key: "rekeyed-by-the-app", userId: "1", gateway: { host: "127.0.0.1", port: 8883 } },
    });
    assert.equal(sim.key, "rekeyed-by-the-app");
    const err = await rejectsWith(device.setToggle(0, true), "WRONG_KEY", /could not be decrypted, so the key is probably wrong/);
    assert.ok(!err.message.includes(KEY) && !err.message.includes("rekeyed-by-the-app"));
    assert.equal(sim.state.channels[0].on, false, "nothing was switched");
  });

  it("encryption off: the dropped plaintext stays an UNREACHABLE error (no silent switch)", async () => {
    const { device } = await start("mss110", KEY, { encryption: "off", http: { retries: 0 } });
    await rejectsWith(device.request("GET", "Appliance.System.All", {}), "UNREACHABLE", /closed the connection/);
    assert.equal(device.encryptionScheme, undefined);
  });

  it("forced ecdhe: a configured device is reached through the key exchange", async () => {
    const { sim, device } = await start("mss110", KEY, { encryption: "ecdhe" });
    let exchanges = 0;
    sim.on("ecdhe", () => exchanges++);
    await device.setToggle(0, true);
    assert.equal(exchanges, 1);
    assert.equal(device.encryptionScheme, "ecdhe");
    assert.equal(sim.state.channels[0].on, true);
  });

  it("a plain device stays plaintext in auto mode", async () => {
    const { device } = await start("mss310");
    await device.setToggle(0, true);
    assert.equal(device.encryptionScheme, undefined);
  });
});

describe("Onboarding an encrypted device, then MQTT", function () {
  this.timeout(30_000);
  let certs: Certificates;
  let broker: MerossBroker | undefined;
  const sims: SimulatedDevice[] = [];
  const devices: MerossDevice[] = [];
  before(() => {
    certs = generateCertificates({ host: "127.0.0.1" });
  });
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    await broker?.stop();
    broker = undefined;
  });

  it("mss110 in pairing mode: ECDHE exchange, encrypted WifiX onboarding, then MQTT control and pushes with the new key", async () => {
    broker = await MerossBroker.start({ port: 0, host: "127.0.0.1", certs, keys: [KEY] });
    const b = broker;
    const sim = await SimulatedDevice.start({ model: "mss110", unconfigured: true, port: 0, mqttReconnectMs: 200 });
    sims.push(sim);
    let exchanges = 0;
    sim.on("ecdhe", (e: { mode: string }) => {
      if (e.mode === "ap") exchanges++;
    });
    const wifi = new Promise<WifiConfigEvent>((r) => sim.once("wifi", r));
    const listening = new Promise((r) => b.events.once("device-listening", r));
    const result = await onboard({
      address: sim.address,
      mqttHost: "127.0.0.1",
      mqttPort: b.port,
      key: KEY,
      wifi: { ssid: "HomeNet", password: "correct horse battery" },
    });
    assert.equal(result.encryption, "ecdhe");
    assert.equal(exchanges, 1);
    const names = result.steps.map((s) => s.name);
    assert.ok(names.includes("set up encryption"), names.join(", "));
    assert.equal(names[names.length - 1], "set wifi");
    assert.equal(result.wifi.namespace, "Appliance.Config.WifiX");
    const sent = await wifi;
    assert.equal(sent.password, "correct horse battery", "the double-encrypted WifiX password arrived intact");
    assert.ok(!JSON.stringify(result).includes("correct horse battery"));
    await listening;
    assert.equal(sim.mode, "normal");
    assert.equal(sim.key, KEY);

    // Normal mode over HTTP: the static key from the new key (docs/protocol.md §4.3 a).
    const http = new MerossDevice({ address: sim.address, key: KEY });
    devices.push(http);
    await http.setToggle(0, true);
    assert.equal(http.encryptionScheme, "static");
    assert.equal(sim.state.channels[0].on, true);

    // And over MQTT through the embedded broker, following the device's pushes.
    const device = new MerossDevice({ transport: new MqttTransport({ uuid: sim.uuid, client: b.connection() }), key: KEY });
    devices.push(device);
    await device.ready();
    assert.equal(device.encryptionScheme, "static");
    await device.setToggle(0, false);
    assert.equal(sim.state.channels[0].on, false);
    const pushed = nextEvent(device, (e) => e.type === "toggle" && e.source === "push");
    sim.press(0);
    const ev = await pushed;
    assert.ok(ev.type === "toggle" && ev.on === true);
  });

  it("MQTT with encrypted payloads both ways: requests, replies and pushes are ciphertext and still work", async () => {
    broker = await MerossBroker.start({ port: 0, host: "127.0.0.1", certs, keys: [KEY] });
    const b = broker;
    const listening = new Promise((r) => b.events.once("device-listening", r));
    const sim = await SimulatedDevice.start({
      model: "hp110a",
      key: KEY,
      port: 0,
      gateway: { host: "127.0.0.1", port: b.port },
      userId: "0",
      mqttReconnectMs: 200,
      mqttEncryption: true,
    });
    sims.push(sim);
    await listening;
    const seen: RequestEvent[] = [];
    sim.on("request", (r: RequestEvent) => seen.push(r));
    const device = new MerossDevice({
      transport: new MqttTransport({ uuid: sim.uuid, client: b.connection(), encryptPayloads: true }),
      key: KEY,
      encryption: "static",
    });
    devices.push(device);
    await device.setLight({ rgb: 0x00ff00, luminance: 30 });
    assert.equal(sim.state.light?.rgb, 0x00ff00);
    // The broker's own session (Ability, Time) talks plain JSON; everything our session sent is ciphertext.
    // The Light SET travels inside a Control.Multiple with the switch-on when the lamp is off (one round trip).
    const OURS = new Set(["Appliance.System.All", "Appliance.Control.Light", "Appliance.Control.Multiple"]);
    const ours = seen.filter((r) => OURS.has(r.namespace));
    assert.ok(ours.length >= 2 && ours.every((r) => r.via === "mqtt" && r.encrypted === true), JSON.stringify(seen));
    const coloured = nextEvent(device, (e) => e.type === "light" && e.source === "push" && e.light.rgb === 0x0000ff);
    sim.setLight({ rgb: 0x0000ff });
    const lightEv = await coloured;
    assert.ok(lightEv.type === "light");
    assert.equal(lightEv.light.luminance, 30);
  });
});
