import assert from "node:assert/strict";
import configNodeModule = require("../../src/nodes/meross-config");
import toggleNode = require("../../src/nodes/meross-toggle");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, collect, configNode, waitFor, onTab, CATCH_NODES, useRuntime } from "./helpers";

describe("meross-toggle node", function () {
  let sim: SimulatedDevice | undefined;

  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function load(model: string, nodeProps: Record<string, unknown> = {}) {
    sim = await startDevice({ model });
    const flow = onTab(
      [configNode("c1", sim.address)],
      [
        { id: "t1", type: "meross-toggle", device: "c1", channel: "", name: "", wires: [["out"]], ...nodeProps },
        { id: "out", type: "helper" },
        ...CATCH_NODES,
      ],
    );
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
    t1.receive({ payload: "read" });
    assert.equal((await got).payload, true, "an explicit read reads the device");
  });

  it("takes the channel from msg.channel when the node's channel is blank (4-outlet strip)", async () => {
    const { t1, out, sim } = await load("mss425");
    const got = nextMessage(out);
    t1.receive({ payload: true, channel: 2 });
    const msg = await got;
    assert.equal(msg.payload, true);
    assert.equal((msg.meross as Record<string, unknown>).channel, 2);
    assert.deepEqual(
      sim.state.channels.map((c) => c.on),
      [false, false, true, false],
    );
  });

  it("prefers the node's own channel over msg.channel", async () => {
    const { t1, out, sim } = await load("mss425", { channel: "1" });
    const got = nextMessage(out);
    t1.receive({ payload: 1, channel: 3 });
    await got;
    assert.deepEqual(
      sim.state.channels.map((c) => c.on),
      [false, true, false, false],
    );
  });

  it("shows 'outlet 3 on' (counted from 1 like the strip's label) and a grey 'off' after switching off", async () => {
    const { t1, out } = await load("mss425", { channel: 2 });
    const statuses: unknown[] = [];
    const orig = t1.status.bind(t1);
    t1.status = ((s: unknown) => {
      statuses.push(s);
      orig(s as never);
    }) as typeof t1.status;
    let got = nextMessage(out);
    t1.receive({ payload: "on" });
    await got;
    assert.deepEqual(statuses[statuses.length - 1], { fill: "green", shape: "dot", text: "dev · outlet 3 on" });
    got = nextMessage(out);
    t1.receive({ payload: "off" });
    await got;
    assert.deepEqual(statuses[statuses.length - 1], { fill: "grey", shape: "dot", text: "dev · outlet 3 off" });
  });

  it("switches a legacy plug that only speaks Control.Toggle", async () => {
    const { t1, out, sim } = await load("mss210");
    let got = nextMessage(out);
    t1.receive({ payload: "on" });
    assert.equal((await got).payload, true);
    assert.equal(sim.state.channels[0].on, true);
    got = nextMessage(out);
    t1.receive({ payload: "toggle" });
    assert.equal((await got).payload, false);
    assert.equal(sim.state.channels[0].on, false);
  });

  it("updates its status when another node on the same device switches it", async () => {
    sim = await startDevice({ model: "mss310" });
    const flow = onTab(
      [configNode("c1", sim.address)],
      [
        { id: "a", type: "meross-toggle", device: "c1", channel: "0", wires: [["outA"]] },
        { id: "b", type: "meross-toggle", device: "c1", channel: "0", wires: [[]] },
        { id: "outA", type: "helper" },
      ],
    );
    await helper.load([configNodeModule, toggleNode], flow, { c1: { key: KEY } });
    const b = helper.getNode("b");
    const statuses: Array<{ text?: string }> = [];
    const orig = b.status.bind(b);
    b.status = ((s: { text?: string }) => {
      statuses.push(s);
      orig(s as never);
    }) as typeof b.status;
    const got = nextMessage(helper.getNode("outA"));
    helper.getNode("a").receive({ payload: "on" });
    await got;
    await waitFor(() => statuses.some((s) => s.text === "dev · on"), 3000, "node b to show on");
  });

  it("refuses a typo with BAD_INPUT instead of reading the plug and reporting success", async () => {
    const { t1, out, caught, sim } = await load("mss310");
    const outputs = collect(out);
    await (helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> }).getDevice();
    const before = sim.requestCount;
    for (const payload of ["onn", "of", {}, "ture"]) {
      const got = nextMessage<{ error: { code: string; message: string } }>(caught);
      t1.receive({ payload });
      const e = (await got).error;
      assert.equal(e.code, "BAD_INPUT");
      assert.ok(e.message.includes(`msg.payload ${JSON.stringify(payload)} is not a command`), e.message);
    }
    assert.equal(outputs.length, 0, "nothing reported success");
    assert.equal(sim.requestCount, before, "the plug was not asked anything");
    assert.equal(sim.state.channels[0].on, false);
  });

  it('reads on an inject timestamp, an empty payload or "read"', async () => {
    const { t1, out, sim } = await load("mss310");
    sim.setOnOff(true);
    for (const payload of [Date.now(), undefined, "", "read"]) {
      const got = nextMessage(out);
      t1.receive({ payload });
      assert.equal((await got).payload, true, JSON.stringify(payload));
    }
    assert.equal(sim.state.channels[0].on, true);
  });

  it("takes msg.outlet counted from 1, and shows 'outlet 1' for the first outlet of a strip", async () => {
    const { t1, out, sim } = await load("mss425");
    const statuses: Array<{ text?: string }> = [];
    const orig = t1.status.bind(t1);
    t1.status = ((s: { text?: string }) => {
      statuses.push(s);
      orig(s as never);
    }) as typeof t1.status;
    let got = nextMessage(out);
    t1.receive({ payload: "on", outlet: 4 });
    assert.equal(((await got).meross as Record<string, unknown>).channel, 3);
    assert.deepEqual(
      sim.state.channels.map((c) => c.on),
      [false, false, false, true],
    );
    assert.equal(statuses[statuses.length - 1].text, "dev · outlet 4 on");
    got = nextMessage(out);
    t1.receive({ payload: "on", channel: 0 });
    await got;
    assert.equal(statuses[statuses.length - 1].text, "dev · outlet 1 on", "a strip's first outlet is named, not a bare 'on'");
  });
});
