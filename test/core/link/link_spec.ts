import assert from "node:assert/strict";
import { TypedEvents } from "../../../src/core/events";
import { DeviceLink, type LinkStatus } from "../../../src/core/link/device-link";
import type { BrokerPresence, Fleet, FleetEvents } from "../../../src/core/fleet/types";
import type { DeviceEvent } from "../../../src/core/session/device";
import { buildMessage, type Envelope } from "../../../src/core/protocol/message";
import { BrokerTransport } from "../../../src/core/link/transports";
import { MqttConnection, type MqttLink, type MqttLinkHandlers } from "../../../src/core/transport/mqtt";
import { SimulatedDevice } from "../../../src/simulator";

const KEY = "link-spec-key-0042";

/** An MQTT link with no broker behind it: the test plays the device's pushes into it. */
class FakeMqttLink implements MqttLink {
  handlers: MqttLinkHandlers | undefined;
  readonly online = true;
  attach(h: MqttLinkHandlers): void {
    this.handlers = h;
  }
  async subscribe(): Promise<void> {}
  readonly published: string[] = [];
  async publish(topic: string, _payload: string): Promise<void> {
    this.published.push(topic);
  }
  async close(): Promise<void> {}
}

/** A Fleet that reports what the test tells it. */
class FakeFleet implements Fleet {
  readonly mode = "embedded" as const;
  readonly events = new TypedEvents<FleetEvents>();
  readonly presence = new Map<string, BrokerPresence>();
  readonly keys = new Map<string, () => readonly string[]>();
  readonly link = new FakeMqttLink();
  readonly conn = new MqttConnection(this.link, "fake broker");
  listening = false;
  connection = async (): Promise<MqttConnection> => this.conn;
  currentConnection = (): MqttConnection => this.conn;
  devices = (): BrokerPresence[] => [...this.presence.values()];
  device = (uuid: string): BrokerPresence | undefined => this.presence.get(uuid);
  watchDevice(uuid: string, fn: (p: BrokerPresence | undefined) => void): () => void {
    const offs = [
      this.events.on("device", (p) => void (p.uuid === uuid && fn(p))),
      this.events.on("gone", (g) => void (g.uuid === uuid && fn(undefined))),
    ];
    return () => offs.forEach((off) => off());
  }
  isListening = (): boolean => this.listening;
  endpoint = async (): Promise<{ host: string; port: number }> => ({ host: "127.0.0.1", port: 1 });
  useKeys(owner: string, keys: () => readonly string[]): () => void {
    this.keys.set(owner, keys);
    return () => this.keys.delete(owner);
  }
  secrets = (): string[] => [];
  /** Whether the device's live session was made with the link's key (false: a squatter with another key). */
  sessionKey = KEY;
  provenWith = (_uuid: string, key: string): boolean => key === this.sessionKey;
  readonly proofs: Array<{ uuid: string; mac?: string }> = [];
  prove(uuid: string, mac: string | undefined): void {
    this.proofs.push({ uuid, mac });
  }
  /** The device publishes `payload` as a PUSH of `namespace`. */
  push(uuid: string, namespace: string, payload: Record<string, unknown>): void {
    const env = buildMessage({ method: "PUSH", namespace, payload, key: KEY, from: `/appliance/${uuid}/publish` });
    this.link.handlers?.message(`/appliance/${uuid}/publish`, Buffer.from(JSON.stringify(env)));
  }
}

function nextState(link: DeviceLink, state: LinkStatus["state"]): Promise<LinkStatus> {
  return new Promise((resolve) => {
    const off = link.events.on("state", (s) => {
      if (s.state === state) {
        off();
        resolve(s);
      }
    });
  });
}

/** Resolves once the link's MQTT carrier has a per-device transport on the fleet's connection. */
function mqttAttached(link: DeviceLink): Promise<void> {
  return new Promise((resolve) => link.created.mqtt?.events.once("connection", () => resolve()));
}

