import assert from "node:assert/strict";
import { generateCertificates, type Certificates } from "../../src/core/broker/certs";
import { MerossBroker } from "../../src/core/broker/broker";
import { MerossError } from "../../src/core/errors";
import { buildMessage, checkReply, type Envelope } from "../../src/core/protocol/message";
import { MqttConnection, MqttTransport, type MqttPushEvent } from "../../src/core/transport/mqtt";
import { DEVICE_A, DEVICE_B, FakeDevice } from "./broker/fake_device";

const APP = { username: "nodered", password: "app-secret" };

function systemAllGet(): Envelope {
  return buildMessage({ method: "GET", namespace: "Appliance.System.All", key: DEVICE_A.key });
}

/** A device that answers System.All GETs with a signed GETACK carrying the request's messageId. */
function answerSystemAll(dev: FakeDevice, via: "publish" | "from" = "publish"): Envelope[] {
  const seen: Envelope[] = [];
  dev.answer((req) => {
    seen.push(req);
    if (req.header.namespace !== "Appliance.System.All") return undefined;
    return dev.message(
      "GETACK",
      req.header.namespace,
      { all: { system: { hardware: { uuid: dev.opts.uuid } } } },
      { messageId: req.header.messageId },
    );
  }, via);
  return seen;
}

describe("MqttTransport / MqttConnection", () => {
  let certs: Certificates;
  let broker: MerossBroker | undefined;
  const closers: Array<() => Promise<void>> = [];

  before(() => {
    certs = generateCertificates({ host: "127.0.0.1" });
  });

  beforeEach(async () => {
    broker = await MerossBroker.start({
      port: 0,
      host: "127.0.0.1",
      certs,
      keys: [DEVICE_A.key, DEVICE_B.key],
      acceptEmptyKey: true,
      users: [APP],
      timeZone: "UTC",
    });
  });

  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await broker?.stop();
    broker = undefined;
  });

  async function fakeDevice(d: { uuid: string; mac: string; key: string }): Promise<FakeDevice> {
    const dev = await FakeDevice.connect({ port: broker!.port, ...d });
    closers.push(() => dev.close());
    return dev;
  }

  async function tlsConnection(extra: Partial<Parameters<typeof MqttConnection.connect>[0]> = {}): Promise<MqttConnection> {
    const conn = await MqttConnection.connect({
      url: `mqtts://127.0.0.1:${broker!.port}`,
      ca: certs.caCert,
      username: APP.username,
      password: APP.password,
      reconnectPeriodMs: 0,
      ...extra,
    });
    closers.push(() => conn.close());
    return conn;
  }

  it("round-trips a request over TLS, checking the broker certificate, with the device answering on its publish topic", async () => {
    const dev = await fakeDevice(DEVICE_A);
    const seen = answerSystemAll(dev);
    const conn = await tlsConnection();
    const transport = new MqttTransport({ uuid: DEVICE_A.uuid, client: conn });
    assert.equal(transport.kind, "mqtt");
    const req = systemAllGet();
    const reply = await transport.send(req);
    assert.equal(checkReply(req, reply, transport.address), reply);
    assert.equal(reply.header.method, "GETACK");
    assert.equal(seen[0].header.from, conn.replyTopic, "the request tells the device where to answer");
    assert.equal(seen[0].header.sign, req.header.sign);
    assert.ok(!transport.address.includes(APP.password));
  });

  it("also takes replies the device sends to the request's from topic", async () => {
    const dev = await fakeDevice(DEVICE_A);
    answerSystemAll(dev, "from");
    const conn = await tlsConnection();
    const reply = await new MqttTransport({ uuid: DEVICE_A.uuid, client: conn }).send(systemAllGet());
    assert.equal(reply.header.namespace, "Appliance.System.All");
  });

  it("serves two devices over one shared connection", async () => {
    const a = await fakeDevice(DEVICE_A);
    const b = await fakeDevice(DEVICE_B);
    answerSystemAll(a);
    answerSystemAll(b);
    const conn = await tlsConnection();
    const [ra, rb] = await Promise.all([
      new MqttTransport({ uuid: DEVICE_A.uuid, client: conn }).send(systemAllGet()),
      new MqttTransport({ uuid: DEVICE_B.uuid, client: conn }).send(
        buildMessage({ method: "GET", namespace: "Appliance.System.All", key: "" }),
      ),
    ]);
    assert.equal(ra.header.uuid, DEVICE_A.uuid);
    assert.equal(rb.header.uuid, DEVICE_B.uuid);
  });

  it("times out with a TIMEOUT sentence when the device does not answer", async () => {
    await fakeDevice(DEVICE_A);
    const conn = await tlsConnection();
    const transport = new MqttTransport({ uuid: DEVICE_A.uuid, client: conn });
    await assert.rejects(
      () => transport.send(systemAllGet(), { timeoutMs: 300 }),
      (e: unknown) =>
        e instanceof MerossError &&
        e.code === "TIMEOUT" &&
        e.message.includes("GET Appliance.System.All") &&
        e.message.includes(DEVICE_A.uuid),
    );
  });

  it("ignores malformed messages on its topics and still gets the real reply", async () => {
    const dev = await fakeDevice(DEVICE_A);
    dev.answer((req) => {
      void dev.publish("{ garbage");
      void dev.publish(JSON.stringify({ header: "nope" }));
      void dev.publish("[]", String(req.header.from));
      return dev.message("GETACK", req.header.namespace, { all: {} }, { messageId: req.header.messageId });
    });
    const conn = await tlsConnection();
    const reply = await new MqttTransport({ uuid: DEVICE_A.uuid, client: conn }).send(systemAllGet());
    assert.equal(reply.header.method, "GETACK");
  });

  it("emits device pushes to the connection and to that device's transport only", async () => {
    const a = await fakeDevice(DEVICE_A);
    const conn = broker!.connection();
    closers.push(() => conn.close());
    await conn.waitOnline();
    const ta = new MqttTransport({ uuid: DEVICE_A.uuid, client: conn });
    const tb = new MqttTransport({ uuid: DEVICE_B.uuid, client: conn });
    const forB: Envelope[] = [];
    tb.events.on("push", (e: Envelope) => forB.push(e));
    const viaConn = new Promise<MqttPushEvent>((resolve) => conn.events.once("push", resolve));
    const viaTransport = new Promise<Envelope>((resolve) => ta.events.once("push", resolve));
    await a.publish(a.message("PUSH", "Appliance.Control.ToggleX", { togglex: [{ channel: 0, onoff: 1 }] }));
    assert.equal((await viaConn).uuid, DEVICE_A.uuid);
    assert.equal((await viaTransport).header.namespace, "Appliance.Control.ToggleX");
    assert.equal(forB.length, 0);
  });

  it("works in-process through the embedded broker, and goes offline when it stops", async () => {
    const dev = await fakeDevice(DEVICE_A);
    answerSystemAll(dev);
    const conn = broker!.connection();
    closers.push(() => conn.close());
    await conn.waitOnline();
    const transport = new MqttTransport({ uuid: DEVICE_A.uuid, client: conn });
    const reply = await transport.send(systemAllGet());
    assert.equal(reply.header.method, "GETACK");

    const offline = new Promise<void>((resolve) => conn.events.once("offline", () => resolve()));
    await broker!.stop();
    await offline;
    assert.equal(conn.online, false);
    await assert.rejects(
      () => transport.send(systemAllGet()),
      (e: unknown) => e instanceof MerossError && e.code === "UNREACHABLE",
    );
  });

  it("rejects a first connect that fails with UNREACHABLE and a reason", async () => {
    const other = generateCertificates({ host: "127.0.0.1" });
    await assert.rejects(
      () => tlsConnection({ ca: other.caCert }),
      (e: unknown) => e instanceof MerossError && e.code === "UNREACHABLE" && /certificate/.test(e.message),
    );
    await assert.rejects(
      () => tlsConnection({ password: "wrong" }),
      (e: unknown) =>
        e instanceof MerossError && e.code === "UNREACHABLE" && /user name or password/.test(e.message) && !e.message.includes("wrong"),
    );
  });

  it("rejects bad addresses and uuids with BAD_INPUT", async () => {
    assert.throws(
      () => MqttConnection.create({ url: "http://127.0.0.1:1" }),
      (e: unknown) => e instanceof MerossError && e.code === "BAD_INPUT" && /mqtts:\/\//.test(e.message),
    );
    const conn = broker!.connection();
    closers.push(() => conn.close());
    assert.throws(
      () => new MqttTransport({ uuid: "a/+/b", client: conn }),
      (e: unknown) => e instanceof MerossError && e.code === "BAD_INPUT",
    );
  });
});
