import assert from "node:assert/strict";
import { ArrivalError, ArrivalWatcher, ExistingFleet, endpointFromUrl } from "../../../src/core/fleet";
import { freePort } from "../../cli/helpers";
import { buildMessage, verifySign, type Envelope } from "../../../src/core/protocol/message";
import { MqttConnection, type MqttLink, type MqttLinkHandlers } from "../../../src/core/transport/mqtt";
import { nextEvent } from "./helpers";

const UUID = "2308085712920951080748e1e9d58442";
const KEY = "key-of-the-plug";
const PASSWORD = "broker-password-77";

/** An MQTT link in memory: what the fleet publishes is recorded, what a device publishes is handed in. */
class MemoryLink implements MqttLink {
  online = false;
  handlers: MqttLinkHandlers | undefined;
  readonly published: Array<{ topic: string; env: Envelope }> = [];
  attach(h: MqttLinkHandlers): void {
    this.handlers = h;
  }
  subscribe(): Promise<void> {
    return Promise.resolve();
  }
  publish(topic: string, payload: string): Promise<void> {
    this.published.push({ topic, env: JSON.parse(payload) as Envelope });
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.online = false;
    return Promise.resolve();
  }
  up(): void {
    this.online = true;
    this.handlers?.online();
  }
  down(reason: string): void {
    this.online = false;
    this.handlers?.offline(reason);
  }
  fromDevice(env: Envelope, uuid = UUID): void {
    this.handlers?.message(`/appliance/${uuid}/publish`, Buffer.from(JSON.stringify(env)));
  }
}

function bind(key: string): Envelope {
  return buildMessage({
    method: "SET",
    namespace: "Appliance.Control.Bind",
    key,
    from: `/appliance/${UUID}/publish`,
    payload: {
      bind: { hardware: { type: "mss310", macAddress: "48:E1:E9:D5:84:42" }, firmware: { version: "6.1.8", innerIp: "192.168.1.50" } },
    },
  });
}

