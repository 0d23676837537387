/**
 * The Mosquitto set-up `meross certs` writes, against the real Mosquitto: no anonymous
 * client, each device confined to its own topics, the Node-RED login working end to end,
 * and no secret in what onboarding prints.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { run } from "../../src/cli/index";
import { addMosquittoDevice } from "../../src/core/broker/mosquitto";
import { mqttPassword } from "../../src/core/onboarding/config";
import { SimulatedDevice } from "../../src/simulator/device";
import { DEVICE_B, FakeDevice } from "../core/broker/fake_device";
import { freePort, memIo } from "../cli/helpers";
import { requireProgram } from "./harness";
import {
  MOSQUITTO,
  mosquittoDir,
  PortTakenError,
  startMosquitto,
  until,
  writeSecureConfig,
  type RunningMosquitto,
} from "./mosquitto-harness";

const KEY_A = "k3y-of-device-A";
const WIFI = "w1fi-pass-for-A";

describe("Mosquitto from `meross certs`: logins and per-device rules (real Mosquitto)", function () {
  this.timeout(60_000);
  let dir = "";
  let port = 0;
  let mosquitto: RunningMosquitto | undefined;
  let sim: SimulatedDevice | undefined;
  const clients: MqttClient[] = [];
  const fakes: FakeDevice[] = [];

  afterEach(async function () {
    if (this.currentTest?.state === "failed") process.stderr.write(`\nMosquitto log:\n${mosquitto?.log() ?? ""}\n`);
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await Promise.all(fakes.splice(0).map((f) => f.close()));
    await sim?.stop();
    sim = undefined;
    await mosquitto?.stop();
    mosquitto = undefined;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function client(opts: mqtt.IClientOptions): Promise<MqttClient> {
    const ca = fs.readFileSync(path.join(dir, "ca.crt"));
    return mqtt
      .connectAsync(`mqtts://127.0.0.1:${port}`, { ca, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...opts })
      .then((c) => {
        clients.push(c);
        return c;
      });
  }

  /** Messages a client receives, in order. */
  function inbox(c: MqttClient): Array<{ topic: string; text: string }> {
    const got: Array<{ topic: string; text: string }> = [];
    c.on("message", (topic, payload) => got.push({ topic, text: payload.toString("utf8") }));
    return got;
  }

  /**
   * Device A onboarded with the CLI while Mosquitto is stopped, so its login goes into the file
   * with the advice to restart Mosquitto, and device B's login added with the core function the
   * meross-onboard node uses; then Mosquitto started on the port device A was told.
   * Throws PortTakenError when another program took that port before Mosquitto could bind it.
   */
  async function onboardThenStart(): Promise<SimulatedDevice> {
    dir = mosquittoDir("meross-mosq-secure-");
    port = await freePort();
    // As root, also runs the chown the command prints, as printed (and fails if it prints none).
    await writeSecureConfig(dir, port);

    // Device A is onboarded with the CLI; its login is added before it is told about the broker.
    const a = await SimulatedDevice.start({ host: "127.0.0.1", port: 0, model: "mss310", unconfigured: true, mqttReconnectMs: 200 });
    sim = a;
    const keyFile = path.join(dir, "key.txt");
    const wifiFile = path.join(dir, "wifi.txt");
    fs.writeFileSync(keyFile, `${KEY_A}\n`, { mode: 0o600 });
    fs.writeFileSync(wifiFile, `${WIFI}\n`, { mode: 0o600 });
    const onb = memIo();
    const args = ["onboard", "--device", a.address, "--host", "127.0.0.1", "--port", String(port), "--mosquitto", dir, "--ssid", "HomeNet"];
    assert.equal(await run([...args, "--password-file", wifiFile, "--key-file", keyFile], onb.io), 0, onb.err());
    const log = JSON.parse(onb.out()) as { steps: Array<{ name: string }>; mqtt: Record<string, unknown> };
    assert.deepEqual(log.steps.map((s) => s.name).slice(3, 5), ["add broker login", "set key"]);
    assert.equal(log.mqtt.username, a.mac);
    assert.equal(log.mqtt.password, undefined, "the broker password is not in the result");
    for (const secret of [KEY_A, WIFI, mqttPassword(a.mac, KEY_A, "0")]) {
      assert.ok(!(onb.out() + onb.err()).includes(secret), `onboarding printed a secret (${secret.slice(0, 4)}…)`);
    }
    assert.match(onb.err(), /systemctl restart mosquitto/);
    // Device B's login through the core function the meross-onboard node uses.
    addMosquittoDevice(dir, { ...DEVICE_B, userId: "1234" });

    mosquitto = await startMosquitto(dir);
    return a;
  }

  /**
   * onboardThenStart, again on another port when another program took the one picked (what is
   * tested needs Mosquitto stopped while device A is told its port: onboarding adds the login
   * live to a running Mosquitto, so the port cannot come from a running one).
   */
  async function onboardedOnMosquitto(attempts = 3): Promise<SimulatedDevice> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await onboardThenStart();
      } catch (err) {
        if (!(err instanceof PortTakenError) || attempt >= attempts) throw err;
        await sim?.stop();
        sim = undefined;
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }

  it("refuses anonymous clients, keeps each device to its own topics, and lets the Node-RED login work", async function () {
    if (!requireProgram(this, MOSQUITTO, "Mosquitto", "install it with `apt-get install mosquitto`")) return;
    sim = await onboardedOnMosquitto();
    const keyFile = path.join(dir, "key.txt");
    await until(() => sim!.mqttState === "connected", "device A logged in with its derived password");

    // Anyone else is refused: no login at all, or the Node-RED user with a wrong password.
    await assert.rejects(client({}), /Not authorized|not authorised/i, "an anonymous client is refused");
    await assert.rejects(client({ username: "nodered", password: "guess" }), /Not authorized|not authorised|Bad User Name or Password/i);

    const password = fs.readFileSync(path.join(dir, "nodered.password"), "utf8").trim();
    const nodered = await client({ username: "nodered", password, clientId: "app:e2e-controller" });
    const pushes = inbox(nodered);
    await nodered.subscribeAsync("/appliance/+/publish", { qos: 1 });

    const b = await FakeDevice.connect({ port, ...DEVICE_B });
    fakes.push(b);
    const bGot = inbox(b.client);
    // Reading another device's commands or messages: the broker refuses the subscription...
    await assert.rejects(
      b.client.subscribeAsync([`/appliance/${sim.uuid}/subscribe`, `/appliance/${sim.uuid}/publish`, "#"], { qos: 1 }),
      (err: unknown) => {
        const granted = (err as { packet?: { granted?: unknown[] } }).packet?.granted;
        assert.deepEqual(granted, [128, 128, 128], "device B may not subscribe to device A's topics or to everything");
        return true;
      },
    );

    // ...and nothing of A's reaches B: a request to A goes through (Node-RED's login, via the CLI),
    // then a marker on B's own topic arrives; had A's command been forwarded, it would have come first.
    const req = memIo();
    const reqArgs = ["request", "--broker", `mqtts://127.0.0.1:${port}`, "--ca", path.join(dir, "ca.crt"), "--username", "nodered"];
    const code = await run(
      [
        ...reqArgs,
        "--password-file",
        path.join(dir, "nodered.password"),
        "--uuid",
        sim.uuid,
        "GET",
        "Appliance.System.All",
        "--key-file",
        keyFile,
      ],
      req.io,
    );
    assert.equal(code, 0, req.err());
    assert.equal(
      (JSON.parse(req.out()) as { payload: { all: { system: { hardware: { uuid: string } } } } }).payload.all.system.hardware.uuid,
      sim.uuid,
    );
    await nodered.publishAsync(`/appliance/${DEVICE_B.uuid}/subscribe`, "marker-for-B", { qos: 1 });
    await until(() => bGot.some((m) => m.text === "marker-for-B"), "the marker on B's own topic");
    assert.deepEqual(
      bGot.map((m) => m.topic),
      [`/appliance/${DEVICE_B.uuid}/subscribe`],
      "B saw only its own topic",
    );

    // Publishing as another device: B's forged push on A's topic is dropped, its own push arrives.
    await b.publish("forged-as-A", `/appliance/${sim.uuid}/publish`);
    await b.publish("from-B");
    await until(() => pushes.some((m) => m.text === "from-B"), "B's own push at Node-RED");
    assert.ok(!pushes.some((m) => m.text === "forged-as-A"), "B could not publish on A's topic");
  });

  it("refuses a broker URL with a password in it, pointing to --password-file, without echoing it", async () => {
    const m = memIo();
    const code = await run(
      [
        "request",
        "--broker",
        "mqtts://nodered:s3cr3t-pw@127.0.0.1:8883",
        "--uuid",
        "2308085712920951080748e1e9d58442",
        "GET",
        "Appliance.System.All",
      ],
      m.io,
    );
    assert.equal(code, 2);
    assert.match(m.err(), /user:password@.*--password-file/);
    assert.doesNotMatch(m.err() + m.out(), /s3cr3t-pw/);
  });
});
