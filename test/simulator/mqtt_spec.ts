import assert from "node:assert/strict";
import type { EventEmitter } from "node:events";
import { TypedEvents } from "../../src/core/events";
import { createServer } from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { generateCertificates, type Certificates } from "../../src/core/broker/certs";
import { MerossBroker, type BrokerDevice, type BrokerEvents, type RefusedEvent } from "../../src/core/broker/broker";
import { buildMessage, verifySign, type Envelope } from "../../src/core/protocol/message";
import { SimulatedDevice, type MqttStateEvent, type SimulatorOptions } from "../../src/simulator/device";
import { deviceMqttPassword } from "../../src/simulator/mqttlink";
import { send } from "./helpers";

const KEY = "mqtt-sim-key";
const WAIT_MS = 10_000;

/** Resolves with the first `event` whose argument passes `match` (generous timeout, no timing assertion). */
/** A listener on a simulated device (EventEmitter) or on a broker's typed events; returns its removal. */
function listen<T>(source: EventEmitter | TypedEvents<BrokerEvents>, event: string, fn: (v: T) => void): () => void {
  if (source instanceof TypedEvents) return (source as unknown as TypedEvents<Record<string, T>>).on(event, fn);
  source.on(event, fn);
  return () => source.off(event, fn);
}

function waitFor<T>(
  emitter: EventEmitter | TypedEvents<BrokerEvents>,
  event: string,
  match: (v: T) => boolean = () => true,
  timeoutMs = WAIT_MS,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching "${event}" event`));
    }, timeoutMs);
    const off = listen<T>(emitter, event, (v) => {
      if (!match(v)) return;
      clearTimeout(timer);
      off();
      resolve(v);
    });
  });
}

function mqttState(dev: SimulatedDevice, state: string): Promise<MqttStateEvent> {
  if (dev.mqttState === state) return Promise.resolve({ state: dev.mqttState });
  return waitFor<MqttStateEvent>(dev, "mqtt", (e) => e.state === state);
}

/** A port nothing listens on. */
function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

interface Received {
  topic: string;
  env: Envelope;
}

/** An app-side MQTT client that records everything on the topics it listens to. */
class App {
  readonly got: Received[] = [];
  private constructor(readonly client: MqttClient) {
    client.on("message", (topic, payload) => {
      try {
        this.got.push({ topic, env: JSON.parse(payload.toString("utf8")) as Envelope });
      } catch {
        return;
      }
    });
  }

  static async connect(port: number, topics: string[]): Promise<App> {
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
      clientId: "app:tester",
      rejectUnauthorized: false,
      reconnectPeriod: 0,
    });
    const app = new App(client);
    await client.subscribeAsync(topics, { qos: 1 });
    return app;
  }

  async next(match: (r: Received) => boolean): Promise<Received> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const hit = this.got.find(match);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error("the app client did not receive the expected message");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async request(uuid: string, env: Envelope): Promise<void> {
    await this.client.publishAsync(`/appliance/${uuid}/subscribe`, JSON.stringify(env), { qos: 1 });
  }
}

describe("simulator: MQTT side of a simulated device", function () {
  this.timeout(30_000);
  let certs: Certificates;
  const brokers: MerossBroker[] = [];
  const devices: SimulatedDevice[] = [];
  const apps: App[] = [];

  before(() => {
    certs = generateCertificates({ host: "127.0.0.1" });
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.client.endAsync(true)));
    await Promise.all(devices.splice(0).map((d) => d.stop()));
    await Promise.all(brokers.splice(0).map((b) => b.stop()));
  });

  async function broker(extra: { port?: number; keys?: string[] } = {}): Promise<MerossBroker> {
    const b = await MerossBroker.start({
      port: extra.port ?? 0,
      host: "127.0.0.1",
      certs,
      keys: extra.keys ?? [KEY],
      allowAnonymous: true,
      timeZone: "Europe/Berlin",
    });
    brokers.push(b);
    return b;
  }

  async function device(opts: SimulatorOptions): Promise<SimulatedDevice> {
    const d = await SimulatedDevice.start({ mqttReconnectMs: 300, ...opts });
    devices.push(d);
    return d;
  }

  async function app(b: MerossBroker, topics = ["/app/tester/subscribe", "/appliance/+/publish"]): Promise<App> {
    const a = await App.connect(b.port, topics);
    apps.push(a);
    return a;
  }

  /** A device already bound to `b`, connected and with its Bind acknowledged. */
  async function bound(b: MerossBroker, opts: SimulatorOptions = {}): Promise<SimulatedDevice> {
    const d = await device({ key: KEY, userId: "42", gateway: { host: "127.0.0.1", port: b.port }, ...opts });
    if (!d.mqttBound) await waitFor(d, "bind");
    return d;
  }

  it("computes the device password of the protocol vectors", () => {
    assert.equal(deviceMqttPassword("34:29:8f:ff:ff:ff", "testkey", "1234"), "1234_5ac868a81f2f21b4a87f7d2bb3467cb5");
    assert.equal(deviceMqttPassword("48:e1:e9:b6:2c:49", "", "0"), "0_14ef86a5626abee0feec7585d51feee5");
  });

  it("after onboarding by hand, connects to its gateway over TLS, binds and takes the broker's time", async () => {
    const b = await broker();
    const d = await device({ model: "mss310", unconfigured: true });
    assert.equal(d.mqttState, "disabled");
    const connected = waitFor<BrokerDevice>(b.events, "device-connected", (e) => e.uuid === d.uuid);
    const bindAck = waitFor(d, "bind");
    const clock = waitFor<{ timestamp: number }>(d, "clock");
    const boundEv = waitFor<BrokerDevice>(b.events, "device-bound", (e) => e.uuid === d.uuid);

    const keyAck = await send(d, "Appliance.Config.Key", "SET", {
      key: {
        key: KEY,
        userId: "42",
        gateway: { host: "127.0.0.1", port: b.port, secondHost: "127.0.0.1", secondPort: b.port, redirect: 1 },
      },
    });
    assert.equal(keyAck.header.method, "SETACK");
    assert.equal(d.mqttState, "disabled", "no MQTT before the device has joined Wi-Fi");
    const b64 = (t: string): string => Buffer.from(t).toString("base64");
    await send(
      d,
      "Appliance.Config.Wifi",
      "SET",
      { wifi: { ssid: b64("HomeNet"), password: b64("secret"), channel: 6, encryption: 6, cipher: 3 } },
      "",
    );

    const who = await connected;
    assert.equal(who.ip, "127.0.0.1");
    assert.equal(who.mac, d.mac);
    assert.equal(who.userId, "42");
    assert.match(who.clientId, new RegExp(`^fmware:${d.uuid}_[A-Za-z0-9]{16}$`));
    await bindAck;
    assert.equal(d.mqttBound, true);
    assert.equal(d.mqttState, "connected");
    assert.ok(Math.abs((await clock).timestamp - Date.now() / 1000) < 60);
    assert.equal((await boundEv).model, d.model.type, "the Bind told the broker what the device is");
    assert.equal(d.snapshot().mqtt, "connected");
  });

  it("accepts the broker's System.Time SET and answers it on the broker's reply topic", async () => {
    const b = await broker();
    const a = await app(b, ["/app/meross-local-broker/subscribe"]);
    const d = await bound(b);
    const ack = await a.next((r) => r.env.header.namespace === "Appliance.System.Time");
    assert.equal(ack.env.header.method, "SETACK");
    assert.ok(verifySign(ack.env.header, KEY));
    const time = await send(d, "Appliance.System.Time", "GET");
    assert.equal((time.payload.time as { timezone: string }).timezone, "Europe/Berlin");
  });

  it("answers a signed ToggleX SET over MQTT on the request's from topic and switches", async () => {
    const b = await broker();
    const a = await app(b);
    const d = await bound(b, { model: "mss310" });
    const req = buildMessage({
      method: "SET",
      namespace: "Appliance.Control.ToggleX",
      payload: { togglex: { channel: 0, onoff: 1 } },
      key: KEY,
      from: "/app/tester/subscribe",
    });
    await a.request(d.uuid, req);
    const reply = await a.next((r) => r.env.header.messageId === req.header.messageId);
    assert.equal(reply.topic, "/app/tester/subscribe");
    assert.equal(reply.env.header.method, "SETACK");
    assert.equal(reply.env.header.from, `/appliance/${d.uuid}/publish`);
    assert.ok(verifySign(reply.env.header, KEY));
    assert.equal(d.state.channels[0].on, true);
    const http = await send(d, "Appliance.Control.ToggleX", "GET", { togglex: { channel: 0 } });
    assert.equal((http.payload.togglex as { onoff: number }).onoff, 1, "MQTT and HTTP share one state");
  });

  it("signs MQTT replies like HTTP ones: wrong key → ERROR 5001, a non-topic from → its publish topic", async () => {
    const b = await broker();
    const a = await app(b);
    const d = await bound(b);
    const bad = buildMessage({
      method: "SET",
      namespace: "Appliance.Control.ToggleX",
      payload: { togglex: { channel: 0, onoff: 1 } },
      key: "not-the-key",
      from: "/app/tester/subscribe",
    });
    await a.request(d.uuid, bad);
    const err = await a.next((r) => r.env.header.messageId === bad.header.messageId);
    assert.equal(err.env.header.method, "ERROR");
    assert.deepEqual(err.env.payload, { error: { code: 5001, detail: "sign error" } });
    assert.equal(d.state.channels[0].on, false);

    const get = buildMessage({ method: "GET", namespace: "Appliance.System.All", key: KEY, from: "http://127.0.0.1/config" });
    await a.request(d.uuid, get);
    const all = await a.next((r) => r.env.header.messageId === get.header.messageId);
    assert.equal(all.topic, `/appliance/${d.uuid}/publish`);
    assert.equal(all.env.header.method, "GETACK");
  });

  it("is reachable through the core MQTT connection of the embedded broker", async () => {
    const b = await broker();
    const d = await bound(b, { model: "msl120" });
    const conn = b.connection();
    try {
      const reply = await conn.request(d.uuid, buildMessage({ method: "GET", namespace: "Appliance.System.All", key: KEY }));
      assert.equal(reply.header.method, "GETACK");
      const all = reply.payload.all as { system: { hardware: { uuid: string } } };
      assert.equal(all.system.hardware.uuid, d.uuid);
    } finally {
      await conn.close();
    }
  });

  it("pushes a state change made over HTTP and one made with the physical button", async () => {
    const b = await broker();
    const a = await app(b);
    const d = await bound(b, { model: "mss310" });
    const topic = `/appliance/${d.uuid}/publish`;
    const isToggle =
      (onoff: number) =>
      (r: Received): boolean =>
        r.topic === topic &&
        r.env.header.method === "PUSH" &&
        r.env.header.namespace === "Appliance.Control.ToggleX" &&
        (r.env.payload.togglex as Array<{ onoff: number }>)[0]?.onoff === onoff;

    await send(d, "Appliance.Control.ToggleX", "SET", { togglex: { channel: 0, onoff: 1 } });
    const on = await a.next(isToggle(1));
    assert.ok(verifySign(on.env.header, KEY), "pushes are signed with the device key");
    assert.equal(on.env.header.from, topic);
    const entry = (on.env.payload.togglex as Array<{ channel: number; lmTime: number }>)[0];
    assert.equal(entry.channel, 0);
    assert.equal(entry.lmTime, d.state.channels[0].lmTime);

    d.press();
    const off = await a.next(isToggle(0));
    assert.equal(off.env.header.triggerSrc, "DevicePysical");
  });

  it("pushes Light for a bulb and the legacy Toggle for an old plug", async () => {
    const b = await broker();
    const a = await app(b);
    const bulb = await bound(b, { model: "msl120" });
    const plug = await bound(b, { model: "mss210" });
    await send(bulb, "Appliance.Control.Light", "SET", { light: { capacity: 5, rgb: 0xff0000, luminance: 40, channel: 0 } });
    const light = await a.next(
      (r) => r.topic === `/appliance/${bulb.uuid}/publish` && r.env.header.namespace === "Appliance.Control.Light",
    );
    const l = light.env.payload.light as { rgb: number; luminance: number };
    assert.equal(l.rgb, 0xff0000);
    assert.equal(l.luminance, 40);

    plug.press();
    const toggle = await a.next(
      (r) => r.topic === `/appliance/${plug.uuid}/publish` && r.env.header.namespace.startsWith("Appliance.Control.Toggle"),
    );
    assert.equal(toggle.env.header.namespace, "Appliance.Control.Toggle");
    assert.equal((toggle.env.payload.toggle as { onoff: number }).onoff, 1);
  });

  it("shows 'refused' when the broker knows another key, and still answers HTTP", async () => {
    const b = await broker({ keys: ["some-other-key"] });
    const refused = waitFor<RefusedEvent>(b.events, "refused");
    const d = await device({ key: KEY, gateway: { host: "127.0.0.1", port: b.port } });
    await mqttState(d, "refused");
    assert.equal((await refused).username, d.mac);
    assert.equal(d.snapshot().mqtt, "refused");
    assert.equal(b.isConnected(d.uuid), false);
    const all = await send(d, "Appliance.System.All", "GET");
    assert.equal(all.header.method, "GETACK");
  });

  it("keeps answering HTTP while the broker is down, then reconnects and binds again", async () => {
    const b = await broker();
    const port = b.port;
    const d = await bound(b, { model: "mss310" });
    const lost = mqttState(d, "connecting");
    await b.stop();
    await lost;
    const ack = await send(d, "Appliance.Control.ToggleX", "SET", { togglex: { channel: 0, onoff: 1 } });
    assert.equal(ack.header.method, "SETACK");
    assert.equal(d.state.channels[0].on, true);

    const rebindAck = waitFor(d, "bind");
    const b2 = await broker({ port });
    const back = await waitFor<BrokerDevice>(b2.events, "device-connected", (e) => e.uuid === d.uuid);
    assert.equal(back.ip, "127.0.0.1");
    await rebindAck;
    assert.equal(d.mqttState, "connected");
  });

  it("stops promptly while it is still trying to reach a broker that is not there", async () => {
    const d = await device({ key: KEY, gateway: { host: "127.0.0.1", port: await deadPort() } });
    assert.equal(d.mqttState, "connecting");
    await d.stop();
    const again = await device({ key: KEY });
    assert.equal(again.mqttState, "disabled", "without a gateway there is no MQTT");
  });

  it("refuses an unusable gateway with a sentence", async () => {
    await assert.rejects(
      SimulatedDevice.start({ gateway: { host: "", port: 8883 } }),
      (e: Error & { code?: string }) => e.code === "BAD_INPUT" && /gateway/.test(e.message),
    );
  });
});
