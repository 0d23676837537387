import assert from "node:assert/strict";
import type { EventEmitter } from "node:events";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import toggleModule = require("../../src/nodes/meross-toggle");
import onboardModule = require("../../src/nodes/meross-onboard");
import type { RequestEvent, SimulatedDevice } from "../../src/simulator";
import { helper, startDevice, nextMessage, onTab, configNode, CATCH_NODES, useRuntime } from "./helpers";
import { brokerNode, brokerPort, getBroker, statuses, waitListening } from "./broker-helpers";

type Step = { name: string; ok: boolean; ms: number; detail?: string; error?: string };

const NEW_KEY = "onboarded-through-node-key-5";

/** A full deploy with new credentials, waiting for the runtime's own "flows:started". */
async function redeploy(flow: Array<Record<string, unknown>>, credentials: Record<string, unknown>): Promise<void> {
  const internals = helper as unknown as {
    _events: EventEmitter;
    _redNodes: { setFlows(f: unknown[], c: unknown, t: string): Promise<unknown> };
  };
  const started = new Promise((r) => internals._events.once("flows:started", r));
  await internals._redNodes.setFlows(flow, credentials, "full");
  await started;
}
const WIFI_PASSWORD = "correct horse battery";
const MODULES = [brokerModule, configModule, toggleModule, onboardModule];

