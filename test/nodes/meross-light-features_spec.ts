import assert from "node:assert/strict";
import sinon from "sinon";
import configNodeModule = require("../../src/nodes/meross-config");
import lightNode = require("../../src/nodes/meross-light");
import type { SimulatedDevice } from "../../src/simulator";
import { afterFade } from "../../src/nodes/shared/light-run";
import type { MerossConfigNode } from "../../src/nodes/shared/types";
import { helper, KEY, startDevice, nextMessage, collect, configNode, waitFor, onTab, CATCH_NODES, useRuntime } from "./helpers";

type Msg = Record<string, unknown> & { _msgid: string };
type Payload = Record<string, unknown>;

describe("meross-light: fades, effects, fans and round trips", function () {
  this.timeout(20000);
  let sim: SimulatedDevice | undefined;

  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function load(model: string) {
    sim = await startDevice({ model });
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
    const [l1, out, caught, completed] = ["l1", "out", "caught", "completed"].map((id) => helper.getNode(id));
    return { l1, out, caught, completed, sim };
  }

  async function send(payload: unknown): Promise<Msg> {
    const got = nextMessage<Msg>(helper.getNode("out"), 15000);
    helper.getNode("l1").receive({ payload });
    return got;
  }

  async function refused(payload: unknown): Promise<{ code: string; message: string }> {
    const got = nextMessage<Msg>(helper.getNode("caught"));
    helper.getNode("l1").receive({ payload });
    return (await got).error as { code: string; message: string };
  }

  /** Namespaces the device receives from now on (Multiple's inner requests are not counted). */
  function record(dev: SimulatedDevice): string[] {
    const seen: string[] = [];
    dev.on("request", (r: { method: string; namespace: string }) => seen.push(`${r.method} ${r.namespace}`));
    return seen;
  }

  it("a 3-second fade ends exactly at the target in 10 to 30 requests", async () => {
    const { sim } = await load("msl120");
    await send({ brightness: 10, temperature: 2700 });
    const before = sim.requestCount;
    const seen: number[] = [];
    sim.on("change", () => seen.push(sim.state.light?.luminance ?? -1));
    const msg = await send({ brightness: 90, temperature: 6500, transition: 3 });
    const requests = sim.requestCount - before;
    assert.ok(requests >= 10 && requests <= 30, `a 3 s fade took ${requests} requests`);
    assert.equal(sim.state.light?.luminance, 90);
    assert.equal(sim.state.light?.temperature, 100);
    assert.equal(sim.state.channels[0].on, true);
    assert.ok(new Set(seen).size >= 8, `brightness passed through in-between levels: ${seen.join(",")}`);
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      seen,
      "brightness only rises during a rising fade",
    );
    const p = msg.payload as Payload;
    assert.equal(p.brightness, 90);
    assert.equal(p.temperature, 6500);
  });

  it("a fade from off starts dim and switches on, and the node's Transition applies to messages without one", async () => {
    sim = await startDevice({ model: "msl320cpr" });
    const flow = onTab(
      [configNode("c1", sim.address)],
      [
        { id: "l1", type: "meross-light", device: "c1", name: "", transition: "1", wires: [["out"]] },
        { id: "out", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load([configNodeModule, lightNode], flow, { c1: { key: KEY } });
    const dev = sim;
    let firstOn: number | undefined;
    dev.on("change", () => {
      if (firstOn === undefined && dev.state.channels[0].on) firstOn = dev.state.light?.luminance;
    });
    await send({ brightness: 80 });
    assert.equal(firstOn, 1, "the light came on at the bottom of the fade");
    assert.equal(dev.state.light?.luminance, 80);
    assert.equal(dev.state.channels[0].on, true);
  });

  it("a newer command stops a fade: the final state is the newer command's", async () => {
    const { l1, sim, completed, out } = await load("msl120");
    // Fake clock (still moving with real time, so sockets and Node-RED run as usual), installed before the first
    // command so the light's gap and the fade are timed on it: the rest of the fade's time is skipped below.
    const clock = sinon.useFakeTimers({
      now: Date.now(),
      shouldAdvanceTime: true,
      toFake: ["setTimeout", "clearTimeout", "Date", "performance"],
    });
    try {
      await send({ brightness: 5, rgb: "#ff0000" });
      const outputs = collect<Msg>(out);
      const completes = collect<Msg>(completed);
      l1.receive({ payload: { brightness: 100, rgb: "#0000ff", transition: 3 }, _msgid: "fade" });
      await waitFor(() => (sim.state.light?.luminance ?? 0) > 10, 8000, "the fade to be under way");
      const newer = await send({ brightness: 30 });
      assert.equal((newer.payload as Payload).brightness, 30);
      await waitFor(() => completes.some((m) => m._msgid === "fade"), 8000, "the fade message to finish");
      assert.equal(sim.state.light?.luminance, 30);
      const seen = record(sim);
      // Every step the 3 s fade still had would be due now; one command behind them shows whether any was sent.
      await clock.tickAsync(3500);
      await send({ brightness: 31 });
      assert.deepEqual(seen, ["SET Appliance.Control.Light"], "no fade step after the newer command, only the last command");
      assert.equal(sim.state.light?.luminance, 31);
      assert.notEqual(sim.state.light?.rgb, 0x0000ff, "the fade never reached its target colour");
      assert.equal(outputs.filter((m) => m._msgid === "fade").length, 0, "a stopped fade sends nothing");
    } finally {
      clock.restore();
    }
  });

  it("a node closed during a 3 s fade stops it at once: no step after the close, no output, no done (issue 19)", async () => {
    const { l1, sim, completed, out } = await load("msl120");
    await send({ brightness: 5 });
    const outputs = collect<Msg>(out);
    const completes = collect<Msg>(completed);
    l1.receive({ payload: { brightness: 100, transition: 3 }, _msgid: "fade" });
    await waitFor(() => (sim.state.light?.luminance ?? 0) > 5, 8000, "the fade to be under way");
    await (l1 as unknown as { close(removed: boolean): Promise<void> }).close(false);
    const cfg = helper.getNode("c1") as unknown as MerossConfigNode;
    // A bound, not a speed target: before the fix the fade played on for the rest of its 3 s.
    await waitFor(() => !afterFade(cfg, () => undefined), 1000, "the fade to stop with its node");
    const steps = sim.requestCount;
    await cfg.device?.getLight(); // one more round trip: a step still queued would go out before it
    assert.equal(sim.requestCount, steps + 1, "no fade step after the close");
    assert.ok((sim.state.light?.luminance ?? 0) < 100, "the fade never reached its target");
    assert.equal(outputs.filter((m) => m._msgid === "fade").length, 0, "a closed node sends nothing");
    assert.equal(completes.filter((m) => m._msgid === "fade").length, 0, "and calls no done()");
  });

  it("turning on at 60 % costs one round trip: one Multiple when off, the Light SET alone when on", async () => {
    const { sim } = await load("msl320cpr");
    await send("off");
    const seen = record(sim);
    const before = sim.requestCount;
    const msg = await send(60);
    assert.equal(sim.requestCount - before, 1);
    assert.deepEqual(seen, ["SET Appliance.Control.Multiple"]);
    assert.equal(sim.state.channels[0].on, true, "the strip came on (it does not light up on a Light SET alone)");
    assert.equal(sim.state.light?.luminance, 60);
    assert.equal((msg.payload as Payload).on, true);
    seen.length = 0;
    await send(35);
    assert.deepEqual(seen, ["SET Appliance.Control.Light"], "known on: no ToggleX");
    assert.equal(sim.state.light?.luminance, 35);
  });

  it("lists and picks stored effects on the strip, and 'none' goes back to plain light", async () => {
    const { sim } = await load("msl320cpr");
    const list = (await send({ effect: "list" })).payload as Array<Record<string, unknown>>;
    assert.deepEqual(
      list.map((e) => e.name),
      ["Night", "Reading", "Working", "Relaxing", "Party"],
    );
    assert.deepEqual(list[4], { id: "0000000000000004", name: "Party", index: 4, enabled: false });
    const picked = (await send({ effect: "party" })).payload as Payload;
    assert.equal(picked.effectName, "Party");
    assert.equal(picked.mode, "effect");
    assert.equal(sim.state.light?.effect, 4);
    assert.equal(sim.state.channels[0].on, true);
    await send({ effect: 1 });
    assert.equal(sim.state.light?.effect, 1);
    const plain = (await send({ effect: "none" })).payload as Payload;
    assert.notEqual(plain.mode, "effect");
    assert.equal(sim.state.light?.effect, undefined);
  });

  it("refuses an unknown effect with the names it has, and effects on a bulb without them", async () => {
    await load("msl320cpr");
    const err = await refused({ effect: "disco" });
    assert.equal(err.code, "BAD_INPUT");
    assert.match(err.message, /"disco" is not on this light/);
    assert.match(err.message, /"Party"/);
    await helper.unload();
    await sim?.stop();
    await load("msl120");
    const unsupported = await refused({ effect: "Party" });
    assert.equal(unsupported.code, "UNSUPPORTED");
    assert.match(unsupported.message, /no stored light effects/);
  });

  it("drives a ceiling fan's light on channel 1 in one request and its fan speed on channel 2", async () => {
    const { sim } = await load("mfc-like");
    await send("off");
    const before = sim.requestCount;
    await send(60);
    assert.equal(sim.requestCount - before, 1, "onoff rides inside the Light SET on this firmware");
    assert.equal(sim.state.channels[1].on, true);
    assert.equal(sim.state.channels[0].on, false);
    assert.equal(sim.state.light?.luminance, 60);
    const fan = (await send({ fan: 3 })).payload as Payload;
    assert.deepEqual(fan, { fan: 3, maxSpeed: 3, channel: 2 });
    assert.equal(sim.state.fans?.[0].speed, 3);
    await send({ fan: "off" });
    assert.equal(sim.state.fans?.[0].speed, 0);
    const err = await refused({ fan: 4 });
    assert.equal(err.code, "BAD_INPUT");
    assert.match(err.message, /0 \(stopped\) to 3/);
  });

  it("refuses a negative transition with a sentence that says seconds", async () => {
    const { sim } = await load("msl120");
    const before = sim.requestCount;
    const err = await refused({ brightness: 50, transition: -1 });
    assert.equal(err.code, "BAD_INPUT");
    assert.match(err.message, /transition -1 .*seconds/);
    assert.equal(sim.requestCount, before, "nothing was sent");
  });
});
