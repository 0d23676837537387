import assert from "node:assert/strict";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SimulatedDevice, type RequestEvent } from "../../src/simulator/device";
import { freePort, injectNode, requireProgram, ROOT, startNodeRed, type NodeRed } from "./harness";

const MOSQUITTO = process.env.MOSQUITTO_PATH ?? "/usr/sbin/mosquitto";
const CLI = path.join(ROOT, "dist", "cli", "index.js");
const KEY_A = "first-device-key";
const KEY_B = "second-device-key";
const WIFI = "mqtt-e2e-wifi-pass";

type Flow = Array<Record<string, unknown>>;

function until(cond: () => boolean, what: string, timeoutMs = 30000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

/** The flow a user builds: broker, onboarding with arrival, a light on `auto`, live state. */
function flowFor(broker: Record<string, unknown>, fresh: SimulatedDevice, second: SimulatedDevice): { flow: Flow } {
  const z = "mqtt-tab";
  const inj = (id: string, payload: string, wire: string) => injectNode(z, id, payload, wire);
  const dbg = (id: string) => ({
    id,
    type: "debug",
    z,
    name: id,
    active: true,
    tosidebar: false,
    console: true,
    complete: "payload",
    targetType: "msg",
    x: 500,
    y: 100,
    wires: [],
  });
  return {
    flow: [
      { id: z, type: "tab", label: "mqtt" },
      { id: "e2e-broker-cfg", type: "meross-broker", name: "MQTT broker", ...broker },
      {
        id: "onboard",
        type: "meross-onboard",
        z,
        address: fresh.address,
        ssid: fresh.networks[0].ssid,
        bssid: "",
        channel: "",
        encryption: "",
        cipher: "",
        mqttHost: "127.0.0.1",
        mqttPort: "",
        userId: "0",
        broker: "e2e-broker-cfg",
        timeout: "30",
        x: 300,
        y: 100,
        credentials: { wifiPassword: WIFI, key: KEY_A },
        wires: [["onboarded"]],
      },
      {
        id: "cfg-a",
        type: "meross-config",
        name: "fresh",
        host: fresh.address,
        userId: "0",
        transport: "auto",
        broker: "e2e-broker-cfg",
        uuid: fresh.uuid,
        credentials: { key: KEY_A },
      },
      {
        id: "cfg-b",
        type: "meross-config",
        name: "second",
        host: second.address,
        userId: "0",
        transport: "auto",
        broker: "e2e-broker-cfg",
        uuid: second.uuid,
        credentials: { key: KEY_B },
      },
      { id: "light", type: "meross-light", z, device: "cfg-a", x: 300, y: 200, wires: [["lit"]] },
      { id: "plug", type: "meross-toggle", z, device: "cfg-b", channel: "0", x: 300, y: 300, wires: [["switched"]] },
      { id: "state", type: "meross-state", z, broker: "e2e-broker-cfg", pollInterval: "0", x: 300, y: 400, wires: [["pushed"]] },
      inj("go-onboard", "", "onboard"),
      inj("go-red", "#ff0000", "light"),
      inj("go-blue", "#0000ff", "light"),
      inj("go-green", "#00ff00", "light"),
      inj("go-plug-on", "on", "plug"),
      dbg("onboarded"),
      dbg("lit"),
      dbg("switched"),
      // The whole msg: the device's uuid is in msg.meross, the change in msg.payload.
      { ...dbg("pushed"), complete: "true" },
      { id: "catch", type: "catch", z, scope: null, uncaught: false, x: 100, y: 500, wires: [["errors"]] },
      dbg("errors"),
    ],
  };
}

/**
 * Issue 4 end to end, in real Node-RED: onboarding confirmed by the broker, control over
 * MQTT, pushes reaching meross-state, two devices with two keys, a refused device, and
 * (with Mosquitto) the broker going away and coming back without losing a command.
 */
describe("cloud-free MQTT end to end (real Node-RED)", function () {
  this.timeout(120000);
  let red: NodeRed | undefined;
  const sims: SimulatedDevice[] = [];
  let mosquitto: ChildProcess | undefined;
  let certDir: string | undefined;

  afterEach(async () => {
    mosquitto?.kill("SIGTERM");
    mosquitto = undefined;
    await red?.stop();
    red = undefined;
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
    certDir = undefined;
  });

  async function fire(id: string, expect: RegExp): Promise<void> {
    const res = await red!.post(`/inject/${id}`, {});
    assert.equal(res.status, 200, res.body);
    await red!.waitForLog(expect, 40000);
  }

  /**
   * A light command goes over MQTT, and a button press on the second device reaches
   * meross-state as a push. Returns the paths the first device's requests take from now on.
   */
  async function controlAndWatch(fresh: SimulatedDevice, second: SimulatedDevice): Promise<string[]> {
    const via: string[] = [];
    fresh.on("request", (r: RequestEvent) => via.push(r.via));
    await fire("go-red", /#ff0000/);
    assert.equal(fresh.state.light?.rgb, 0xff0000);
    assert.ok(via.includes("mqtt"), `the light command went over MQTT (saw ${via.join(",")})`);
    second.press(0);
    // msg.payload (the change) comes before msg.meross (the device) in the logged msg.
    await red!.waitForLog(new RegExp(`kind: 'toggle'[\\s\\S]*?source: 'push'[\\s\\S]*?${second.uuid}`), 20000);
    return via;
  }

  it("embedded broker: onboarding confirms arrival, MQTT control, pushes, two keys, a refused device", async () => {
    const port = await freePort();
    const fresh = await SimulatedDevice.start({ model: "msl120", port: 0, unconfigured: true, mqttReconnectMs: 300 });
    fresh.expectWifiPassword(fresh.networks[0].ssid, WIFI);
    const second = await SimulatedDevice.start({
      model: "mss310",
      port: 0,
      key: KEY_B,
      gateway: { host: "127.0.0.1", port },
      userId: "0",
      mqttReconnectMs: 300,
    });
    const intruder = await SimulatedDevice.start({
      model: "mss310",
      port: 0,
      key: "a-key-nobody-configured",
      gateway: { host: "127.0.0.1", port },
      userId: "0",
      mqttReconnectMs: 300,
    });
    sims.push(fresh, second, intruder);
    red = await startNodeRed();
    const { flow } = flowFor(
      { mode: "embedded", port: String(port), bindHost: "127.0.0.1", certHost: "127.0.0.1", allowAnonymous: false },
      fresh,
      second,
    );
    await red.deploy(flow);

    await fire("go-onboard", /device arrived/);
    await until(() => fresh.mqttState === "connected", "the onboarded device on the broker");
    assert.equal(fresh.key, KEY_A);
    await until(() => second.mqttState === "connected", "the second device (another key) on the broker");
    await until(() => intruder.mqttState === "refused", "the device with an unknown key refused");

    await controlAndWatch(fresh, second);
    await fire("go-plug-on", /\[debug:switched\]/);
    assert.equal(second.state.channels[0].on, true);
    assert.doesNotMatch(red.log(), new RegExp(`${KEY_A}|${KEY_B}|${WIFI}`));
  });

  it("Mosquitto with certificates from `meross certs`: same flow, broker stopped and restarted, no command lost", async function () {
    if (!requireProgram(this, MOSQUITTO, "Mosquitto", "install it with `apt-get install mosquitto`")) return;
    const port = await freePort();
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), "meross-mosq-"));
    // Mosquitto started as root reads its files as user "mosquitto": the folder must be readable.
    fs.chmodSync(certDir, 0o755);
    // This flow onboards through the node without a Mosquitto login: the open config (test/e2e/mosquitto_secure_spec.ts covers logins).
    const printed = execFileSync(
      process.execPath,
      [CLI, "certs", "--host", "127.0.0.1", "--out", certDir, "--port", String(port), "--anonymous"],
      { stdio: "pipe" },
    );
    const chown = /^ {2}sudo (chown mosquitto .+)$/m.exec(printed.toString());
    if (process.getuid?.() === 0 && chown) execFileSync("sh", ["-c", chown[1]]);
    const conf = path.join(certDir, "mosquitto.conf");
    const startMosquitto = async () => {
      const proc = spawn(MOSQUITTO, ["-c", conf], { stdio: "ignore" });
      mosquitto = proc;
      await until(
        () => {
          try {
            execFileSync("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`], { stdio: "ignore" });
            return true;
          } catch {
            return false;
          }
        },
        "Mosquitto listening",
        15000,
      );
    };
    await startMosquitto();

    const fresh = await SimulatedDevice.start({ model: "msl120", port: 0, unconfigured: true, mqttReconnectMs: 300 });
    fresh.expectWifiPassword(fresh.networks[0].ssid, WIFI);
    const second = await SimulatedDevice.start({
      model: "mss310",
      port: 0,
      key: KEY_B,
      gateway: { host: "127.0.0.1", port },
      userId: "0",
      mqttReconnectMs: 300,
    });
    sims.push(fresh, second);
    red = await startNodeRed();
    const ca = fs.readFileSync(path.join(certDir, "ca.crt"), "utf8");
    const { flow } = flowFor(
      { mode: "existing", url: `mqtts://127.0.0.1:${port}`, ca, username: "", rejectUnauthorized: true },
      fresh,
      second,
    );
    await red.deploy(flow);

    await fire("go-onboard", /device arrived/);
    await until(() => fresh.mqttState === "connected", "the onboarded device on Mosquitto");
    const via = await controlAndWatch(fresh, second);

    // The broker goes away: HTTP keeps the device controllable.
    mosquitto!.kill("SIGTERM");
    await until(() => fresh.mqttState !== "connected", "the device noticing the broker is gone");
    via.length = 0;
    await fire("go-blue", /#0000ff/);
    assert.equal(fresh.state.light?.rgb, 0x0000ff);
    assert.ok(via.includes("http"), `with the broker down the command went over HTTP (saw ${via.join(",")})`);

    // The broker comes back: device and nodes reconnect, and MQTT carries commands again.
    await startMosquitto();
    await until(() => fresh.mqttState === "connected", "the device back on Mosquitto");
    via.length = 0;
    const t0 = Date.now();
    while (!via.includes("mqtt") && Date.now() - t0 < 30000) {
      await fire("go-green", /#00ff00/);
      assert.equal(fresh.state.light?.rgb, 0x00ff00, "every command lands, whichever path it takes");
      if (!via.includes("mqtt")) await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(via.includes("mqtt"), "after the restart commands go over MQTT again");
    assert.doesNotMatch(red.log(), /\[debug:errors\]/, "no command failed");
  });
});
