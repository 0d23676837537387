import assert from "node:assert/strict";
import configNodeModule = require("../../src/nodes/meross-config");
import toggleNode = require("../../src/nodes/meross-toggle");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, configNode, waitFor, onTab, CATCH_NODES } from "./helpers";

describe("meross-toggle node", function () {
  let sim: SimulatedDevice | undefined;

  beforeEach((done) => {
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await sim?.stop();
    sim = undefined;
  });

  async function load(model: string, nodeProps: Record<string, unknown> = {}) {
    sim = await startDevice({ model });
    const flow = onTab([configNode("c1", sim.address)], [
      { id: "t1", type: "meross-toggle", device: "c1", channel: "", name: "", wires: [["out"]], ...nodeProps },
      { id: "out", type: "helper" },
      ...CATCH_NODES,
    ]);
    await helper.load([configNodeModule, toggleNode], flow, { c1: { key: KEY } });
    return { t1: helper.getNode("t1"), out: helper.getNode("out"), caught: helper.getNode("caught"), sim };
  }

  it("switches a plug on and off and reports the resulting state", async () => {
    const { t1, out, sim } = await load("mss310");
    let got = nextMessage(out);
    t1.receive({ payload: "on" });
    let msg = await got;
    assert.equal(msg.payload, true);
    assert.equal(sim.state.channels[0].on, true);
    const meross = msg.meross as Record<string, unknown>;
    assert.equal(meross.uuid, sim.uuid);
    assert.equal(meross.model, sim.model.type);
    assert.equal(meross.channel, 0);
    assert.equal(meross.on, true);
    assert.equal(meross.address, sim.address);

    got = nextMessage(out);
    t1.receive({ payload: false });
    msg = await got;
    assert.equal(msg.payload, false);
    assert.equal(sim.state.channels[0].on, false);
  });

  it("toggles and reads", async () => {
    const { t1, out, sim } = await load("mss310");
    let got = nextMessage(out);
    t1.receive({ payload: "toggle" });
    assert.equal((await got).payload, true);
    assert.equal(sim.state.channels[0].on, true);
    got = nextMessage(out);
    t1.receive({ payload: "toggle" });
    assert.equal((await got).payload, false);
    sim.setOnOff(true);
    got = nextMessage(out);
    t1.receive({ payload: "what is it?" });
    assert.equal((await got).payload, true, "any other payload reads the device");
  });
});
