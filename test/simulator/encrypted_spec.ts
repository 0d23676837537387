import assert from "node:assert/strict";
import { SimulatedDevice, type DroppedEvent } from "../../src/simulator/device";
import { MODELS } from "../../src/simulator/models";
import { formatModels } from "../../src/cli/simulate";
import { decryptMessageBase64, ecdhKeyPair, ecdhSessionKey, encryptMessageBase64, staticLanKey } from "../../src/core/crypto/aes";
import type { Envelope } from "../../src/core/protocol/message";
import { httpRequestText, msg, postRaw, rawExchange } from "./helpers";

const KEY = "sim-encrypted-key";

describe("simulator: encrypted firmware (mss110, hp110a)", () => {
  const sims: SimulatedDevice[] = [];
  const start = async (opts: Parameters<typeof SimulatedDevice.start>[0]) => {
    const sim = await SimulatedDevice.start({ port: 0, ...opts });
    sims.push(sim);
    return sim;
  };
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });

  const staticKeyOf = (sim: SimulatedDevice, key = sim.key) => staticLanKey(sim.uuid, key, sim.mac);

  async function sendEncrypted(
    sim: SimulatedDevice,
    aesKey: string,
    namespace: string,
    method: "GET" | "SET",
    payload: Record<string, unknown> = {},
    signKey = sim.key,
  ) {
    const res = await postRaw(sim.port, encryptMessageBase64(JSON.stringify(msg(namespace, method, payload, signKey)), aesKey));
    return { res, reply: JSON.parse(decryptMessageBase64(res.text, aesKey)) as Envelope };
  }

  it("closes the connection without a reply on a plaintext System.All, like mss110 fw 7.3.x", async () => {
    const sim = await start({ model: "mss110", key: KEY });
    const dropped = new Promise<DroppedEvent>((r) => sim.once("dropped", r));
    const bytes = await rawExchange(sim.port, httpRequestText(JSON.stringify(msg("Appliance.System.All", "GET", {}, KEY))));
    assert.equal(bytes.length, 0, "not a single byte of reply");
    assert.deepEqual(await dropped, { method: "GET", namespace: "Appliance.System.All", via: "http" });
  });

  it("still answers System.Ability and Encrypt.Suite in plaintext, and lists the encryption namespaces", async () => {
    const sim = await start({ model: "mss110", key: KEY });
    const ability = JSON.parse((await postRaw(sim.port, JSON.stringify(msg("Appliance.System.Ability", "GET", {}, KEY)))).text) as Envelope;
    const list = (ability.payload as { ability: Record<string, unknown> }).ability;
    assert.ok("Appliance.Encrypt.ECDHE" in list && "Appliance.Encrypt.Suite" in list && "Appliance.Config.WifiX" in list);
    const suite = JSON.parse((await postRaw(sim.port, JSON.stringify(msg("Appliance.Encrypt.Suite", "GET", {}, KEY)))).text) as Envelope;
    assert.deepEqual(suite.payload, { suite: { ka: "ecdhe256", se: "mrskey", ds: "" } });
  });

  it("configured: answers requests encrypted with the static key, encrypted, as text/plain", async () => {
    const sim = await start({ model: "hp110a", key: KEY });
    const { res, reply } = await sendEncrypted(sim, staticKeyOf(sim), "Appliance.System.All", "GET");
    assert.match(String(res.headers["content-type"]), /^text\/plain/);
    assert.doesNotMatch(res.text, /hp110a/);
    assert.equal(reply.header.method, "GETACK");
    assert.equal((reply.payload as { all: { system: { hardware: { type: string } } } }).all.system.hardware.type, "hp110ahk");
  });

  it("configured: ciphertext under another key gets an encrypted 5001 that only the device key opens", async () => {
    const sim = await start({ model: "mss110", key: KEY });
    const res = await postRaw(
      sim.port,
      encryptMessageBase64(JSON.stringify(msg("Appliance.System.All", "GET", {}, "other")), staticKeyOf(sim, "other")),
    );
    assert.throws(() => JSON.parse(decryptMessageBase64(res.text, staticKeyOf(sim, "other"))));
    const reply = JSON.parse(decryptMessageBase64(res.text, staticKeyOf(sim))) as Envelope;
    assert.equal(reply.header.method, "ERROR");
    assert.deepEqual((reply.payload as { error: { code: number } }).error.code, 5001);
  });

  it("pairing mode: only the ECDHE session key opens it; the session key is forgotten at the reboot", async () => {
    const sim = await start({ model: "mss110", unconfigured: true });
    // No exchange yet: a static-key request is dropped, there is no key to answer with.
    const before = await rawExchange(
      sim.port,
      httpRequestText(encryptMessageBase64(JSON.stringify(msg("Appliance.System.All", "GET", {}, "")), staticKeyOf(sim, ""))),
    );
    assert.equal(before.length, 0);

    const client = ecdhKeyPair();
    const ex = JSON.parse(
      (
        await postRaw(
          sim.port,
          JSON.stringify(msg("Appliance.Encrypt.ECDHE", "SET", { ecdhe: { step: 1, pubkey: client.publicKeyBase64 } }, "")),
        )
      ).text,
    ) as Envelope;
    const devicePub = (ex.payload as { ecdhe: { pubkey: string } }).ecdhe.pubkey;
    const session = ecdhSessionKey(client.privateKey, devicePub);
    const { reply } = await sendEncrypted(sim, session, "Appliance.Config.WifiList", "GET", {}, "");
    assert.equal(reply.header.method, "GETACK");

    // A failed join keeps it in pairing mode, where unreadable requests get no answer.
    sim.expectWifiPassword("HomeNet", "the-right-one");
    const rebooted = new Promise((r) => sim.once("reboot", r));
    await sendEncrypted(
      sim,
      session,
      "Appliance.Config.Wifi",
      "SET",
      { wifi: { ssid: Buffer.from("HomeNet").toString("base64"), password: Buffer.from("wrong-password").toString("base64") } },
      "",
    );
    await rebooted;
    assert.equal(sim.mode, "ap");
    const after = await rawExchange(
      sim.port,
      httpRequestText(encryptMessageBase64(JSON.stringify(msg("Appliance.System.All", "GET", {}, "")), session)),
    );
    assert.equal(after.length, 0, "a new boot needs a new exchange");
  });

  it("the catalogue marks the encrypted models, and --list-models says so", () => {
    assert.deepEqual(
      Object.values(MODELS)
        .filter((m) => m.encrypted)
        .map((m) => m.name)
        .sort(),
      ["hp110a", "mss110", "mss110v8"],
    );
    for (const m of Object.values(MODELS)) assert.equal(m.encrypted, "Appliance.Encrypt.ECDHE" in m.ability, m.name);
    const lines = formatModels().split("\n");
    assert.match(lines.find((l) => l.startsWith("mss110")) ?? "", /encrypted/);
    assert.match(lines.find((l) => l.startsWith("hp110a")) ?? "", /encrypted/);
    assert.doesNotMatch(lines.find((l) => l.startsWith("msl120")) ?? "", /encrypted/);
  });
});
