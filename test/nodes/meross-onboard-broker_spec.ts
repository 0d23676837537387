import assert from "node:assert/strict";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import toggleModule = require("../../src/nodes/meross-toggle");
import onboardModule = require("../../src/nodes/meross-onboard");
import type { RequestEvent, SimulatedDevice } from "../../src/simulator";
import { helper, startDevice, nextMessage, onTab, configNode, CATCH_NODES, useRuntime } from "./helpers";
import { brokerNode, brokerPort, getBroker, statuses, waitListening } from "./broker-helpers";

type Step = { name: string; ok: boolean; ms: number; detail?: string; error?: string };

const NEW_KEY = "onboarded-through-node-key-5";
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
    return { o1: helper.getNode("o1"), out: helper.getNode("out"), caught: helper.getNode("caught"), sim };
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
    assert.equal(st[st.length - 1].text, "still in AP mode");
    assert.ok(!JSON.stringify(msg).includes("wrong wifi password") && !JSON.stringify(msg).includes(NEW_KEY));
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
