import assert from "node:assert/strict";
import configNodeModule = require("../../src/nodes/meross-config");
import lightNode = require("../../src/nodes/meross-light");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, collect, configNode, waitFor, onTab, CATCH_NODES, useRuntime } from "./helpers";

type Msg = Record<string, unknown> & { _msgid: string };

describe("meross-light node", function () {
  let sim: SimulatedDevice | undefined;

  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function load(model: string, processingMs = 0) {
    sim = await startDevice({ model, quirks: { processingMs } });
    const flow = onTab(
      [configNode("c1", sim.address)],
      [
        { id: "l1", type: "meross-light", device: "c1", name: "", transition: "", wires: [["out"]] },
        { id: "out", type: "helper" },
        { id: "completer", type: "complete", scope: ["l1"], uncaught: false, wires: [["completed"]] },
        { id: "completed", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load([configNodeModule, lightNode], flow, { c1: { key: KEY } });
    return {
      l1: helper.getNode("l1"),
      out: helper.getNode("out"),
      caught: helper.getNode("caught"),
      completed: helper.getNode("completed"),
      sim,
    };
  }

  async function send(payload: unknown): Promise<Msg> {
    const got = nextMessage<Msg>(helper.getNode("out"));
    helper.getNode("l1").receive({ payload });
    return got;
  }

  it("sets brightness from a number and switches on", async () => {
    const { sim } = await load("msl120");
    const msg = await send(40);
    assert.equal(sim.state.light?.luminance, 40);
    assert.equal(sim.state.channels[0].on, true);
    const p = msg.payload as Record<string, unknown>;
    assert.equal(p.on, true);
    assert.equal(p.brightness, 40);
    // The device's name too, so a flow driving several bulbs from one node can tell the replies apart.
    assert.deepEqual(msg.meross, { uuid: sim.uuid, name: "dev", model: sim.model.type, address: sim.address });
  });

  it("turns off at brightness 0", async () => {
    const { sim } = await load("msl120");
    await send("on");
    const msg = await send(0);
    assert.equal(sim.state.channels[0].on, false);
    assert.equal((msg.payload as Record<string, unknown>).on, false);
  });

  it("shows a hex colour string and reports rgb mode", async () => {
    const { sim } = await load("msl120");
    const msg = await send("#ff8800");
    assert.equal(sim.state.light?.rgb, 0xff8800);
    assert.equal(sim.state.channels[0].on, true);
    const p = msg.payload as Record<string, unknown>;
    assert.equal(p.mode, "rgb");
    assert.equal(p.rgb, "#ff8800");
  });

  it("understands CSS colour names", async () => {
    const { sim } = await load("msl120");
    await send("orange");
    assert.equal(sim.state.light?.rgb, 0xffa500);
  });

  it("sets a white temperature from a Kelvin string", async () => {
    const { sim } = await load("msl120");
    await send("#0000ff");
    const msg = await send("2700K");
    assert.equal(sim.state.light?.temperature, 1, "2700 K is the warmest device level");
    const p = msg.payload as Record<string, unknown>;
    assert.equal(p.mode, "temperature");
    assert.equal(p.temperature, 2700);
  });

  it("applies an object with brightness and temperature", async () => {
    const { sim } = await load("msl120");
    const msg = await send({ on: true, brightness: 70, temperature: 6500 });
    assert.equal(sim.state.light?.luminance, 70);
    assert.equal(sim.state.light?.temperature, 100);
    assert.equal(sim.state.channels[0].on, true);
    assert.deepEqual(
      { on: (msg.payload as Record<string, unknown>).on, brightness: (msg.payload as Record<string, unknown>).brightness },
      { on: true, brightness: 70 },
    );
  });

  it("accepts rgb arrays and hue/saturation objects", async () => {
    const { sim } = await load("msl120");
    await send({ rgb: [0, 255, 0] });
    assert.equal(sim.state.light?.rgb, 0x00ff00);
    await send({ hue: 240, saturation: 100 });
    assert.equal(sim.state.light?.rgb, 0x0000ff);
  });

  it("refuses a colour on a white-only bulb with UNSUPPORTED reaching a Catch node", async () => {
    const { l1, sim, caught, out } = await load("msl100");
    const outputs = collect(out);
    const got = nextMessage<Msg>(caught);
    l1.receive({ payload: "#ff0000" });
    const err = (await got).error as { code: string; message: string };
    assert.equal(err.code, "UNSUPPORTED");
    assert.match(err.message, /no colour LEDs/);
    assert.match(err.message, /2700K|temperature/);
    assert.equal(outputs.length, 0);
    assert.equal(sim.state.channels[0].on, false, "nothing was switched");
  });

  it("finishes each of a 100-message burst exactly once and ends in the last state without flooding the bulb", async function () {
    this.timeout(30000);
    const { l1, sim, completed, caught, out } = await load("msl120", 15);
    await send(5);
    const before = sim.requestCount;
    const outputs = collect<Msg>(out);
    const completes = collect<Msg>(completed);
    const errors = collect<Msg>(caught);
    const ids: string[] = [];
    for (let i = 1; i <= 100; i++) {
      const msg = { payload: i === 100 ? { brightness: 77, rgb: "#00ff88" } : i, _msgid: `burst-${i}` };
      ids.push(msg._msgid);
      l1.receive(msg);
    }
    const burst = (list: Msg[]): Msg[] => list.filter((m) => String(m._msgid).startsWith("burst-"));
    await waitFor(() => burst(completes).length + errors.length >= 100, 20000, "all 100 messages to finish");
    // One more message behind the burst: a late second done() for a burst message would come before it finishes.
    l1.receive({ payload: { brightness: 77, rgb: "#00ff88" }, _msgid: "after" });
    await waitFor(() => completes.some((m) => m._msgid === "after"), 8000, "the message after the burst to finish");
    assert.equal(errors.length, 0, JSON.stringify(errors[0]?.error));
    const finished = burst(completes)
      .map((m) => m._msgid)
      .sort();
    assert.deepEqual(finished, [...ids].sort(), "every message is done exactly once");
    assert.equal(sim.state.light?.luminance, 77);
    assert.equal(sim.state.light?.rgb, 0x00ff88);
    assert.equal(sim.state.channels[0].on, true);
    const requests = sim.requestCount - before;
    assert.ok(requests < 40, `the bulb saw ${requests} requests for 100 messages`);
    const burstOut = burst(outputs);
    assert.ok(burstOut.length >= 1 && burstOut.length < 100);
    const last = burstOut[burstOut.length - 1];
    assert.equal(last._msgid, "burst-100", "the last message reports the final state");
    assert.equal((last.payload as Record<string, unknown>).brightness, 77);
  });
});
