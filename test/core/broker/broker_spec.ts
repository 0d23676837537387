import assert from "node:assert/strict";
import mqtt from "mqtt";
import { generateCertificates, type Certificates } from "../../../src/core/broker/certs";
import { MerossBroker, type BrokerDevice, type BrokerMessageEvent, type RefusedEvent } from "../../../src/core/broker/broker";
import { MerossError } from "../../../src/core/errors";
import type { TypedEvents } from "../../../src/core/events";
import { buildMessage, verifySign, type Envelope } from "../../../src/core/protocol/message";
import { DEVICE_A, DEVICE_B, FakeDevice } from "./fake_device";

const BIND_PAYLOAD = {
  bind: {
    bindTime: 1700000000,
    time: { timestamp: 1700000000, timezone: "", timeRule: [] },
    hardware: { type: "mss310", subType: "us", version: "2.0.0", macAddress: DEVICE_A.mac, uuid: DEVICE_A.uuid },
    firmware: { version: "2.1.4", compileTime: "2019/08/27 10:23:38" },
  },
};

function once<T>(emitter: MerossBroker, event: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" event`)), timeoutMs);
    (emitter.events as unknown as TypedEvents<Record<string, T>>).once(event, (arg: T) => {
      clearTimeout(timer);
      resolve(arg);
    });
  });
}

