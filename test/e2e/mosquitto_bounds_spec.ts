/**
 * The Mosquitto configuration `meross certs` writes, against the real Mosquitto, under the
 * attacks of issue 16: a CONNECT claiming 256 MB before any login, a PUBLISH claiming 256 MB
 * after one, QoS 2 publishes whose PUBREL never comes, and retained messages. Each is refused
 * and Mosquitto's memory stays bounded.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { requireProgram } from "./harness";
import { MOSQUITTO, mosquittoDir, startMosquittoOnFreePort, until, writeSecureConfig, type RunningMosquitto } from "./mosquitto-harness";
import { hugeConnect, hugePublish, qos2Flood, rssOf } from "./mosquitto-attacks";
import { addMosquittoDevice } from "../../src/core/broker/mosquitto";
import { DEVICE_A, FakeDevice } from "../core/broker/fake_device";

const MB = 1024 * 1024;
/** Mosquitto's RSS may grow this much above idle (without the bounds, one CONNECT took it to 248 MB). */
const RSS_BOUND = 50 * MB;
const DEVICE_TOPIC = `/appliance/${DEVICE_A.uuid}/subscribe`;

describe("Mosquitto from `meross certs`: bounded before and after login (real Mosquitto)", function () {
  this.timeout(120_000);
  let dir = "";
  let port = 0;
  let mosquitto: RunningMosquitto | undefined;
  let password = "";
  const clients: MqttClient[] = [];

  before(async function () {
    if (!requireProgram(this, MOSQUITTO, "Mosquitto", "install it with `apt-get install mosquitto`")) return;
    dir = mosquittoDir("meross-mosq-bounds-");
    await writeSecureConfig(dir);
    password = fs.readFileSync(path.join(dir, "nodered.password"), "utf8").trim();
    addMosquittoDevice(dir, { ...DEVICE_A, userId: "0" });
    mosquitto = await startMosquittoOnFreePort(dir);
    port = mosquitto.port;
  });
  afterEach(async function () {
    if (this.currentTest?.state === "failed") process.stderr.write(`\nMosquitto log:\n${mosquitto?.log().slice(-4000) ?? ""}\n`);
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  });
  after(async () => {
    await mosquitto?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function login(): Promise<MqttClient> {
    const ca = fs.readFileSync(path.join(dir, "ca.crt"));
    return mqtt
      .connectAsync(`mqtts://127.0.0.1:${port}`, { ca, username: "nodered", password, reconnectPeriod: 0, protocolVersion: 4 })
      .then((c) => (clients.push(c), c));
  }

  /** Runs `attack` while sampling Mosquitto's RSS; returns the peak above idle. */
  async function peakDuring(attack: () => Promise<unknown>): Promise<number> {
    const pid = mosquitto!.proc.pid!;
    const idle = rssOf(pid);
    let peak = idle;
    const t = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 10);
    try {
      await attack();
    } finally {
      clearInterval(t);
    }
    return Math.max(peak, rssOf(pid)) - idle;
  }

  it("the configuration caps packets, keeps no retained message and bounds each client's queue", function () {
    if (!mosquitto) return this.skip();
    const conf = fs.readFileSync(path.join(dir, "mosquitto.conf"), "utf8");
    assert.match(conf, /^max_packet_size 70656$/m);
    assert.match(conf, /^retain_available false$/m);
    assert.match(conf, /^max_queued_bytes \d+$/m);
  });

  it("four CONNECTs claiming 256 MB before login are dropped early, and memory stays bounded", async function () {
    if (!mosquitto) return this.skip();
    let results: Array<{ sent: number; dropped: boolean }> = [];
    const grew = await peakDuring(async () => {
      results = await Promise.all(Array.from({ length: 4 }, () => hugeConnect(port)));
    });
    assert.ok(
      results.every((r) => r.dropped),
      `every connection was dropped before 4 MB: ${JSON.stringify(results)}`,
    );
    assert.ok(grew < RSS_BOUND, `Mosquitto grew ${Math.round(grew / MB)} MB`);
    await login();
  });

  it("a PUBLISH claiming 256 MB after login is dropped early, and memory stays bounded", async function () {
    if (!mosquitto) return this.skip();
    let result: { sent: number; dropped: boolean; loggedIn: boolean } | undefined;
    const grew = await peakDuring(async () => {
      result = await hugePublish({ port, username: "nodered", password }, DEVICE_TOPIC);
    });
    assert.equal(result?.loggedIn, true, "the attacker had a login");
    assert.equal(result?.dropped, true, `dropped before 4 MB: ${JSON.stringify(result)}`);
    assert.ok(grew < RSS_BOUND, `Mosquitto grew ${Math.round(grew / MB)} MB`);
  });

  it("1,000 QoS 2 publishes of 60 KB without PUBREL from 4 logins leave memory bounded", async function () {
    if (!mosquitto) return this.skip();
    const grew = await peakDuring(async () => {
      await Promise.all(Array.from({ length: 4 }, () => qos2Flood({ port, username: "nodered", password }, DEVICE_TOPIC, 250)));
    });
    assert.ok(grew < RSS_BOUND, `Mosquitto grew ${Math.round(grew / MB)} MB`);
    await login();
  });

  it("refuses a retained message from a device: a later subscriber gets only live ones", async function () {
    if (!mosquitto) return this.skip();
    const dev = await FakeDevice.connect({ port, ...DEVICE_A, userId: "0" });
    let devClosed = false;
    dev.client.on("close", () => (devClosed = true));
    const stale = dev.message("PUSH", "Appliance.Control.ToggleX", { togglex: [{ channel: 0, onoff: 1 }] });
    dev.client.publish(dev.publishTopic, JSON.stringify(stale), { qos: 1, retain: true });
    await until(() => devClosed, "Mosquitto to drop the device that sent a retained message");
    await dev.close();
    const reader = await login();
    const got: string[] = [];
    reader.on("message", (_t, p) => got.push(p.toString()));
    await reader.subscribeAsync("/appliance/+/publish", { qos: 1 });
    // A live message after the subscription: had anything been retained, it would have arrived first.
    const again = await FakeDevice.connect({ port, ...DEVICE_A, userId: "0" });
    const live = again.message("PUSH", "Appliance.Control.ToggleX", { togglex: [{ channel: 0, onoff: 0 }] });
    await again.publish(live);
    await until(() => got.length > 0, "the live message");
    await again.close();
    assert.deepEqual(
      got.map((t) => (JSON.parse(t) as { header: { messageId: string } }).header.messageId),
      [live.header.messageId],
    );
  });
});