describe("ExistingFleet (devices on someone else's broker)", () => {
  let link: MemoryLink;
  let fleet: ExistingFleet;

  beforeEach(() => {
    link = new MemoryLink();
    fleet = new ExistingFleet({
      settings: () => ({ url: "mqtts://broker.lan" }),
      password: PASSWORD,
      connect: () => new MqttConnection(link, "mqtts://broker.lan:8883"),
    });
  });
  afterEach(() => fleet.close());

  it("counts a device present once a message signed with a known key arrives, answers its Bind and learns its address", async () => {
    fleet.useKeys("cfg-a", () => [KEY]);
    link.up();
    const seen = nextEvent(fleet.events, "device");
    link.fromDevice(bind(KEY));
    const p = await seen;
    assert.deepEqual(
      [p.uuid, p.ip, p.model, p.firmware, p.mac, p.listening],
      [UUID, "192.168.1.50", "mss310", "6.1.8", "48:e1:e9:d5:84:42", true],
    );
    assert.equal(fleet.isListening(UUID), true);
    assert.deepEqual(fleet.binding(UUID), { keyOwner: "cfg-a", mac: "48:e1:e9:d5:84:42" });
    const ack = link.published.find((m) => m.env.header.method === "SETACK");
    assert.ok(ack, "the Bind got its SETACK");
    assert.equal(ack.topic, `/appliance/${UUID}/subscribe`);
    assert.ok(verifySign(ack.env.header, KEY), "signed with the device's key");
  });

  it("ignores messages and pushes signed with a key no user knows", async () => {
    fleet.useKeys("cfg-a", () => [KEY]);
    link.up();
    let pushes = 0;
    fleet.events.on("push", () => pushes++);
    link.fromDevice(bind("somebody-elses-key"));
    link.fromDevice(
      buildMessage({
        method: "PUSH",
        namespace: "Appliance.Control.ToggleX",
        key: "forged",
        payload: { togglex: [{ channel: 0, onoff: 1 }] },
      }),
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(fleet.devices(), []);
    assert.equal(pushes, 0);
    assert.equal(link.published.length, 0, "nothing is answered for an unproven device");
  });

  it("reports a verified push", async () => {
    fleet.useKeys("cfg-a", () => [KEY]);
    link.up();
    const push = nextEvent(fleet.events, "push");
    link.fromDevice(
      buildMessage({ method: "PUSH", namespace: "Appliance.Control.ToggleX", key: KEY, payload: { togglex: [{ channel: 0, onoff: 1 }] } }),
    );
    const got = await push;
    assert.equal(got.uuid, UUID);
    assert.equal(got.envelope.header.namespace, "Appliance.Control.ToggleX");
  });

  it("believes neither a push stamped in 2020 (as a broker keeps retained) nor a replayed one: no state, no presence", async () => {
    fleet.useKeys("cfg-a", () => [KEY]);
    link.up();
    let pushes = 0;
    fleet.events.on("push", () => pushes++);
    const on = { togglex: [{ channel: 0, onoff: 1 }] };
    link.fromDevice(
      buildMessage({ method: "PUSH", namespace: "Appliance.Control.ToggleX", key: KEY, timestamp: 1_590_000_000, payload: on }),
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(fleet.devices(), [], "a stale push says nothing about the device being online");
    assert.equal(pushes, 0);
    const fresh = buildMessage({ method: "PUSH", namespace: "Appliance.Control.ToggleX", key: KEY, payload: on });
    link.fromDevice(fresh);
    link.fromDevice(fresh);
    await new Promise((r) => setImmediate(r));
    assert.equal(pushes, 1, "the replay of a fresh push is dropped");
    assert.equal(fleet.refusals().count, 2);
  });

  it("reports running (again) with the known devices when the connection comes back, and stopped without the password", async () => {
    fleet.useKeys("cfg-a", () => [KEY]);
    const running = nextEvent(fleet.events, "running");
    link.up();
    assert.equal((await running).connection, fleet.currentConnection());
    link.fromDevice(bind(KEY));
    const stopped = nextEvent(fleet.events, "stopped");
    link.down(`not authorised (password ${PASSWORD})`);
    const s = await stopped;
    assert.ok(!s.reason.includes(PASSWORD));
    assert.equal(fleet.isListening(UUID), false, "no MQTT path while the connection is down");
    const replayed = nextEvent(fleet.events, "device");
    link.up();
    assert.equal((await replayed).uuid, UUID);
    assert.deepEqual(fleet.secrets(), [PASSWORD]);
  });

  it("a request sent while the connection is still coming up waits for it instead of failing (no 30 s retry at start-up)", async () => {
    const ready = fleet.connection();
    let got: MqttConnection | undefined;
    void ready.then((c) => (got = c));
    await new Promise((r) => setImmediate(r));
    assert.equal(got, undefined, "not handed out while offline");
    link.up();
    const c = await ready;
    assert.equal(c.online, true);
    const answer = c.request(
      UUID,
      buildMessage({ method: "GET", namespace: "Appliance.System.All", key: KEY, from: "x", payload: {} }),
      1000,
    );
    await new Promise((r) => setImmediate(r));
    assert.ok(
      link.published.some((p) => p.topic === `/appliance/${UUID}/subscribe`),
      "the request went out",
    );
    answer.catch(() => undefined);
  });

  it("a first attempt that fails ends the wait with the reason, and a later outage makes nobody wait", async () => {
    const ready = fleet.connection();
    link.down("the broker refused the user name or password");
    const c = await ready;
    await assert.rejects(c.waitOnline(), (err: Error) => /refused the user name or password/.test(err.message));
    link.up();
    link.down("connection closed");
    let handed = false;
    void fleet.connection().then(() => (handed = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(handed, true, "handed at once during a later outage: its request says why it is offline");
  });

  it("an unusable URL rejects connection() and endpoint() with a sentence saying what to enter", async () => {
    const empty = new ExistingFleet({ settings: () => ({ url: " " }) });
    await assert.rejects(
      empty.connection(),
      (err: Error & { code?: string }) => err.code === "BAD_INPUT" && /mqtts:\/\/host:8883/.test(err.message),
    );
    await assert.rejects(empty.endpoint());
    assert.equal(empty.settingsError?.code, "BAD_INPUT");
    const http = new ExistingFleet({ settings: () => ({ url: "http://nope" }) });
    await assert.rejects(http.connection(), (err: Error & { code?: string }) => err.code === "BAD_INPUT" && /mqtts:\/\//.test(err.message));
  });

  it("tells devices the broker's host and port, with the usual port for each scheme", () => {
    assert.deepEqual(endpointFromUrl("mqtts://10.0.0.5"), { host: "10.0.0.5", port: 8883 });
    assert.deepEqual(endpointFromUrl("mqtt://broker.lan"), { host: "broker.lan", port: 1883 });
    assert.deepEqual(endpointFromUrl("mqtts://[fd00::1]:9000"), { host: "fd00::1", port: 9000 });
  });

  describe("arrivals on an existing broker", () => {
    it("a device arrives with its first signed Bind after the watch started, with the address it reports", async () => {
      fleet.useKeys("onboard", () => [KEY]);
      link.up();
      const watcher = new ArrivalWatcher(fleet);
      try {
        const waiting = watcher.wait({ uuid: UUID, mac: "48:e1:e9:d5:84:42", timeoutMs: 10_000 });
        link.fromDevice(bind(KEY));
        const a = await waiting;
        assert.deepEqual([a.uuid, a.ip, a.model], [UUID, "192.168.1.50", "mss310"]);
      } finally {
        watcher.close();
      }
      assert.equal(fleet.events.listenerCount(), 0);
    });

    it("a device seen before the watch does not count: it may be the same device before its reset", async () => {
      fleet.useKeys("onboard", () => [KEY]);
      link.up();
      link.fromDevice(bind(KEY));
      const watcher = new ArrivalWatcher(fleet);
      try {
        const err = await watcher
          .wait({ uuid: UUID, mac: "48:e1:e9:d5:84:42", timeoutMs: 50, apAddress: `127.0.0.1:${await freePort()}` })
          .then(
            () => assert.fail("resolved from an old presence"),
            (e: unknown) => e,
          );
        assert.ok(err instanceof ArrivalError);
        assert.equal(err.reason, "no-connection");
        assert.match(err.message, /did not show up on the MQTT broker within/);
        assert.match(err.message, /or the broker refused it: check the broker host and port the device was given/);
      } finally {
        watcher.close();
      }
    });
  });
});