describe("MerossBroker (embedded TLS broker + cloud-like session)", () => {
  let certs: Certificates;
  let broker: MerossBroker | undefined;
  const devices: FakeDevice[] = [];

  before(() => {
    certs = generateCertificates({ host: "127.0.0.1" });
  });

  async function start(extra: Partial<Parameters<typeof MerossBroker.start>[0]> = {}): Promise<MerossBroker> {
    broker = await MerossBroker.start({
      port: 0,
      host: "127.0.0.1",
      certs,
      keys: [DEVICE_A.key, DEVICE_B.key],
      // DEVICE_B was set up with the empty key, as devices onboarded without one are.
      acceptEmptyKey: true,
      timeZone: "Europe/Berlin",
      ...extra,
    });
    return broker;
  }

  async function device(
    d: { uuid: string; mac: string; key: string },
    extra: { password?: string; port?: number } = {},
  ): Promise<FakeDevice> {
    const dev = await FakeDevice.connect({ port: extra.port ?? broker!.port, ...d, password: extra.password });
    devices.push(dev);
    return dev;
  }

  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await broker?.stop();
    broker = undefined;
  });

  it("answers a device's Bind with a SETACK signed with its key, then sets its time zone", async () => {
    await start();
    const connected = once<BrokerDevice>(broker!, "device-connected");
    const dev = await device(DEVICE_A);
    assert.equal((await connected).uuid, DEVICE_A.uuid);
    const bind = dev.message("SET", "Appliance.Control.Bind", BIND_PAYLOAD);
    await dev.publish(bind);

    const ack = await dev.next((e) => e.header.namespace === "Appliance.Control.Bind");
    assert.equal(ack.header.method, "SETACK");
    assert.equal(ack.header.messageId, bind.header.messageId);
    assert.deepEqual(ack.payload, {});
    assert.ok(verifySign(ack.header, DEVICE_A.key), "the SETACK must be signed with the device key");

    const time = await dev.next((e) => e.header.namespace === "Appliance.System.Time");
    assert.equal(time.header.method, "SET");
    assert.ok(verifySign(time.header, DEVICE_A.key));
    const t = (time.payload as { time: { timezone: string; timestamp: number; timeRule: unknown[] } }).time;
    assert.equal(t.timezone, "Europe/Berlin");
    assert.ok(t.timeRule.length >= 2, "Berlin has DST transitions");
    assert.ok(Math.abs(t.timestamp - Date.now() / 1000) < 3600);
  });

  it("lists connected devices with their IP, and model/firmware from the Bind", async () => {
    await start();
    const dev = await device(DEVICE_A);
    const bound = once<BrokerDevice>(broker!, "device-bound");
    await dev.publish(dev.message("SET", "Appliance.Control.Bind", BIND_PAYLOAD));
    await bound;
    const list = broker!.devices();
    assert.equal(list.length, 1);
    assert.equal(list[0].uuid, DEVICE_A.uuid);
    assert.equal(list[0].mac, DEVICE_A.mac);
    assert.equal(list[0].ip, "127.0.0.1");
    assert.equal(list[0].userId, "1234");
    assert.equal(list[0].model, "mss310");
    assert.equal(list[0].firmware, "2.1.4");
    assert.ok(!JSON.stringify(list).includes(DEVICE_A.key), "the device key never leaves the broker");
  });

  it("answers a Clock push by echoing the header with the current time", async () => {
    await start();
    const dev = await device(DEVICE_A);
    const clock = dev.message("PUSH", "Appliance.System.Clock", { clock: { timestamp: 25 } }, { timestamp: 25 });
    await dev.publish(clock);
    const reply = await dev.next((e) => e.header.namespace === "Appliance.System.Clock");
    assert.equal(reply.header.method, "PUSH");
    assert.equal(reply.header.messageId, clock.header.messageId);
    assert.equal(reply.header.timestamp, 25);
    assert.equal(reply.header.sign, clock.header.sign);
    const ts = (reply.payload as { clock: { timestamp: number } }).clock.timestamp;
    assert.ok(Math.abs(ts - Date.now() / 1000) < 60, `clock ${ts} should be now`);
  });

  it("echoes ConsumptionConfig pushes and reports other device messages as events", async () => {
    await start();
    const dev = await device(DEVICE_A);
    const cfg = dev.message("PUSH", "Appliance.Control.ConsumptionConfig", { config: { voltageRatio: 188 } });
    await dev.publish(cfg);
    const echo = await dev.next((e) => e.header.namespace === "Appliance.Control.ConsumptionConfig");
    assert.deepEqual(echo, cfg);

    const seen = once<BrokerMessageEvent>(broker!, "message");
    await dev.publish("{ this is not json");
    await dev.publish(dev.message("PUSH", "Appliance.Control.ToggleX", { togglex: [{ channel: 0, onoff: 1 }] }));
    const ev = await seen;
    assert.equal(ev.uuid, DEVICE_A.uuid);
    assert.equal(ev.envelope.header.namespace, "Appliance.Control.ToggleX");
  });

  it("refuses a device whose password does not match a known key, without revealing it", async () => {
    await start();
    const refused = once<RefusedEvent>(broker!, "refused");
    await assert.rejects(() => device(DEVICE_A, { password: "1234_00000000000000000000000000000000" }));
    const ev = await refused;
    assert.equal(ev.clientId.startsWith(`fmware:${DEVICE_A.uuid}_`), true);
    assert.equal(ev.username, DEVICE_A.mac);
    assert.equal(ev.ip, "127.0.0.1");
    assert.match(ev.reason, /no known device key/);
    assert.ok(!JSON.stringify(ev).includes("00000000000000000000000000000000"), "the password is not echoed");
    assert.equal(broker!.devices().length, 0);
  });

  it("lets two devices with different keys coexist, and looks keys up by uuid or MAC", async () => {
    await start({ keys: { [DEVICE_A.uuid]: DEVICE_A.key, [DEVICE_B.mac]: DEVICE_B.key } });
    await device(DEVICE_A);
    await device(DEVICE_B);
    assert.deepEqual(
      broker!
        .devices()
        .map((d) => d.uuid)
        .sort(),
      [DEVICE_A.uuid, DEVICE_B.uuid].sort(),
    );
    // A's key under B's identity must not open the door.
    await assert.rejects(() =>
      device({ ...DEVICE_B, uuid: "00000000000000000000000000000000", mac: "48:e1:e9:00:00:00", key: DEVICE_A.key }),
    );
  });

  it("accepts a key resolver function", async () => {
    const asked: string[] = [];
    await start({
      keys: async ({ uuid }) => {
        asked.push(uuid);
        return uuid === DEVICE_B.uuid ? DEVICE_B.key : undefined;
      },
    });
    await device(DEVICE_B);
    assert.deepEqual(asked, [DEVICE_B.uuid]);
    await assert.rejects(() => device(DEVICE_A));
  });

  it("applies the user id filter to device passwords", async () => {
    await start({ userIdCheck: (id) => id === "42" });
    const refused = once<RefusedEvent>(broker!, "refused");
    await assert.rejects(() => device(DEVICE_A));
    assert.match((await refused).reason, /user id 1234/);
  });

  it("disconnects a device that publishes as another device, and reports nothing for the victim", async () => {
    await start();
    const a = await device(DEVICE_A);
    const b = await device(DEVICE_B);
    const events: BrokerMessageEvent[] = [];
    broker!.events.on("message", (e: BrokerMessageEvent) => events.push(e));
    const kicked = new Promise<void>((resolve) => a.client.once("close", () => resolve()));
    a.client.publish(
      `/appliance/${DEVICE_B.uuid}/publish`,
      JSON.stringify(a.message("PUSH", "Appliance.Control.ToggleX", { togglex: { channel: 0, onoff: 1 } })),
      { qos: 1 },
    );
    await kicked;
    const marker = once<BrokerMessageEvent>(broker!, "message");
    await b.publish(b.message("PUSH", "Appliance.System.Report", { report: [] }));
    await marker;
    assert.deepEqual(
      events.map((e) => `${e.uuid} ${e.envelope.header.namespace}`),
      [`${DEVICE_B.uuid} Appliance.System.Report`],
    );
    assert.deepEqual(
      broker!.devices().map((d) => d.uuid),
      [DEVICE_B.uuid],
    );
  });

  it("lets non-device clients in only with configured credentials unless anonymous access is on", async () => {
    await start({ users: [{ username: "nodered", password: "s3cret" }] });
    const url = `mqtts://127.0.0.1:${broker!.port}`;
    const base = { ca: certs.caCert, reconnectPeriod: 0, connectTimeout: 5000 };
    await assert.rejects(() => mqtt.connectAsync(url, { ...base, clientId: "app:x" }));
    await assert.rejects(() => mqtt.connectAsync(url, { ...base, clientId: "app:x", username: "nodered", password: "nope" }));
    const ok = await mqtt.connectAsync(url, { ...base, clientId: "app:x", username: "nodered", password: "s3cret" });
    await ok.endAsync(true);
    await broker!.stop();
    await start({ allowAnonymous: true });
    const anon = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker!.port}`, { ...base, clientId: "app:y" });
    await anon.endAsync(true);
  });

  it("stops promptly with devices connected and restarts on the same port, where devices reconnect", async () => {
    await start();
    const port = broker!.port;
    const dev = await device(DEVICE_A);
    const gone = once<{ uuid: string }>(broker!, "device-disconnected");
    const closed = new Promise<void>((resolve) => dev.client.once("close", () => resolve()));
    await broker!.stop();
    assert.equal((await gone).uuid, DEVICE_A.uuid);
    await closed;
    await start({ port });
    assert.equal(broker!.port, port);
    const again = await device(DEVICE_A, { port });
    await again.publish(again.message("SET", "Appliance.Control.Bind", BIND_PAYLOAD));
    const ack = await again.next((e) => e.header.namespace === "Appliance.Control.Bind");
    assert.equal(ack.header.method, "SETACK");
    assert.deepEqual(
      broker!.devices().map((d) => d.uuid),
      [DEVICE_A.uuid],
    );
  });

  it("refuses to start on a port in use, or with missing certificates, with a sentence", async () => {
    await start();
    await assert.rejects(
      () => MerossBroker.start({ port: broker!.port, host: "127.0.0.1", certs }),
      (e: unknown) => e instanceof MerossError && e.code === "BAD_INPUT" && /already in use/.test(e.message),
    );
    await assert.rejects(
      () => MerossBroker.start({ port: 0, host: "127.0.0.1", certs: { serverCert: "", serverKey: "" } }),
      (e: unknown) => e instanceof MerossError && e.code === "BAD_INPUT" && /certificate/.test(e.message),
    );
  });

  it("forwards device replies on an app reply topic to the app, and reports them", async () => {
    await start({ allowAnonymous: true });
    const dev = await device(DEVICE_A);
    const app = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker!.port}`, { ca: certs.caCert, clientId: "app:z", reconnectPeriod: 0 });
    try {
      await app.subscribeAsync("/app/z/subscribe", { qos: 1 });
      const got = new Promise<Envelope>((resolve) => app.once("message", (_t, p) => resolve(JSON.parse(p.toString()) as Envelope)));
      // A device answers on the `from` of a request sent to it (docs/protocol.md §1.4).
      dev.answer((req) => dev.message("GETACK", req.header.namespace, { all: {} }, { messageId: req.header.messageId }), "from");
      const req = buildMessage({
        method: "GET",
        namespace: "Appliance.System.All",
        payload: {},
        key: DEVICE_A.key,
        from: "/app/z/subscribe",
      });
      await app.publishAsync(`/appliance/${DEVICE_A.uuid}/subscribe`, JSON.stringify(req), { qos: 1 });
      assert.equal((await got).header.namespace, "Appliance.System.All");
    } finally {
      await app.endAsync(true);
    }
  });
});
