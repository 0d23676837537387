import assert from "node:assert/strict";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import toggleModule = require("../../src/nodes/meross-toggle");
import onboardModule = require("../../src/nodes/meross-onboard");
import type { RequestEvent, SimulatedDevice } from "../../src/simulator";
import { helper, startDevice, nextMessage, onTab, configNode, CATCH_NODES, useRuntime } from "./helpers";
import { brokerNode, getBroker, statuses, waitListening } from "./broker-helpers";

type Step = { name: string; ok: boolean; ms: number; detail?: string; error?: string };

const APP_KEY = "the-meross-account-key";
const NEW_KEY = "rebound-through-node-key";
const MODULES = [brokerModule, configModule, toggleModule, onboardModule];

describe("meross-onboard in re-bind mode: a device the Meross app set up moves to our broker", function () {
  let sim: SimulatedDevice | undefined;

  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function load(currentKey: string, model = "mss310") {
    sim = await startDevice({ model, key: APP_KEY, appPaired: true, mqttReconnectMs: 50 });
    const flow = onTab(
      [brokerNode(), configNode("c1", sim.address, { broker: "b1", transport: "auto", uuid: sim.uuid })],
      [
        {
          id: "o1",
          type: "meross-onboard",
          mode: "rebind",
          address: sim.address,
          mqttHost: "",
          mqttPort: "",
          userId: "7",
          broker: "b1",
          timeout: "20",
          wires: [["out"]],
        },
        { id: "t1", type: "meross-toggle", device: "c1", channel: "0", wires: [["tout"]] },
        { id: "out", type: "helper" },
        { id: "tout", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load(MODULES, flow, { o1: { currentKey, key: NEW_KEY }, c1: { key: NEW_KEY } });
    return { o1: helper.getNode("o1"), out: helper.getNode("out"), caught: helper.getNode("caught"), sim };
  }

  it("sends only Config.Key over the LAN, keeps the Wi-Fi, waits for the arrival, then a toggle works with the new key", async function () {
    this.timeout(30_000);
    const { o1, out, sim } = await load(APP_KEY, "mss110");
    const st = statuses(o1);
    const wifi = sim.wifi;
    const lanSets: string[] = [];
    sim.on("request", (r: RequestEvent) => r.method === "SET" && r.via === "http" && lanSets.push(r.namespace));
    const got = nextMessage<{ payload: { steps: Step[]; device: { uuid: string; ip: string }; wifi?: unknown } }>(out, 30_000);
    o1.receive({ payload: 1 });
    const msg = await got;
    const names = msg.payload.steps.map((s) => s.name).filter((n) => n !== "set up encryption");
    assert.deepEqual(names, ["read device", "set key", "device arrived"]);
    assert.ok(msg.payload.steps.every((s) => s.ok));
    assert.equal(msg.payload.device.uuid, sim.uuid);
    assert.equal(msg.payload.device.ip, "127.0.0.1");
    assert.equal(msg.payload.wifi, undefined);
    assert.deepEqual(lanSets, ["Appliance.Config.Key"]);
    assert.deepEqual(sim.wifi, wifi);
    assert.equal(sim.key, NEW_KEY);
    assert.ok(
      getBroker()
        .devices()
        .some((d) => d.uuid === sim.uuid),
    );
    assert.equal(st[st.length - 1].text, "arrived at 127.0.0.1");
    await waitListening(sim);
    const done = nextMessage(helper.getNode("tout"));
    helper.getNode("t1").receive({ payload: "on" });
    assert.equal((await done).payload, true);
    assert.equal(sim.state.channels[0].on, true);
    const everything = JSON.stringify({ msg, st, logs: helper.log().args });
    assert.ok(!everything.includes(NEW_KEY) && !everything.includes(APP_KEY), "no key in the output, status or log");
  });

  it("a wrong current key fails at 'read device' with WRONG_KEY and leaves the device with the app", async () => {
    const { o1, caught, sim } = await load("not-the-account-key");
    const got = nextMessage<{ error: { code: string; message: string }; meross: { steps: Step[] } }>(caught, 15_000);
    o1.receive({ payload: 1 });
    const msg = await got;
    assert.equal(msg.error.code, "WRONG_KEY");
    assert.deepEqual(
      msg.meross.steps.map((s) => [s.name, s.ok]),
      [["read device", false]],
    );
    assert.equal(sim.key, APP_KEY);
    assert.ok(!JSON.stringify(msg).includes("not-the-account-key"));
  });
});