describe("meross-onboard node with a meross-broker", function () {
  let sim: SimulatedDevice | undefined;

  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function load(wifiPassword = WIFI_PASSWORD, props: Record<string, unknown> = {}, withConfig = false) {
    sim = await startDevice({ model: "mss310", unconfigured: true, mqttReconnectMs: 50 });
    sim.expectWifiPassword("HomeNet", WIFI_PASSWORD);
    const configs = [brokerNode()];
    if (withConfig) configs.push(configNode("c1", sim.address, { broker: "b1", transport: "auto", uuid: sim.uuid }));
    const flow = onTab(configs, [
      {
        id: "o1",
        type: "meross-onboard",
        name: "",
        address: sim.address,
        ssid: "HomeNet",
        bssid: "",
        channel: "",
        encryption: "",
        cipher: "",
        mqttHost: "",
        mqttPort: "",
        userId: "7",
        broker: "b1",
        timeout: "20",
        wires: [["out"]],
        ...props,
      },
      { id: "t1", type: "meross-toggle", device: "c1", channel: "0", wires: [["tout"]] },
      { id: "out", type: "helper" },
      { id: "tout", type: "helper" },
      ...CATCH_NODES,
    ]);
    const creds: Record<string, Record<string, string>> = { o1: { wifiPassword, key: NEW_KEY } };
    if (withConfig) creds.c1 = { key: NEW_KEY };
    await helper.load(MODULES, flow, creds);
    return { o1: helper.getNode("o1"), out: helper.getNode("out"), caught: helper.getNode("caught"), sim, flow, creds };
  }

  it("onboards onto the broker's address, waits for the device to log in and reports where it arrived", async () => {
    const { o1, out, sim } = await load();
    const st = statuses(o1);
    const port = await brokerPort();
    const got = nextMessage<{ payload: { steps: Step[]; device: { uuid: string; ip: string }; mqtt: { host: string; port: number } } }>(
      out,
      30_000,
    );
    o1.receive({ payload: 1 });
    const msg = await got;
    const steps = msg.payload.steps;
    assert.deepEqual(
      steps.map((s) => s.name),
      ["read device", "read abilities", "scan wifi", "set key", "set time", "set wifi", "device arrived"],
    );
    const arrived = steps[steps.length - 1];
    assert.equal(arrived.ok, true);
    assert.equal(typeof arrived.ms, "number");
    assert.equal(arrived.detail, `${sim.uuid} at 127.0.0.1`);
    assert.equal(msg.payload.device.uuid, sim.uuid);
    assert.equal(msg.payload.device.ip, "127.0.0.1");
    assert.deepEqual(
      [msg.payload.mqtt.host, msg.payload.mqtt.port],
      ["127.0.0.1", port],
      "the broker's certificate host and port were given to the device",
    );
    assert.deepEqual(sim.gateway && [sim.gateway.host, sim.gateway.port], ["127.0.0.1", port]);
    assert.equal(sim.mqttState, "connected", "the broker accepted the new key");
    assert.ok(
      getBroker()
        .devices()
        .some((d) => d.uuid === sim.uuid),
    );
    assert.ok(st.some((s) => s.text === "waiting for device…"));
    assert.equal(st[st.length - 1].text, "arrived at 127.0.0.1");
    const everything = JSON.stringify({ msg, st, logs: helper.log().args });
    assert.ok(!everything.includes(NEW_KEY) && !everything.includes(WIFI_PASSWORD), "no secret in the output, status or log");
  });

  it("names access-point mode when the device could not join Wi-Fi (wrong password)", async () => {
    const { o1, caught, sim } = await load("wrong wifi password", { timeout: "1" });
    const st = statuses(o1);
    const got = nextMessage<{ error: { code: string; message: string }; meross: { steps: Step[]; reason: string } }>(caught, 30_000);
    o1.receive({ payload: 1 });
    const msg = await got;
    assert.equal(msg.error.code, "TIMEOUT");
    assert.match(msg.error.message, /access-point mode/);
    assert.match(msg.error.message, /Wi-Fi password/);
    assert.equal(msg.meross.reason, "access-point");
    const last = msg.meross.steps[msg.meross.steps.length - 1];
    assert.deepEqual([last.name, last.ok], ["device arrived", false]);
    assert.equal(sim.mode, "ap");
    assert.equal(st[st.length - 1].text, "stayed in AP mode: check Wi-Fi password");
    assert.ok(!JSON.stringify(msg).includes("wrong wifi password") && !JSON.stringify(msg).includes(NEW_KEY));
  });

  it("after a wrong Wi-Fi password, Scan works and a retry with the right password onboards the device (the node accepts the key it set)", async () => {
    const { o1, out, caught, sim, flow } = await load("wrong wifi password", { timeout: "1" });
    const failed = nextMessage<{ error: { message: string } }>(caught, 30_000);
    o1.receive({ payload: 1 });
    const first = await failed;
    assert.match(
      first.error.message,
      /^The device stayed in access-point mode: it probably could not join "HomeNet" — check the Wi-Fi password and that the network is 2\.4 GHz.*then retry/,
    );
    assert.equal(sim.mode, "ap");
    assert.equal(sim.key, NEW_KEY, "the device kept the key of the failed attempt");

    const scanned = nextMessage<{ payload: Array<{ ssid: string }> }>(out, 30_000);
    o1.receive({ payload: "scan" });
    assert.ok(
      (await scanned).payload.some((n) => n.ssid === "HomeNet"),
      "the Scan is not refused as 'not signed with this device's key'",
    );

    // The user corrects the password in the dialog and deploys.
    const fixed = flow.map((n) => (n.id === "o1" ? { ...n, timeout: "20" } : n));
    await redeploy(fixed, { o1: { wifiPassword: WIFI_PASSWORD, key: NEW_KEY } });
    const again = nextMessage<{ payload: { steps: Step[] } }>(helper.getNode("out"), 30_000);
    helper.getNode("o1").receive({ payload: 1 });
    const steps = (await again).payload.steps;
    assert.ok(steps.every((s) => s.ok));
    assert.equal(steps[steps.length - 1].name, "device arrived");
    assert.equal(sim.mode, "normal");
    assert.equal(sim.mqttState, "connected");
  });

  it("a retry after the key was changed in the dialog still works: the node remembers the key its last attempt set", async () => {
    const { o1, caught, sim, flow } = await load("wrong wifi password", { timeout: "1" });
    const failed = nextMessage(caught, 30_000);
    o1.receive({ payload: 1 });
    await failed;
    assert.deepEqual([sim.mode, sim.key], ["ap", NEW_KEY]);
    const otherKey = "a-second-thought-key-6";
    await redeploy(
      flow.map((n) => (n.id === "o1" ? { ...n, timeout: "20" } : n)),
      { o1: { wifiPassword: WIFI_PASSWORD, key: otherKey } },
    );
    const again = nextMessage<{ payload: { steps: Step[] } }>(helper.getNode("out"), 30_000);
    helper.getNode("o1").receive({ payload: 1 });
    const steps = (await again).payload.steps;
    assert.equal(steps[steps.length - 1].name, "device arrived");
    assert.deepEqual([sim.mode, sim.key], ["normal", otherKey]);
  });

  it("an onboarded device is then controlled over MQTT by a meross-config with the new key", async () => {
    const { o1, out, sim } = await load(WIFI_PASSWORD, {}, true);
    const got = nextMessage(out, 30_000);
    o1.receive({ payload: 1 });
    await got;
    await waitListening(sim);
    const seen: RequestEvent[] = [];
    sim.on("request", (r: RequestEvent) => seen.push(r));
    const done = nextMessage(helper.getNode("tout"));
    helper.getNode("t1").receive({ payload: "on" });
    assert.equal((await done).payload, true);
    assert.equal(sim.state.channels[0].on, true);
    assert.ok(seen.some((r) => r.method === "SET" && r.via === "mqtt"));
  });

  it("refuses an unusable arrival timeout before touching the device", async () => {
    const { o1, caught, sim } = await load(WIFI_PASSWORD, { timeout: "soon" });
    const got = nextMessage<{ error: { code: string; message: string } }>(caught);
    o1.receive({ payload: 1 });
    const err = (await got).error;
    assert.equal(err.code, "BAD_INPUT");
    assert.match(err.message, /arrival timeout/);
    assert.equal(sim.mode, "ap");
  });
});
