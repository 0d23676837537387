/**
 * Hostile clients on the LAN against the embedded broker and against a fleet on an existing
 * broker: impersonation, stolen client ids, snooping subscriptions, publishes for other
 * devices, oversize and silent connections, and floods of invented devices. Each attack must
 * be refused or ignored with a reason, leave the real device's session and address alone,
 * and keep memory bounded.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import mqtt from "mqtt";
import { Aedes } from "aedes";
import { generateCertificates, type Certificates } from "../../../src/core/broker/certs";
import { MerossBroker, type RefusedEvent } from "../../../src/core/broker/broker";
import { IDENTITY_FILE, IDENTITY_LIMIT, IdentityBook } from "../../../src/core/broker/identity";
import { DeviceTopicRules } from "../../../src/core/broker/topics";
import { PacketSizeWatch } from "../../../src/core/broker/limits";
import { EmbeddedFleet, ExistingFleet, type EmbeddedSettings } from "../../../src/core/fleet";
import type { BrokerRefusal } from "../../../src/core/fleet/types";
import { buildMessage, type Envelope } from "../../../src/core/protocol/message";
import type { MqttConnection } from "../../../src/core/transport/mqtt";
import { DeviceLink } from "../../../src/core/link/device-link";
import { MerossDevice, NS } from "../../../src/core/session/device";
import { buildConfigKeyPayload } from "../../../src/core/onboarding/config";
import { SimulatedDevice } from "../../../src/simulator";
import { DEVICE_A, FakeDevice } from "./fake_device";
import { nextEvent } from "../fleet/helpers";
import { freePort } from "../../cli/helpers";

const VICTIM = DEVICE_A;
/** A device of the same household with its own valid key: the insider. */
const ATTACKER = { uuid: "1912174206936125185848e1e9aa0001", mac: "48:e1:e9:aa:00:01", key: "attacker-own-key" };
/** A device nobody has bound yet. */
const LONER = { uuid: "1912174206936125185848e1e9b62c49", mac: "48:e1:e9:b6:2c:49", key: "" };
const SETTINGS: EmbeddedSettings = { port: 0, host: "127.0.0.1", certHost: "127.0.0.1", allowAnonymous: false };
/** RSS may grow this much while an attack runs (the whole test process; an unbounded buffer grows by the attack's size). */
const RSS_BOUND = 96 * 1024 * 1024;

function bindOf(d: { uuid: string; mac: string }): Record<string, unknown> {
  return {
    bind: { hardware: { type: "mss310", macAddress: d.mac, uuid: d.uuid }, firmware: { version: "2.1.4", innerIp: "192.168.1.50" } },
  };
}

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "meross-hostile-"));
}

