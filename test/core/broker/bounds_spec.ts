/**
 * What the embedded broker lets devices and clients grow or widen: a device answers a request
 * from another client on its `from` however fast it is, a device's own pushes never widen where
 * it may publish, nothing is retained, and QoS 2 (held until a PUBREL an attacker never sends)
 * is refused with memory staying bounded.
 */
import assert from "node:assert/strict";
import type { EventEmitter } from "node:events";
import * as net from "node:net";
import * as tls from "node:tls";
import mqtt, { type MqttClient } from "mqtt";
import mqttPacket from "mqtt-packet";
import { generateCertificates, type Certificates } from "../../../src/core/broker/certs";
import { MerossBroker, type RefusedEvent } from "../../../src/core/broker/broker";
import { buildMessage, type Envelope } from "../../../src/core/protocol/message";
import { SimulatedDevice } from "../../../src/simulator/device";
import { DEVICE_A, FakeDevice } from "./fake_device";
import { drained } from "../../e2e/mosquitto-attacks";

const KEY = "bounds-sim-key";
/** RSS may grow this much while a flood runs (the whole test process; the unbounded broker grew by the flood's size). */
const RSS_BOUND = 64 * 1024 * 1024;

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("embedded broker: what devices and clients can grow or widen", function () {
  this.timeout(60_000);
  let certs: Certificates;
  let broker: MerossBroker | undefined;
  const clients: MqttClient[] = [];
  const fakes: FakeDevice[] = [];
  const sims: SimulatedDevice[] = [];
  const sockets: tls.TLSSocket[] = [];
  let refused: string[] = [];
  let gone: string[] = [];

  before(() => {
    certs = generateCertificates({ host: "127.0.0.1" });
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await Promise.all(fakes.splice(0).map((f) => f.close().catch(() => undefined)));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    await broker?.stop();
    broker = undefined;
  });

  async function start(keys: string[], allowAnonymous = false): Promise<MerossBroker> {
    broker = await MerossBroker.start({
      port: 0,
      host: "127.0.0.1",
      certs,
      keys,
      users: [{ username: "cli", password: "cli-pass" }],
      allowAnonymous,
    });
    refused = [];
    gone = [];
    broker.events.on("refused", (r: RefusedEvent) => refused.push(r.reason));
    broker.events.on("device-disconnected", ({ uuid }) => gone.push(uuid));
    return broker;
  }

  /** Another MQTT client with a login (what `meross request --broker` is), listening on `topics`. */
  async function app(port: number, topics: string[]): Promise<{ client: MqttClient; got: Array<{ topic: string; env: Envelope }> }> {
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
      username: "cli",
      password: "cli-pass",
      rejectUnauthorized: false,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    clients.push(client);
    const got: Array<{ topic: string; env: Envelope }> = [];
    client.on("message", (topic, payload) => got.push({ topic, env: JSON.parse(payload.toString("utf8")) as Envelope }));
    if (topics.length) await client.subscribeAsync(topics, { qos: 1 });
    return { client, got };
  }

  it("20 requests in a row from another client are all answered by a device that answers at once, which is never dropped", async () => {
    const b = await start([KEY]);
    const sim = await SimulatedDevice.start({ model: "mss310", key: KEY, port: 0, gateway: { host: "127.0.0.1", port: b.port } });
    sims.push(sim);
    await until(() => b.isConnected(sim.uuid), "the simulated device to listen");
    // aedes emits "publish" only after the message was handed to every subscriber, and waits for a
    // subscriber whose socket is full; a device on another machine can answer before it. Here every
    // "publish" event comes late, so a device answering at once always beats it.
    const aedes = (b as unknown as { aedes: EventEmitter }).aedes;
    const emit = aedes.emit.bind(aedes);
    aedes.emit = (name: string | symbol, ...args: unknown[]): boolean => {
      if (name !== "publish") return emit(name, ...args);
      setTimeout(() => emit(name, ...args), 300);
      return true;
    };
    const replyTopic = "/app/requester-one/subscribe";
    const { client, got } = await app(b.port, [replyTopic]);
    for (let i = 0; i < 20; i++) {
      const req = buildMessage({ method: "GET", namespace: "Appliance.System.All", payload: {}, key: KEY, from: replyTopic });
      await client.publishAsync(`/appliance/${sim.uuid}/subscribe`, JSON.stringify(req), { qos: 1 });
      await until(() => got.some((g) => g.env.header.messageId === req.header.messageId), `the reply to request ${i + 1}`);
    }
    assert.equal(got.filter((g) => g.env.header.method === "GETACK").length, 20);
    assert.deepEqual(refused, []);
    assert.deepEqual(gone, []);
    assert.ok(b.isConnected(sim.uuid));
  });

  for (const ns of ["Appliance.System.Clock", "Appliance.Control.ConsumptionConfig"]) {
    it(`a ${ns.split(".").pop()} push naming another topic as its from gives the device no right to publish there`, async () => {
      const b = await start([DEVICE_A.key]);
      const victimTopic = "/app/someone-else/subscribe";
      const victim = await app(b.port, [victimTopic]);
      const dev = await FakeDevice.connect({ port: b.port, ...DEVICE_A });
      fakes.push(dev);
      const push = buildMessage({ method: "PUSH", namespace: ns, payload: { config: [] }, key: DEVICE_A.key, from: victimTopic });
      await dev.publish(push);
      // The broker echoes it to the device, as the cloud does ...
      await dev.next((e) => e.header.namespace === ns && e.header.messageId === push.header.messageId);
      // ... and the device then forges an answer on the topic it named.
      const forged = dev.message("GETACK", "Appliance.System.All", { all: { forged: true } });
      dev.client.publish(victimTopic, JSON.stringify(forged), { qos: 1 });
      await until(() => refused.length > 0, "the refusal");
      assert.match(refused[0], new RegExp(`may publish only on /appliance/${DEVICE_A.uuid}/publish .*not on ${victimTopic}`));
      assert.deepEqual(gone, [DEVICE_A.uuid], "the device was disconnected");
      // A marker through the same topic from the requester itself proves the forged message came before it, or never.
      await victim.client.publishAsync(victimTopic, JSON.stringify({ header: { messageId: "marker" }, payload: {} }), { qos: 1 });
      await until(() => victim.got.some((g) => g.env.header.messageId === "marker"), "the marker");
      assert.deepEqual(
        victim.got.map((g) => g.env.header.messageId),
        ["marker"],
      );
    });
  }

  it("keeps no retained message: a later subscriber gets only live messages", async () => {
    const b = await start([DEVICE_A.key], true);
    const dev = await FakeDevice.connect({ port: b.port, ...DEVICE_A });
    fakes.push(dev);
    const stale = dev.message("PUSH", "Appliance.Control.ToggleX", { togglex: [{ channel: 0, onoff: 1 }] });
    await dev.client.publishAsync(dev.publishTopic, JSON.stringify(stale), { qos: 1, retain: true });
    const requester = await app(b.port, []);
    await requester.client.publishAsync("/app/anywhere/subscribe", "{}", { qos: 1, retain: true });
    const later = await app(b.port, [dev.publishTopic, "/app/anywhere/subscribe"]);
    const live = dev.message("PUSH", "Appliance.Control.ToggleX", { togglex: [{ channel: 0, onoff: 0 }] });
    await dev.publish(live);
    await until(() => later.got.length > 0, "the live push");
    assert.deepEqual(
      later.got.map((g) => g.env.header.messageId),
      [live.header.messageId],
    );
  });

  it("refuses QoS 2 from a device, and a flood of QoS 2 without PUBREL from 16 sessions leaves memory bounded", async () => {
    const b = await start([DEVICE_A.key], true);
    const dev = await FakeDevice.connect({ port: b.port, ...DEVICE_A });
    fakes.push(dev);
    dev.client.publish(dev.publishTopic, JSON.stringify(dev.message("PUSH", "Appliance.System.Online", {})), { qos: 2 });
    await until(() => gone.includes(DEVICE_A.uuid), "the device to be dropped");
    assert.ok(
      refused.some((r) => /QoS 2 messages are not accepted/.test(r)),
      refused.join("; "),
    );

    const rss0 = process.memoryUsage().rss;
    const payload = Buffer.alloc(60 * 1024, 0x41);
    const flood = async (n: number): Promise<number> => {
      // One address per session: the broker holds at most 8 connections per address before login.
      const raw = net.connect({ host: "127.0.0.1", port: b.port, localAddress: `127.0.0.${10 + n}` });
      raw.on("error", () => undefined);
      const sock = tls.connect({ socket: raw, rejectUnauthorized: false });
      sockets.push(sock);
      sock.on("error", () => undefined);
      let closed = false;
      sock.once("close", () => (closed = true));
      await new Promise<void>((resolve) => {
        sock.once("secureConnect", resolve);
        sock.once("close", resolve);
      });
      sock.write(
        mqttPacket.generate({ cmd: "connect", clientId: `flood-${n}`, protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 60 }),
      );
      let sent = 0;
      for (let id = 1; id <= 200 && !closed; id++) {
        const ok = sock.write(
          mqttPacket.generate({ cmd: "publish", topic: "/app/flood/subscribe", payload, qos: 2, messageId: id, retain: false, dup: false }),
        );
        sent++;
        if (!ok && !closed) await drained(sock);
      }
      await until(() => closed, "the flooding session to be dropped");
      return sent;
    };
    const sent = await Promise.all(Array.from({ length: 16 }, (_, n) => flood(n)));
    assert.ok(
      process.memoryUsage().rss - rss0 < RSS_BOUND,
      `memory stayed bounded after ${sent.reduce((a, c) => a + c, 0)} QoS 2 publishes`,
    );
    // The broker still serves devices.
    const again = await FakeDevice.connect({ port: b.port, ...DEVICE_A });
    fakes.push(again);
    await until(() => b.isConnected(DEVICE_A.uuid), "the device to be back");
  });
});
