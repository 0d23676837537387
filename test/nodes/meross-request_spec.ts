import assert from "node:assert/strict";
import configNodeModule = require("../../src/nodes/meross-config");
import requestNode = require("../../src/nodes/meross-request");
import brokerModule = require("../../src/nodes/meross-broker");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, configNode, onTab, CATCH_NODES, useRuntime } from "./helpers";
import { brokerNode, brokerPort, pointAt, statuses, waitListening } from "./broker-helpers";

type Msg = Record<string, unknown>;

describe("meross-request node", function () {
  let sim: SimulatedDevice | undefined;

  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function load(props: Record<string, unknown> = {}) {
    sim = await startDevice({ model: "mss310" });
    const flow = onTab(
      [configNode("c1", sim.address)],
      [
        { id: "r1", type: "meross-request", device: "c1", method: "", namespace: "", name: "", wires: [["out"]], ...props },
        { id: "out", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load([configNodeModule, requestNode], flow, { c1: { key: KEY } });
    return { r1: helper.getNode("r1"), out: helper.getNode("out"), caught: helper.getNode("caught"), sim };
  }

  it("GETs a namespace set on the node and returns the reply payload and envelope", async () => {
    const { r1, out, sim } = await load({ method: "GET", namespace: "Appliance.System.All" });
    const got = nextMessage<Msg>(out);
    r1.receive({ payload: "" });
    const msg = await got;
    const all = (msg.payload as { all: { system: { hardware: { uuid: string } } } }).all;
    assert.equal(all.system.hardware.uuid, sim.uuid);
    const env = msg.meross as { header: Record<string, unknown>; payload: unknown };
    assert.equal(env.header.method, "GETACK");
    assert.equal(env.header.namespace, "Appliance.System.All");
    assert.deepEqual(env.payload, msg.payload);
    assert.ok(!JSON.stringify(msg).includes(KEY), "the key is never in the output");
  });

  it("SETs with a JSON string payload and msg.method", async () => {
    const { r1, out, sim } = await load({ namespace: "Appliance.Control.ToggleX" });
    const got = nextMessage<Msg>(out);
    r1.receive({ method: "set", payload: '{"togglex": {"channel": 0, "onoff": 1}}' });
    const msg = await got;
    assert.equal((msg.meross as { header: { method: string } }).header.method, "SETACK");
    assert.equal(sim.state.channels[0].on, true);
  });

  it("takes the namespace from msg.topic when the node has none", async () => {
    const { r1, out } = await load();
    const got = nextMessage<Msg>(out);
    r1.receive({ topic: "Appliance.System.Ability", payload: {} });
    const msg = await got;
    assert.ok((msg.payload as { ability: Record<string, unknown> }).ability["Appliance.Control.ToggleX"] !== undefined);
  });

  it("refuses a namespace the device does not list with UNSUPPORTED", async () => {
    const { r1, caught } = await load({ method: "GET" });
    const got = nextMessage<Msg>(caught);
    r1.receive({ topic: "Appliance.Control.Light", payload: {} });
    const err = (await got).error as { code: string; message: string };
    assert.equal(err.code, "UNSUPPORTED");
    assert.match(err.message, /Appliance\.Control\.Light/);
  });

  it("refuses payloads that are not objects, names without a namespace shape and unknown methods", async () => {
    const { r1, caught } = await load();
    let got = nextMessage<Msg>(caught);
    r1.receive({ topic: "Appliance.System.All", payload: "{not json" });
    assert.equal(((await got).error as { code: string }).code, "BAD_INPUT");
    got = nextMessage<Msg>(caught);
    r1.receive({ topic: "rm -rf /", payload: {} });
    assert.match(((await got).error as { message: string }).message, /not a Meross namespace/);
    got = nextMessage<Msg>(caught);
    r1.receive({ topic: "Appliance.System.All", method: "DELETE" });
    assert.match(((await got).error as { message: string }).message, /GET \(read\), SET \(change\) or PUSH/);
  });

  it("over MQTT its status names the reading and the path it took, never raw protocol or '· http'", async () => {
    sim = await startDevice({ model: "mss310", mqttReconnectMs: 50 });
    const flow = onTab(
      [brokerNode(), configNode("c1", sim.address, { broker: "b1", transport: "mqtt" })],
      [
        { id: "r1", type: "meross-request", device: "c1", method: "GET", namespace: "Appliance.Control.Electricity", wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load([brokerModule, configNodeModule, requestNode], flow, { c1: { key: KEY } });
    await pointAt(sim, await brokerPort());
    await waitListening(sim);
    const r1 = helper.getNode("r1");
    const st = statuses(r1);
    const got = nextMessage<Msg>(helper.getNode("out"));
    r1.receive({});
    assert.ok(isObjectPayload((await got).payload));
    assert.deepEqual(st[st.length - 1], { fill: "green", shape: "dot", text: "dev · electricity read · mqtt" });
    assert.ok(!st.some((s) => /GETACK|Control\.|http/.test(s.text ?? "")), JSON.stringify(st));
  });
});

function isObjectPayload(v: unknown): boolean {
  return typeof v === "object" && v !== null;
}