describe("DeviceLink", function () {
  const sims: SimulatedDevice[] = [];
  const links: DeviceLink[] = [];
  afterEach(async () => {
    await Promise.all(links.splice(0).map((l) => l.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });

  async function sim(opts: Parameters<typeof SimulatedDevice.start>[0] = {}): Promise<SimulatedDevice> {
    const s = await SimulatedDevice.start({ key: KEY, model: "mss310", ...opts });
    sims.push(s);
    return s;
  }
  function link(opts: Partial<ConstructorParameters<typeof DeviceLink>[0]>): DeviceLink {
    const l = new DeviceLink({ owner: "c1", key: KEY, ...opts });
    links.push(l);
    return l;
  }

  it("reads the device once over HTTP when first wanted and reports ready with its model", async () => {
    const s = await sim();
    const l = link({ host: s.address });
    assert.equal(l.status.state, "connecting");
    const ready = nextState(l, "ready");
    l.start();
    l.start();
    assert.equal((await ready).text, s.model.type);
    assert.equal(l.uuid(), s.uuid, "the uuid is learnt from the device");
    assert.equal(s.requestCount, 2, "System.All and System.Ability, once");
    assert.equal(l.path(), "http");
    assert.equal((await l.getDevice()).info?.model, s.model.type);
  });

  it("refuses unusable settings with a sentence, before any request", async () => {
    const noBroker = link({ host: "127.0.0.1:1", carrier: "mqtt" });
    assert.equal(noBroker.status.state, "error");
    assert.equal(noBroker.setupError?.code, "BAD_CONFIG");
    assert.match(noBroker.setupError?.message ?? "", /needs an MQTT broker/);
    assert.equal(noBroker.setupError?.details.status, "broker configuration missing: pick one");
    await assert.rejects(noBroker.getDevice(), (e: Error & { code?: string }) => e.code === "BAD_CONFIG");
    const badUuid = link({ host: "127.0.0.1:1", uuid: "not-a-uuid" });
    assert.match(badUuid.setupError?.message ?? "", /32 letters and digits/);
    const nothing = link({ carrier: "mqtt", fleet: new FakeFleet() });
    assert.match(nothing.setupError?.message ?? "", /known by its uuid/);
  });

  it("with no address yet (an example not filled in), says so and contacts nothing", async () => {
    const blank = link({ host: "", name: "Example plug" });
    assert.equal(blank.status.state, "error");
    assert.equal(blank.setupError?.code, "BAD_CONFIG");
    assert.equal(blank.setupError?.details.status, "no address or key yet");
    assert.match(blank.setupError?.message ?? "", /open "Example plug" and enter its IP address and key/);
    blank.start();
    await assert.rejects(blank.getDevice(), (e: Error & { code?: string }) => e.code === "BAD_CONFIG");
    assert.equal(blank.device, undefined, "no session, so no transport that could send anything");
  });

  it("reports a failed first read and reads again later while the device is wanted", async () => {
    const probe = await SimulatedDevice.start({ key: KEY, model: "mss310" });
    const port = probe.port;
    await probe.stop();
    const l = link({ host: `127.0.0.1:${port}`, retryMs: 20 });
    const failed = nextState(l, "error");
    l.start();
    assert.equal((await failed).error?.code, "UNREACHABLE");
    const ready = nextState(l, "ready");
    const s = await sim({ port });
    assert.equal((await ready).text, s.model.type);
  });

  it("over MQTT, publishes nothing for a device not yet on the embedded broker, and reads it as soon as it logs in", async () => {
    const fleet = new FakeFleet();
    const uuid = "19111400000000000000" + "48e1e9aa0042";
    const l = link({ carrier: "mqtt", uuid, fleet, retryMs: 3_600_000 });
    const failed = nextState(l, "error");
    l.start();
    // The first read ends (the device is not on the broker) without a publish.
    const { error } = await failed;
    assert.deepEqual(fleet.link.published, [], `no request went into the void before the device connected (${error?.code})`);
    fleet.listening = true;
    fleet.events.emit("device", { uuid, listening: true, since: 1 });
    for (let i = 0; i < 100 && fleet.link.published.length === 0; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(fleet.link.published, [`/appliance/${uuid}/subscribe`], "the first read went out when the device arrived");
  });

  it("moves HTTP requests to the IP the fleet reports for this uuid, and to no other", async () => {
    const s = await sim();
    const fleet = new FakeFleet();
    const logs: string[] = [];
    const l = link({ host: `localhost:${s.port}`, fleet, log: (t) => logs.push(t) });
    const ready = nextState(l, "ready");
    l.start();
    assert.equal((await ready).text, `${s.model.type} · http`);
    fleet.events.emit("device", { uuid: "0".repeat(32), ip: "10.9.9.9", listening: true, since: 1 });
    assert.equal(l.currentAddress(), `localhost:${s.port}`, "another device's presence moves nothing");
    const moved = nextState(l, "ready");
    fleet.events.emit("device", { uuid: s.uuid, ip: "127.0.0.1", listening: true, since: 2 });
    assert.equal(l.currentAddress(), `127.0.0.1:${s.port}`);
    assert.equal(l.followedIp(), "127.0.0.1");
    assert.equal((await moved).text, `${s.model.type} · http · at 127.0.0.1`);
    assert.ok(logs.some((t) => t.includes("127.0.0.1")));
    const d = await l.getDevice();
    assert.equal((await d.getToggle(0)).on, false, "requests reach the device at its new address");
  });

  it("follows no IP for a session made with another key, and reports the uuid it read as proof", async () => {
    const s = await sim();
    const fleet = new FakeFleet();
    const logs: string[] = [];
    const l = link({ host: `localhost:${s.port}`, fleet, log: (t) => logs.push(t) });
    await l.getDevice();
    assert.deepEqual(fleet.proofs, [{ uuid: s.uuid, mac: s.mac }], "the signed System.All proves the uuid is this key's");
    // Someone logged in under the uuid with another accepted key: its address is not followed.
    fleet.sessionKey = "another-accepted-key";
    fleet.events.emit("device", { uuid: s.uuid, ip: "127.0.0.2", listening: true, since: 2 });
    assert.equal(l.currentAddress(), `localhost:${s.port}`);
    assert.deepEqual(logs, []);
  });

  it("follows the fleet's presence as soon as it learns the uuid", async () => {
    const s = await sim();
    const fleet = new FakeFleet();
    fleet.presence.set(s.uuid, { uuid: s.uuid, ip: "127.0.0.1", listening: false, since: 1 });
    const l = link({ host: `localhost:${s.port}`, fleet });
    await l.getDevice();
    assert.equal(l.currentAddress(), `127.0.0.1:${s.port}`);
  });

  it("applies pushes the broker carries while requests go over HTTP, once each", async () => {
    const s = await sim();
    const fleet = new FakeFleet();
    const l = link({ host: s.address, uuid: s.uuid, fleet });
    const attached = mqttAttached(l);
    const events: DeviceEvent[] = [];
    l.events.on("event", (ev) => events.push(ev));
    await attached;
    fleet.push(s.uuid, "Appliance.Control.ToggleX", { togglex: [{ channel: 0, onoff: 1 }] });
    assert.deepEqual(events, [{ type: "toggle", channel: 0, on: true, source: "push" }]);
    fleet.push("1".repeat(32), "Appliance.Control.ToggleX", { togglex: [{ channel: 0, onoff: 0 }] });
    assert.equal(events.length, 1, "another device's push is not ours");
  });

  it("on auto, a push reaches the session once (not again through the HTTP forwarding)", async () => {
    const s = await sim();
    const fleet = new FakeFleet();
    const l = link({ host: s.address, uuid: s.uuid, fleet, carrier: "auto" });
    const attached = mqttAttached(l);
    const events: DeviceEvent[] = [];
    l.events.on("event", (ev) => events.push(ev));
    await attached;
    fleet.push(s.uuid, "Appliance.Control.ToggleX", { togglex: [{ channel: 0, onoff: 1 }] });
    assert.equal(events.length, 1);
  });

  it("registers its key with the fleet and withdraws it and every listener on close", async () => {
    const s = await sim();
    const fleet = new FakeFleet();
    const l = link({ host: s.address, fleet, owner: "cfg-9" });
    assert.deepEqual(fleet.keys.get("cfg-9")?.(), [KEY]);
    l.events.on("state", () => undefined);
    await l.close();
    assert.equal(fleet.keys.size, 0);
    assert.equal(fleet.events.listenerCount(), 0, "no listener left on the fleet");
    assert.equal(l.events.listenerCount(), 0);
  });

  for (const carrier of ["http", "mqtt", "auto"] as const) {
    it(`closes exactly the transports it created, each once (${carrier})`, async () => {
      const s = await sim();
      const l = link({ host: s.address, uuid: s.uuid, fleet: new FakeFleet(), carrier });
      // Over MQTT the fake broker never answers; the transports exist from the start anyway.
      if (carrier !== "mqtt") await l.getDevice();
      const counts = new Map<string, number>();
      for (const [name, t] of Object.entries(l.created)) {
        const close = t.close.bind(t);
        t.close = () => {
          counts.set(name, (counts.get(name) ?? 0) + 1);
          return close();
        };
      }
      await l.close();
      const expected = carrier === "auto" ? ["auto", "http", "mqtt"] : ["http", "mqtt"];
      assert.deepEqual([...counts.keys()].sort(), expected);
      for (const [name, n] of counts) assert.equal(n, 1, `${name} closed once`);
    });
  }

  it("close returns within its bound even when a transport never finishes closing", async () => {
    const s = await sim();
    const l = link({ host: s.address, closeBoundMs: 20 });
    const http = l.created.http;
    assert.ok(http);
    http.close = () => new Promise<void>(() => undefined);
    await l.close();
    assert.equal(l.events.listenerCount(), 0);
  });
});

describe("BrokerTransport", () => {
  const uuid = "19111400000000000000" + "48e1e9aa0043";
  const ask = (): Envelope => buildMessage({ method: "GET", namespace: "Appliance.System.All", key: KEY, from: "x", payload: {} });
  const tick = async (until: () => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !until(); i++) await new Promise((r) => setImmediate(r));
  };

  /** A fleet whose device is on the broker, and every request text the link publishes. */
  function setUp(): { fleet: FakeFleet; sent: Envelope[]; answer: (to: Envelope) => void } {
    const fleet = new FakeFleet();
    fleet.listening = true;
    fleet.presence.set(uuid, { uuid, listening: true, since: 1 });
    const sent: Envelope[] = [];
    const publish = fleet.link.publish.bind(fleet.link);
    fleet.link.publish = async (topic: string, text: string) => {
      await publish(topic, text);
      sent.push(JSON.parse(text) as Envelope);
    };
    const answer = (to: Envelope): void => {
      const reply = buildMessage({
        method: "GETACK",
        namespace: to.header.namespace,
        key: KEY,
        messageId: to.header.messageId,
        from: `/appliance/${uuid}/publish`,
        payload: { answered: to.header.messageId },
      });
      fleet.link.handlers?.message(fleet.conn.replyTopic, Buffer.from(JSON.stringify(reply)));
    };
    return { fleet, sent, answer };
  }

  it("sends a request once more, freshly signed, when its device logs in anew while it is out (the device never got it)", async () => {
    const { fleet, sent, answer } = setUp();
    const t = new BrokerTransport(fleet, () => uuid, "test broker");
    const copy = ask();
    const reply = t.send(ask(), { timeoutMs: 5000, resend: () => copy });
    await tick(() => sent.length === 1);
    // The device reconnects (a Bind: a new session) before it answered.
    fleet.events.emit("device", { uuid, listening: true, since: 2 });
    await tick(() => sent.length === 2);
    assert.equal(sent.length, 2, "sent again to the new session");
    assert.equal(sent[1].header.messageId, copy.header.messageId, "the fresh copy, not the old messageId");
    answer(sent[1]);
    assert.deepEqual((await reply).payload, { answered: copy.header.messageId });
    await t.close();
  });

  it("does not send again when the first message seen of an unknown device is its reply (an existing broker)", async () => {
    const { fleet, sent, answer } = setUp();
    fleet.presence.clear();
    const t = new BrokerTransport(fleet, () => uuid, "test broker");
    const reply = t.send(ask(), { timeoutMs: 5000, resend: ask });
    await tick(() => sent.length === 1);
    // The reply is what makes the device known: presence is reported as it is handled.
    fleet.events.emit("device", { uuid, listening: true, since: 7 });
    answer(sent[0]);
    await reply;
    await tick(() => false);
    assert.equal(sent.length, 1, "answered once, not sent again");
    await t.close();
  });

  it("does not send again for a report of the same session (an IP or model update)", async () => {
    const { fleet, sent, answer } = setUp();
    const t = new BrokerTransport(fleet, () => uuid, "test broker");
    const reply = t.send(ask(), { timeoutMs: 5000, resend: ask });
    await tick(() => sent.length === 1);
    fleet.events.emit("device", { uuid, listening: true, since: 1, ip: "192.168.1.20" });
    await tick(() => false);
    assert.equal(sent.length, 1);
    answer(sent[0]);
    await reply;
    await t.close();
  });
});
