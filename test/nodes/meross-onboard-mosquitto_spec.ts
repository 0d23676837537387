/**
 * meross-onboard re-binding an app-paired device through a meross-broker in "existing" mode
 * pointed at the real Mosquitto `meross certs` set up: with the Admin user filled in, the
 * device's login is added live before the device is told about the broker, so it arrives
 * (Mosquitto never restarted); without it, the node says what to fill in.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import onboardModule = require("../../src/nodes/meross-onboard");
import type { SimulatedDevice } from "../../src/simulator";
import { ADMIN_PASSWORD_FILE } from "../../src/core/broker/dynsec";
import { mqttPassword } from "../../src/core/onboarding/config";
import { helper, startDevice, nextMessage, onTab, CATCH_NODES, useRuntime } from "./helpers";
import { brokerNode } from "./broker-helpers";
import { requireProgram } from "../e2e/harness";
import {
  MOSQUITTO,
  mosquittoDir,
  startMosquittoOnFreePort,
  until,
  writeSecureConfig,
  type RunningMosquitto,
} from "../e2e/mosquitto-harness";

type Step = { name: string; ok: boolean; detail?: string; error?: string };

const APP_KEY = "account-key-of-the-app";
const NEW_KEY = "key-after-rebind-through-mosquitto";

describe("meross-onboard re-binds an app-paired device onto Mosquitto through a meross-broker (real Mosquitto)", function () {
  this.timeout(60_000);
  let dir = "";
  let port = 0;
  let mosquitto: RunningMosquitto | undefined;
  let sim: SimulatedDevice | undefined;
  const read = (file: string): string => fs.readFileSync(path.join(dir, file), "utf8").trim();

  before(async function () {
    if (!requireProgram(this, MOSQUITTO, "Mosquitto", "install it with `apt-get install mosquitto`")) return;
    dir = mosquittoDir("meross-mosq-node-");
    await writeSecureConfig(dir);
    mosquitto = await startMosquittoOnFreePort(dir);
    port = mosquitto.port;
  });

  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  after(async () => {
    await mosquitto?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function load(admin: boolean, timeout: string) {
    sim = await startDevice({ model: "mss310", key: APP_KEY, appPaired: true, mqttReconnectMs: 100 });
    const broker = brokerNode("b1", {
      mode: "existing",
      url: `mqtts://127.0.0.1:${port}`,
      ca: path.join(dir, "ca.crt"),
      username: "nodered",
      ...(admin ? { adminUser: "meross-admin" } : {}),
    });
    const flow = onTab(
      [broker],
      [
        { id: "o1", type: "meross-onboard", mode: "rebind", address: sim.address, broker: "b1", timeout, wires: [["out"]] },
        { id: "out", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    const creds = { password: read("nodered.password"), ...(admin ? { adminPassword: read(ADMIN_PASSWORD_FILE) } : {}) };
    await helper.load([brokerModule, configModule, onboardModule], flow, { b1: creds, o1: { currentKey: APP_KEY, key: NEW_KEY } });
    return { o1: helper.getNode("o1"), out: helper.getNode("out"), caught: helper.getNode("caught"), sim };
  }

  it("adds the device's login live through the Admin user, then the device arrives; no secret anywhere", async function () {
    if (!mosquitto) return this.skip();
    const pid = mosquitto.proc.pid;
    const { o1, out, sim } = await load(true, "20");
    const got = nextMessage<{ payload: { steps: Step[]; device: { uuid: string } } }>(out, 30_000);
    o1.receive({ payload: 1 });
    const msg = await got;
    const names = msg.payload.steps.map((s) => s.name).filter((n) => n !== "set up encryption");
    assert.deepEqual(names, ["read device", "add broker login", "set key", "device arrived"]);
    assert.ok(msg.payload.steps.every((s) => s.ok));
    assert.match(msg.payload.steps[names.indexOf("add broker login")].detail ?? "", /added live on mqtts:\/\/127\.0\.0\.1/);
    assert.equal(msg.payload.device.uuid, sim.uuid);
    assert.equal(sim.key, NEW_KEY);
    await until(() => sim.mqttState === "connected", "the device is connected to Mosquitto");
    assert.equal(mosquitto.proc.pid, pid, "Mosquitto was not restarted");
    const everything = JSON.stringify({ msg, logs: helper.log().args });
    const secrets = [APP_KEY, NEW_KEY, read(ADMIN_PASSWORD_FILE), read("nodered.password"), mqttPassword(sim.mac, NEW_KEY, "0")];
    for (const s of secrets) assert.ok(!everything.includes(s), `a secret reached the output or the log (${s.slice(0, 4)}…)`);
  });

  it("without an Admin user it warns that Mosquitto will refuse the device and says what to fill in", async function () {
    if (!mosquitto) return this.skip();
    const { o1, caught } = await load(false, "2");
    const got = nextMessage<{ error: { message: string }; meross: { steps: Step[] } }>(caught, 20_000);
    o1.receive({ payload: 1 });
    const msg = await got;
    const warned = helper
      .log()
      .args.map((a) => JSON.stringify(a[0]))
      .filter((t) => t.includes("meross-onboard") && t.includes("Admin user"));
    assert.ok(warned.length > 0, "the node warned before touching the device");
    assert.match(msg.error.message, /refuses this device.*Fill in Admin user \(meross-admin\) and Admin password/);
    assert.deepEqual(
      msg.meross.steps.filter((s) => s.name !== "set up encryption").map((s) => [s.name, s.ok]),
      [
        ["read device", true],
        ["set key", true],
        ["device arrived", false],
      ],
    );
  });
});