describe("hostile clients on the LAN", function () {
  this.timeout(60_000);
  let certs: Certificates;
  const devices: FakeDevice[] = [];
  const dirs: string[] = [];

  before(() => {
    certs = generateCertificates({ host: "127.0.0.1" });
  });
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close().catch(() => undefined)));
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  async function login(
    port: number,
    d: { uuid: string; mac: string; key: string },
    extra: { clientId?: string; localAddress?: string } = {},
  ): Promise<FakeDevice> {
    const dev = await FakeDevice.connect({ port, ...d, ...extra });
    devices.push(dev);
    return dev;
  }

  describe("embedded broker: who may be which device", () => {
    let fleet: EmbeddedFleet;
    let port: number;
    let conn: MqttConnection;
    let victim: FakeDevice;
    let refused: BrokerRefusal[];
    let dir: string;

    async function startFleet(acceptEmptyKey = false, sameDir = false): Promise<void> {
      if (!sameDir) {
        dir = tmpDir();
        dirs.push(dir);
      }
      fleet = new EmbeddedFleet({
        settings: () => SETTINGS,
        certs: () => certs,
        trust: { acceptEmptyKey, identityFile: path.join(dir, IDENTITY_FILE) },
      });
      // Both keys are known to the broker (two configs, or an onboarding node), and so is the empty key.
      fleet.useKeys("cfg-victim", () => [VICTIM.key]);
      fleet.useKeys("cfg-attacker", () => [ATTACKER.key]);
      fleet.useKeys("onboard-without-key", () => [""]);
      port = (await fleet.endpoint()).port;
      conn = await fleet.connection();
      refused = [];
      fleet.events.on("refused", (r) => refused.push(r));
      const bound = nextEvent(fleet.events, "device", (p) => p.uuid === VICTIM.uuid && p.model === "mss310");
      victim = await login(port, VICTIM);
      await victim.publish(victim.message("SET", "Appliance.Control.Bind", bindOf(VICTIM)));
      await bound;
    }
    afterEach(() => fleet.close());

    /** The real device still gets Node-RED's requests, and its presence is what it was. */
    async function victimUntouched(before: ReturnType<EmbeddedFleet["device"]>): Promise<void> {
      const req = buildMessage({ method: "GET", namespace: "Appliance.System.All", payload: {}, key: VICTIM.key, from: conn.replyTopic });
      await conn.publish(`/appliance/${VICTIM.uuid}/subscribe`, req);
      await victim.next((e) => e.header.messageId === req.header.messageId);
      assert.equal(victim.client.connected, true, "the real device stays connected");
      assert.deepEqual(fleet.device(VICTIM.uuid), before, "its presence (address, since, listening) is unchanged");
    }

    it("refuses a login under a bound uuid with the attacker's own valid key, saying why", async () => {
      await startFleet();
      const before = fleet.device(VICTIM.uuid);
      const moved: string[] = [];
      fleet.events.on("device", (p) => moved.push(p.uuid));
      await assert.rejects(login(port, { ...VICTIM, key: ATTACKER.key }, { clientId: `fmware:${VICTIM.uuid}_attacker00000000` }));
      await until(() => refused.length > 0, "the refusal");
      assert.match(refused[0].reason, new RegExp(`device ${VICTIM.uuid} is bound to another key`));
      assert.equal(refused[0].uuid, VICTIM.uuid);
      assert.ok(!JSON.stringify(refused).includes(ATTACKER.key) && !JSON.stringify(refused).includes(VICTIM.key), "no key in the reason");
      // Under the victim's uuid with its own MAC as user name: the uuid is not its own.
      await assert.rejects(login(port, { ...ATTACKER, uuid: VICTIM.uuid }));
      await until(() => refused.length > 1, "the second refusal");
      assert.match(refused[1].reason, /is not that device's MAC 48:e1:e9:d5:84:42/);
      await victimUntouched(before);
      assert.deepEqual(moved, [], "no device event: nobody's address was followed");
      assert.equal(fleet.refusals().count, 2);
      const stored = fs.readFileSync(path.join(dir, IDENTITY_FILE), "utf8");
      assert.equal(fs.statSync(path.join(dir, IDENTITY_FILE)).mode & 0o777, 0o600);
      assert.ok(stored.includes(VICTIM.uuid) && !stored.includes(VICTIM.key), "the binding is kept, the key is not");
    });

    it("keeps the binding across a restart, in a file only its owner can read", async () => {
      await startFleet();
      await fleet.close();
      await startFleet(false, true);
      await assert.rejects(login(port, { ...VICTIM, key: ATTACKER.key }, { clientId: `fmware:${VICTIM.uuid}_afterrestart0000` }));
      await until(() => refused.length > 0, "the refusal");
      assert.match(refused[0].reason, /bound to another key \(since \d{4}-\d\d-\d\d, learnt from its signed Bind\)/);
      assert.match(
        refused[0].reason,
        /enter its uuid and new key in its meross-config, or delete its entry from .*device-identities\.json/,
      );
    });

    it("a key that a node names for the uuid replaces a learnt binding, and then no other key opens it", async () => {
      await startFleet();
      // The device was onboarded again with a new key; its meross-config now names uuid and key.
      await victim.close();
      await until(() => fleet.device(VICTIM.uuid) === undefined, "the device to go offline");
      fleet.useKeys(
        "cfg-victim",
        () => ["the-new-key"],
        () => VICTIM.uuid,
      );
      victim = await login(port, { ...VICTIM, key: "the-new-key" });
      await until(() => fleet.isListening(VICTIM.uuid), "the re-keyed device");
      assert.equal(refused.length, 0);
      await assert.rejects(login(port, { ...VICTIM, key: ATTACKER.key }, { clientId: `fmware:${VICTIM.uuid}_attacker00000000` }));
      await until(() => refused.length > 0, "the refusal");
      assert.match(refused[0].reason, /has another key in its meross-config/);
    });

    it("refuses the empty key unless the option is on, and a bound uuid even then", async () => {
      await startFleet();
      await assert.rejects(login(port, LONER));
      await assert.rejects(login(port, { ...VICTIM, key: "" }));
      await until(() => refused.length >= 2, "two refusals");
      for (const r of refused.slice(0, 2)) assert.match(r.reason, /empty key, which anyone can compute/);
      assert.equal(fleet.device(LONER.uuid), undefined);
      await fleet.close();

      await startFleet(true);
      await login(port, LONER);
      await until(() => fleet.device(LONER.uuid) !== undefined, "the keyless device, accepted by choice");
      const before = fleet.device(VICTIM.uuid);
      await assert.rejects(login(port, { ...VICTIM, key: "" }, { clientId: `fmware:${VICTIM.uuid}_emptykey0000000` }));
      await until(() => refused.length > 0, "the refusal");
      assert.match(refused[0].reason, /bound to another key/);
      await victimUntouched(before);
    });

    it("a reused client id never kicks the real device off: not with another key, not from another address", async () => {
      await startFleet();
      const before = fleet.device(VICTIM.uuid);
      const kicked: string[] = [];
      victim.client.on("close", () => kicked.push("close"));
      const sameId = `fmware:${VICTIM.uuid}_dm1u3toPGXwyoY6K`;
      await assert.rejects(login(port, { ...VICTIM, key: ATTACKER.key }, { clientId: sameId }));
      // Households often share one key: the same key from another machine still does not displace the live device.
      await assert.rejects(login(port, VICTIM, { clientId: sameId, localAddress: "127.0.0.2" }));
      await until(() => refused.length >= 2, "two refusals");
      assert.match(refused[1].reason, /already connected from 127\.0\.0\.1; a second login from 127\.0\.0\.2 is refused/);
      await victimUntouched(before);
      assert.deepEqual(kicked, []);
    });

    it("a device may subscribe only to its own request topic: no wildcards, no other device, no reply topic", async () => {
      await startFleet();
      const attacker = await login(port, ATTACKER);
      const heard: string[] = [];
      attacker.client.on("message", (topic) => heard.push(topic));
      const topics = [
        "#",
        "/appliance/+/subscribe",
        "/appliance/+/publish",
        `/appliance/${VICTIM.uuid}/subscribe`,
        `/appliance/${VICTIM.uuid}/publish`,
        conn.replyTopic,
        "/app/#",
      ];
      for (const t of topics) {
        // SUBACK 0x80: the broker refused this one (mqtt.js turns it into an error carrying the SUBACK).
        const refusedSub = (e: { packet?: { granted?: number[] } }): boolean => e.packet?.granted?.[0] === 128;
        await assert.rejects(attacker.client.subscribeAsync(t, { qos: 1 }), refusedSub, `subscribing to ${t}`);
      }
      assert.ok(
        refused.some((r) => /may subscribe only to \/appliance\/1912174206936125185848e1e9aa0001\/subscribe, not to #/.test(r.reason)),
      );

      // The victim answers a request on Node-RED's reply topic; then the attacker gets a request of its own.
      victim.answer((req) => victim.message("GETACK", req.header.namespace, { all: {} }, { messageId: req.header.messageId }), "from");
      const replied = new Promise<void>((resolve) => conn.events.on("message", (ev) => ev.uuid === VICTIM.uuid && resolve()));
      await conn.publish(
        `/appliance/${VICTIM.uuid}/subscribe`,
        buildMessage({ method: "GET", namespace: "Appliance.System.All", payload: {}, key: VICTIM.key, from: conn.replyTopic }),
      );
      await replied;
      const own = buildMessage({ method: "GET", namespace: "Appliance.System.All", payload: {}, key: ATTACKER.key, from: conn.replyTopic });
      await conn.publish(`/appliance/${ATTACKER.uuid}/subscribe`, own);
      await attacker.next((e) => e.header.messageId === own.header.messageId);
      assert.deepEqual(heard, [`/appliance/${ATTACKER.uuid}/subscribe`], "it heard only its own request");
    });

    for (const [what, topic] of [
      ["the victim's state topic", `/appliance/${VICTIM.uuid}/publish`],
      ["the victim's command topic", `/appliance/${VICTIM.uuid}/subscribe`],
      ["a reply topic no request named", "/app/evil-1234/subscribe"],
    ] as const) {
      it(`a device publishing on ${what} is disconnected and nothing reaches the victim's session`, async () => {
        await startFleet();
        const before = fleet.device(VICTIM.uuid);
        const pushes: string[] = [];
        fleet.events.on("push", (p) => pushes.push(p.uuid));
        const attacker = await login(port, ATTACKER);
        const closed = new Promise<void>((resolve) => attacker.client.once("close", () => resolve()));
        const fake = buildMessage({
          method: "PUSH",
          namespace: "Appliance.Control.ToggleX",
          payload: { togglex: [{ channel: 0, onoff: 1 }] },
          key: VICTIM.key,
          from: `/appliance/${VICTIM.uuid}/publish`,
        });
        attacker.client.publish(topic, JSON.stringify(fake), { qos: 1 });
        await closed;
        await until(() => refused.length > 0, "the refusal");
        assert.match(refused[0].reason, /may publish only on \/appliance\/1912174206936125185848e1e9aa0001\/publish/);
        const marker = nextEvent(fleet.events, "push", (p) => p.uuid === VICTIM.uuid);
        await victim.publish(victim.message("PUSH", "Appliance.System.Report", { report: [] }));
        await marker;
        assert.deepEqual(pushes, [VICTIM.uuid], "only the real device's own push");
        assert.equal(
          victim.received.some((e) => e.header.messageId === fake.header.messageId),
          false,
          "no forged command reached it",
        );
        await victimUntouched(before);
      });
    }

    it("drops a device that publishes more than 64 KiB, and keeps serving the others", async () => {
      await startFleet();
      const before = fleet.device(VICTIM.uuid);
      const messages: Envelope[] = [];
      conn.events.on("message", (ev) => messages.push(ev.envelope));
      const attacker = await login(port, ATTACKER);
      const closed = new Promise<void>((resolve) => attacker.client.once("close", () => resolve()));
      attacker.client.publish(`/appliance/${ATTACKER.uuid}/publish`, "x".repeat(70 * 1024), { qos: 1 });
      await closed;
      await until(() => refused.length > 0, "the refusal");
      assert.match(refused[0].reason, /sent an MQTT packet over \d+ bytes/);
      assert.deepEqual(messages, []);
      await victimUntouched(before);
    });
  });

  describe("embedded broker: squatting a uuid nobody has proven", () => {
    /** The device the squatter names: offline, never bound. */
    const GENUINE = { uuid: "1912174206936125185848e1e9cc0007", mac: "48:e1:e9:cc:00:07", key: VICTIM.key };
    let fleet: EmbeddedFleet;
    let port: number;
    let file: string;
    let refused: BrokerRefusal[];
    const gone: string[] = [];
    const cleanup: Array<() => Promise<void>> = [];

    beforeEach(async () => {
      const dir = tmpDir();
      dirs.push(dir);
      file = path.join(dir, IDENTITY_FILE);
      fleet = new EmbeddedFleet({ settings: () => SETTINGS, certs: () => certs, trust: { identityFile: file } });
      // The attacker's key is one the broker accepts (its own device's meross-config).
      fleet.useKeys("cfg-attacker", () => [ATTACKER.key]);
      port = (await fleet.endpoint()).port;
      refused = [];
      gone.length = 0;
      fleet.events.on("refused", (r) => refused.push(r));
      fleet.events.on("gone", (g) => gone.push(g.uuid));
    });
    afterEach(async () => {
      for (const c of cleanup.splice(0)) await c();
      await fleet.close();
    });

    /** Logs in under the genuine device's uuid and MAC with the attacker's key, from another machine, and sends a Bind. */
    async function squat(): Promise<FakeDevice> {
      const squatter = await login(
        port,
        { ...GENUINE, key: ATTACKER.key },
        { clientId: `fmware:${GENUINE.uuid}_squatter00000000`, localAddress: "127.0.0.2" },
      );
      await squatter.publish(squatter.message("SET", "Appliance.Control.Bind", bindOf(GENUINE)));
      await until(() => fleet.device(GENUINE.uuid)?.model === "mss310", "the squatter's Bind");
      return squatter;
    }

    /** What onboarding does: give the device this broker (it then dials it with its key). */
    async function pointAt(sim: SimulatedDevice): Promise<void> {
      const d = new MerossDevice({ address: sim.address, key: GENUINE.key });
      try {
        const payload = buildConfigKeyPayload({ host: "127.0.0.1", port, key: GENUINE.key, userId: "1" });
        await d.request("SET", NS.KEY, payload, { checkAbility: false });
      } finally {
        await d.close();
      }
    }

    it("binds nothing: a config without uuid learns none and follows no IP; the device then proves itself, logs in and is controlled", async () => {
      const httpPort = await freePort();
      const logs: string[] = [];
      const link = new DeviceLink({
        owner: "cfg-genuine",
        host: `127.0.0.1:${httpPort}`,
        carrier: "auto",
        fleet,
        key: GENUINE.key,
        retryMs: 200,
        log: (t) => logs.push(t),
      });
      cleanup.push(() => link.close());
      link.start();
      const squatter = await squat();
      assert.equal(fleet.device(GENUINE.uuid)?.proven, false, "the squatter's session is unproven");
      assert.equal(fleet.provenWith(GENUINE.uuid, GENUINE.key), false);
      assert.equal(new IdentityBook(file).proven(GENUINE.uuid), false, "its Bind is recorded as unproven only");
      assert.equal(link.uuid(), "", "the config learnt no uuid from the squatter");
      assert.equal(link.currentAddress(), `127.0.0.1:${httpPort}`, "and follows no address");

      // The genuine device comes back: the config reads its signed System.All over HTTP, which proves the uuid is its key's.
      const kicked = new Promise<void>((resolve) => squatter.client.once("close", () => resolve()));
      const sim = await SimulatedDevice.start({ key: GENUINE.key, model: "mss310", uuid: GENUINE.uuid, mac: GENUINE.mac, port: httpPort });
      cleanup.push(() => sim.stop());
      await until(() => link.uuid() === GENUINE.uuid, "the config to read the device over HTTP");
      await kicked;
      assert.ok(
        refused.some((r) => /unproven session from 127\.0\.0\.2 was closed: proof for that uuid names another key/.test(r.reason)),
        refused.map((r) => r.reason).join("\n"),
      );
      assert.equal(new IdentityBook(file).proven(GENUINE.uuid), true, "the proof is in the identity book");

      await pointAt(sim);
      await until(() => fleet.isListening(GENUINE.uuid) && sim.mqttState === "connected", "the genuine device on the broker");
      assert.equal(fleet.device(GENUINE.uuid)?.proven, true);
      assert.equal(fleet.device(GENUINE.uuid)?.ip, "127.0.0.1");
      const d = await link.getDevice();
      await d.setToggle(0, true);
      assert.equal(sim.state.channels[0].on, true, "the device was switched");
      assert.equal(link.path(), "mqtt", "over its own MQTT session");
      assert.ok(!logs.some((t) => t.includes("127.0.0.2")), logs.join("\n"));

      // The squatter cannot come back.
      await assert.rejects(
        login(port, { ...GENUINE, key: ATTACKER.key }, { localAddress: "127.0.0.2", clientId: `fmware:${GENUINE.uuid}_again` }),
      );
      await until(() => refused.some((r) => /has another key in its meross-config/.test(r.reason)), "the refusal");
      assert.equal(fleet.device(GENUINE.uuid)?.ip, "127.0.0.1");
    });

    it("a login proven for the uuid takes it over from an unproven squatter, which is disconnected", async () => {
      const squatter = await squat();
      const kicked = new Promise<void>((resolve) => squatter.client.once("close", () => resolve()));
      // A meross-config with the device's key comes to know its uuid (read elsewhere, before the device logs in).
      let named = "";
      fleet.useKeys(
        "cfg-genuine",
        () => [GENUINE.key],
        () => named,
      );
      named = GENUINE.uuid;
      assert.equal(squatter.client.connected, true, "the squatter is still on when the device logs in");
      const genuine = await login(port, GENUINE);
      await kicked;
      await until(() => fleet.isListening(GENUINE.uuid), "the genuine device to listen");
      assert.deepEqual(
        { ip: fleet.device(GENUINE.uuid)?.ip, proven: fleet.device(GENUINE.uuid)?.proven },
        { ip: "127.0.0.1", proven: true },
      );
      assert.equal(fleet.provenWith(GENUINE.uuid, GENUINE.key), true);
      assert.deepEqual(gone, [], "the uuid never went away: the proven session replaced the squatter's");
      assert.ok(refused.some((r) => /unproven session from 127\.0\.0\.2 was closed: a login proven to be that device/.test(r.reason)));
      const conn = await fleet.connection();
      const req = buildMessage({ method: "GET", namespace: "Appliance.System.All", payload: {}, key: GENUINE.key, from: conn.replyTopic });
      await conn.publish(`/appliance/${GENUINE.uuid}/subscribe`, req);
      await genuine.next((e) => e.header.messageId === req.header.messageId);
      const stored = new IdentityBook(file).get(GENUINE.uuid);
      assert.equal(stored?.source, "config");
    });

    it("a node that comes to name the uuid and its key puts an unproven squatter with another key out at once", async () => {
      const squatter = await squat();
      const kicked = new Promise<void>((resolve) => squatter.client.once("close", () => resolve()));
      fleet.useKeys(
        "cfg-genuine",
        () => [GENUINE.key],
        () => GENUINE.uuid,
      );
      await kicked;
      await until(() => fleet.device(GENUINE.uuid) === undefined, "the squatter's presence to go");
      assert.deepEqual(gone, [GENUINE.uuid]);
      assert.ok(refused.some((r) => /unproven session from 127\.0\.0\.2 was closed: proof for that uuid names another key/.test(r.reason)));
    });

    it("a second session closing never makes the first one gone: refused or replaced, presence follows the live session", async () => {
      fleet.useKeys("cfg-genuine", () => [GENUINE.key]);
      const first = await login(port, GENUINE, { clientId: `fmware:${GENUINE.uuid}_first0000000000` });
      await until(() => fleet.isListening(GENUINE.uuid), "the first session");
      await first.publish(first.message("SET", "Appliance.Control.Bind", bindOf(GENUINE)));
      // A second login from the same address with another accepted key: refused, and its close changes nothing.
      await assert.rejects(login(port, { ...GENUINE, key: ATTACKER.key }, { clientId: `fmware:${GENUINE.uuid}_second000000000` }));
      await until(() => refused.length > 0, "the refusal");
      assert.equal(fleet.isListening(GENUINE.uuid), true);
      assert.equal(first.client.connected, true);
      // The same device again (a reconnect while its old connection is half-open): it replaces the first session.
      const firstClosed = new Promise<void>((resolve) => first.client.once("close", () => resolve()));
      const second = await login(port, GENUINE, { clientId: `fmware:${GENUINE.uuid}_second111111111` });
      await firstClosed;
      await until(() => fleet.isListening(GENUINE.uuid), "the second session to listen");
      assert.deepEqual(gone, [], "the first session's close did not make the device gone");
      const conn = await fleet.connection();
      const req = buildMessage({ method: "GET", namespace: "Appliance.System.All", payload: {}, key: GENUINE.key, from: conn.replyTopic });
      await conn.publish(`/appliance/${GENUINE.uuid}/subscribe`, req);
      await second.next((e) => e.header.messageId === req.header.messageId);
      await second.close();
      await until(() => gone.length > 0, "gone once the live session closes");
      assert.deepEqual(gone, [GENUINE.uuid]);
    });
  });

  it("packet sizes are read from MQTT headers, across chunk boundaries, before the body arrives", () => {
    const w = new PacketSizeWatch(4096);
    // Two small packets in one chunk (PINGREQ, then a 3-byte PUBACK-like packet), then a 200-byte packet split mid-header.
    assert.equal(w.feed(Buffer.from([0xc0, 0x00, 0x40, 0x02, 0x00, 0x01, 0x30])), true);
    assert.equal(w.feed(Buffer.from([0xc8])), true);
    assert.equal(w.feed(Buffer.concat([Buffer.from([0x01]), Buffer.alloc(200)])), true);
    // 5000 bytes announced (0x88 0x27): refused on the header alone.
    assert.equal(w.feed(Buffer.from([0x10, 0x88, 0x27])), false);
    const malformed = new PacketSizeWatch(1 << 30);
    assert.equal(malformed.feed(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01])), false, "a fifth length byte is malformed");
  });

  it("topic rules: a device answers on the `from` of requests sent to it, never on another device's topics", () => {
    const rules = new DeviceTopicRules((uuid) => uuid === ATTACKER.uuid);
    const request = (from: string): string => JSON.stringify({ header: { from, messageId: "x" }, payload: {} });
    for (const from of [
      "/app/42-abc/subscribe",
      "/appliance/meross_lan/publish",
      `/appliance/${VICTIM.uuid}/publish`,
      `/appliance/${VICTIM.uuid}/subscribe`,
    ]) {
      rules.noteRequest(`/appliance/${ATTACKER.uuid}/subscribe`, request(from));
    }
    assert.equal(rules.publishRefusal(ATTACKER.uuid, "/app/42-abc/subscribe"), undefined);
    assert.equal(
      rules.publishRefusal(ATTACKER.uuid, "/appliance/meross_lan/publish"),
      undefined,
      "[ML]'s reply topic (docs/protocol.md §1.4)",
    );
    assert.match(rules.publishRefusal(ATTACKER.uuid, `/appliance/${VICTIM.uuid}/publish`) ?? "", /may publish only on/);
    assert.match(rules.publishRefusal(ATTACKER.uuid, `/appliance/${VICTIM.uuid}/subscribe`) ?? "", /may publish only on/);
    assert.match(
      rules.publishRefusal(VICTIM.uuid, "/app/42-abc/subscribe") ?? "",
      /may publish only on/,
      "a request to another device teaches this one nothing",
    );
    rules.forget(ATTACKER.uuid);
    assert.match(rules.publishRefusal(ATTACKER.uuid, "/app/42-abc/subscribe") ?? "", /may publish only on/, "forgotten at logout");
  });

  describe("embedded broker: clients that do not log in", () => {
    let broker: MerossBroker | undefined;
    const sockets: tls.TLSSocket[] = [];
    afterEach(async () => {
      for (const s of sockets.splice(0)) s.destroy();
      await broker?.stop();
      broker = undefined;
    });

    function rawTls(port: number, localAddress?: string): Promise<{ sock: tls.TLSSocket; secure: boolean }> {
      return new Promise((resolve) => {
        const raw = net.connect({ host: "127.0.0.1", port, localAddress });
        raw.on("error", () => undefined);
        const sock = tls.connect({ socket: raw, rejectUnauthorized: false });
        sockets.push(sock);
        sock.once("secureConnect", () => resolve({ sock, secure: true }));
        sock.once("error", () => undefined);
        sock.once("close", () => resolve({ sock, secure: false }));
      });
    }

    it("closes a client whose CONNECT announces 256 MB before reading it, and stays usable", async () => {
      broker = await MerossBroker.start({ port: 0, host: "127.0.0.1", certs, keys: [VICTIM.key] });
      const reasons: string[] = [];
      broker.events.on("refused", (r: RefusedEvent) => reasons.push(r.reason));
      const rss0 = process.memoryUsage().rss;
      // The attacker has its own address on the LAN (here 127.0.0.3); the victim keeps 127.0.0.1.
      const { sock, secure } = await rawTls(broker.port, "127.0.0.3");
      assert.ok(secure);
      let closed = false;
      sock.once("close", () => (closed = true));
      // CONNECT with a remaining length of 268,435,455 bytes (the MQTT maximum), then a body that keeps coming.
      sock.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      let written = 0;
      while (!closed && written < 64 * 1024 * 1024) {
        if (!sock.write(chunk) && !closed) {
          await new Promise<void>((resolve) => {
            const go = (): void => {
              sock.off("drain", go).off("close", go);
              resolve();
            };
            sock.once("drain", go).once("close", go);
          });
        }
        written += chunk.length;
      }
      await until(() => closed, "the oversize client to be dropped");
      assert.ok(written < 16 * 1024 * 1024, `the broker dropped it early (after ${written} bytes were written)`);
      assert.ok(
        reasons.some((r) => /sent an MQTT packet over 4096 bytes/.test(r)),
        reasons.join("; "),
      );
      assert.ok(process.memoryUsage().rss - rss0 < RSS_BOUND, "memory stayed bounded");
      // Its next connections are closed before a TLS handshake (a flood of handshakes is the attack) ...
      assert.equal((await rawTls(broker.port, "127.0.0.3")).secure, false, "the offending address is cooled down");
      // ... while every other address is served as before.
      await login(broker.port, VICTIM);
      assert.deepEqual(
        broker.devices().map((d) => d.uuid),
        [VICTIM.uuid],
      );
    });

    it("holds at most 8 connections per address that have not logged in, and drops them at the deadline", async () => {
      broker = await MerossBroker.start({ port: 0, host: "127.0.0.1", certs, keys: [VICTIM.key], limits: { loginDeadlineMs: 1500 } });
      const reasons: string[] = [];
      broker.events.on("refused", (r: RefusedEvent) => reasons.push(r.reason));
      const silent = await Promise.all(Array.from({ length: 12 }, () => rawTls(broker!.port)));
      assert.equal(silent.filter((s) => s.secure).length, 8, "eight wait; the rest are closed at once");
      assert.ok(reasons.some((r) => /more than 8 connections from 127\.0\.0\.1 were waiting to log in/.test(r)));
      // Another machine is not locked out by this one.
      await login(broker.port, VICTIM, { localAddress: "127.0.0.2" });
      await until(() => silent.every((s) => s.sock.destroyed), "the silent clients to be dropped at the deadline");
      assert.ok(
        reasons.some((r) => /did not log in within 2 s/.test(r)),
        reasons.join("; "),
      );
      assert.deepEqual(
        broker.devices().map((d) => d.ip),
        ["127.0.0.2"],
      );
    });
  });

  describe("existing broker: messages nobody can vouch for", () => {
    let aedes: Aedes | undefined;
    let server: net.Server | undefined;
    let fleet: ExistingFleet | undefined;
    afterEach(async () => {
      await fleet?.close();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      await new Promise<void>((r) => (aedes ? aedes.close(() => r()) : r()));
      fleet = undefined;
      server = undefined;
      aedes = undefined;
    });

    it("2,050 invented uuids Bound with one accepted key cannot keep a genuine device's proof out, nor let an impostor in, across a restart", async function () {
      // Each believed Bind gets its SETACK and System.Time (time-zone rules): slow on a busy machine, not a speed target.
      this.timeout(180_000);
      const a = await Aedes.createBroker();
      aedes = a;
      const srv = net.createServer((sock) => a.handle(sock));
      server = srv;
      await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
      const port = (srv.address() as net.AddressInfo).port;
      const dir = tmpDir();
      dirs.push(dir);
      const file = path.join(dir, IDENTITY_FILE);
      const start = async (): Promise<ExistingFleet> => {
        const f = new ExistingFleet({ settings: () => ({ url: `mqtt://127.0.0.1:${port}` }), trust: { identityFile: file } });
        fleet = f;
        f.useKeys("cfg-attacker", () => [ATTACKER.key]);
        await f.connection().then((c) => c.waitOnline());
        return f;
      };
      const bind = (key: string, d: { uuid: string; mac: string }): string =>
        JSON.stringify(
          buildMessage({
            method: "SET",
            namespace: "Appliance.Control.Bind",
            payload: bindOf(d),
            key,
            from: `/appliance/${d.uuid}/publish`,
          }),
        );
      let f = await start();
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
      const rss0 = process.memoryUsage().rss;
      const N = 2050;
      for (let i = 0; i < N; i++) {
        const hex = (0x48e1e9000000 + i).toString(16);
        const d = { uuid: `19121742069361251858${hex}`, mac: hex.match(/../g)!.join(":") };
        await client.publishAsync(`/appliance/${d.uuid}/publish`, bind(ATTACKER.key, d), { qos: 0 });
      }
      const last = `19121742069361251858${(0x48e1e9000000 + N - 1).toString(16)}`;
      await until(() => f.device(last) !== undefined, "the flood to be read", 170_000);
      assert.ok(process.memoryUsage().rss - rss0 < RSS_BOUND, "memory stayed bounded");

      // The genuine device's meross-config names its uuid and key; its signed Bind is the proof, and it is recorded.
      f.useKeys(
        "cfg-victim",
        () => [VICTIM.key],
        () => VICTIM.uuid,
      );
      const seen = nextEvent(f.events, "device", (p) => p.uuid === VICTIM.uuid && p.proven === true);
      await client.publishAsync(`/appliance/${VICTIM.uuid}/publish`, bind(VICTIM.key, VICTIM));
      await seen;
      const impostor = { uuid: VICTIM.uuid, mac: VICTIM.mac };
      await client.publishAsync(`/appliance/${VICTIM.uuid}/publish`, bind(ATTACKER.key, impostor));
      await until(
        () => f.refusals().recent.some((r) => /not signed with the key its meross-config names/.test(r.reason)),
        "the impostor ignored",
      );
      await f.close();

      const book = new IdentityBook(file);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      assert.ok(book.size <= IDENTITY_LIMIT, `the book stays bounded (${book.size})`);
      assert.equal(book.proven(VICTIM.uuid), true, "the genuine device's proof survived the flood and the restart");
      assert.ok(book.unproven().length > 2000, "the flood's entries are kept only as unproven");

      // After a restart, with the victim's key known but no longer named for its uuid: the book alone keeps the impostor out.
      f = await start();
      f.useKeys("cfg-victim", () => [VICTIM.key]);
      await client.publishAsync(`/appliance/${VICTIM.uuid}/publish`, bind(ATTACKER.key, impostor));
      await until(() => f.refusals().recent.some((r) => /bound to another key/.test(r.reason)), "the impostor ignored after the restart");
      assert.equal(f.device(VICTIM.uuid), undefined, "the impostor made no entry");
      const back = nextEvent(f.events, "device", (p) => p.uuid === VICTIM.uuid);
      await client.publishAsync(`/appliance/${VICTIM.uuid}/publish`, bind(VICTIM.key, VICTIM));
      assert.equal((await back).proven, true, "the genuine device is believed, as proven");
      await client.endAsync(true);
    });

    it("10,000 invented devices create no entry; each message is counted, and the real device keeps its address", async () => {
      // An open broker without any login check: anyone may publish anything, as on a misconfigured Mosquitto.
      const a = await Aedes.createBroker();
      aedes = a;
      const srv = net.createServer((sock) => a.handle(sock));
      server = srv;
      await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
      const port = (srv.address() as net.AddressInfo).port;
      const dir = tmpDir();
      dirs.push(dir);
      const f = new ExistingFleet({
        settings: () => ({ url: `mqtt://127.0.0.1:${port}` }),
        trust: { identityFile: path.join(dir, IDENTITY_FILE) },
      });
      fleet = f;
      f.useKeys("cfg-victim", () => [VICTIM.key]);
      f.useKeys("cfg-attacker", () => [ATTACKER.key]);
      f.useKeys("onboard-without-key", () => [""]);
      await f.connection().then((c) => c.waitOnline());
      const logged: BrokerRefusal[] = [];
      f.events.on("refused", (r) => logged.push(r));

      const victim = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
      const signed = (key: string, uuid: string, payload: Record<string, unknown>, namespace = "Appliance.Control.Bind"): string =>
        JSON.stringify(
          buildMessage({
            method: namespace.endsWith("Bind") ? "SET" : "PUSH",
            namespace,
            payload,
            key,
            from: `/appliance/${uuid}/publish`,
          }),
        );
      const seen = nextEvent(f.events, "device", (p) => p.uuid === VICTIM.uuid);
      await victim.publishAsync(`/appliance/${VICTIM.uuid}/publish`, signed(VICTIM.key, VICTIM.uuid, bindOf(VICTIM)));
      const before = await seen;
      assert.equal(before.ip, "192.168.1.50");

      const attacker = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
      const rss0 = process.memoryUsage().rss;
      const N = 10_000;
      for (let i = 0; i < N; i++) {
        const hex = i.toString(16).padStart(12, "0");
        const uuid = `19121742069361251858${hex}`;
        const mac = hex.match(/../g)!.join(":");
        const kind = i % 4;
        const text =
          kind === 0
            ? JSON.stringify({
                header: { messageId: "m", namespace: "Appliance.Control.Bind", method: "SET", timestamp: 1, sign: "nope", from: "" },
                payload: bindOf({ uuid, mac }),
              })
            : kind === 1
              ? signed("", uuid, bindOf({ uuid, mac }))
              : kind === 2
                ? signed(ATTACKER.key, uuid, bindOf({ uuid, mac: "48:e1:e9:00:00:00" }))
                : signed(ATTACKER.key, VICTIM.uuid, { bind: { hardware: { macAddress: VICTIM.mac }, firmware: { innerIp: "10.6.6.6" } } });
        await attacker.publishAsync(`/appliance/${kind === 3 ? VICTIM.uuid : uuid}/publish`, text, { qos: 0 });
      }
      await until(() => f.refusals().count >= N, `${N} ignored messages (${f.refusals().count} so far)`, 60_000);
      assert.equal(f.refusals().count, N);
      assert.deepEqual(
        f.devices().map((d) => d.uuid),
        [VICTIM.uuid],
        "only the device that signed with its own key",
      );
      assert.equal(f.device(VICTIM.uuid)?.ip, "192.168.1.50", "the forged Bind did not move the real device");
      assert.ok(logged.length <= 11, `the log is not flooded (${logged.length} lines)`);
      const reasons = f
        .refusals()
        .recent.map((r) => r.reason)
        .join("\n");
      assert.match(reasons, /not signed with a known device key|signed with the empty key|is not the MAC in uuid|bound to another key/);
      assert.ok(process.memoryUsage().rss - rss0 < RSS_BOUND, "memory stayed bounded");
      const stored = JSON.parse(fs.readFileSync(path.join(dir, IDENTITY_FILE), "utf8")) as { devices: Record<string, unknown> };
      assert.deepEqual(Object.keys(stored.devices), [VICTIM.uuid]);
      await victim.endAsync(true);
      await attacker.endAsync(true);
    });
  });
});
