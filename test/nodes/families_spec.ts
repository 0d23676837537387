import assert from "node:assert/strict";
import configModule = require("../../src/nodes/meross-config");
import climateModule = require("../../src/nodes/meross-climate");
import stateModule = require("../../src/nodes/meross-state");
import lightModule = require("../../src/nodes/meross-light");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, collect, configNode, waitFor, onTab, CATCH_NODES, useRuntime } from "./helpers";

type Climate = { on: boolean; mode: string; target: number; current: number; heating: boolean; windowOpen: boolean; humidity?: number };
type StateMsg = { topic?: string; payload: Record<string, unknown> };

/**
 * Devices as real homes have them (issue 20), through the nodes against the simulator's models
 * built from the captures: a hub without Digest.Hub, a hub whose full valve list overflows the
 * 4 KB reply, an ms130 in hundredths, an mts300 (ModeC), a diffuser's light alone, a purifier fan.
 */
describe("device families as real homes have them (meross-state, meross-climate, meross-light)", function () {
  this.timeout(30_000);
  const sims: SimulatedDevice[] = [];
  useRuntime(async () => {
    for (const s of sims.splice(0)) await s.stop();
  });

  async function load(model: string, opts: { subId?: string } = {}) {
    const sim = await startDevice({ model });
    sims.push(sim);
    const flow = onTab(
      [configNode("c1", sim.address, { name: "Home" })],
      [
        { id: "k1", type: "meross-climate", device: "c1", subId: opts.subId ?? "", name: "", wires: [["out"]] },
        { id: "s1", type: "meross-state", device: "c1", name: "", pollInterval: "0", wires: [["states"]] },
        { id: "l1", type: "meross-light", device: "c1", name: "", transition: "", wires: [["out"]] },
        { id: "out", type: "helper" },
        { id: "states", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load([configModule, climateModule, stateModule, lightModule], flow, { c1: { key: KEY } });
    const [k1, s1, l1, out, states, caught] = ["k1", "s1", "l1", "out", "states", "caught"].map((id) => helper.getNode(id));
    return { sim, k1, s1, l1, out, states, caught };
  }

  async function ask<T>(node: ReturnType<typeof helper.getNode>, out: ReturnType<typeof helper.getNode>, payload: unknown): Promise<T> {
    const got = nextMessage<{ payload: T }>(out, 15_000);
    node.receive({ payload });
    return (await got).payload;
  }

  it("meross-state lists each sub-device of an msh300hk without Digest.Hub with its type and a plausible value", async () => {
    const { sim, s1, states } = await load("msh300hk-valves");
    assert.equal("Appliance.Digest.Hub" in sim.model.ability, false, "the model lists no Digest.Hub, as every msh300hk capture");
    const msgs = collect<StateMsg>(states);
    s1.receive({ payload: "" });
    // The latest message per sub-device: the digest names it first, its own read adds the values.
    const sub = (id: string) => msgs.filter((m) => m.payload.kind === "sensor" && m.payload.subId === id).at(-1)?.payload;
    const ids = ["03004404", "01005C75", "4B00C8A2E1F0"];
    await waitFor(() => ids.every((id) => sub(id)?.temperature !== undefined), 10_000, "three sub-devices with a temperature");
    const ms130 = sub("4B00C8A2E1F0")!;
    assert.equal(ms130.subType, "ms130");
    assert.equal(ms130.temperature, 21.3, "hundredths read as such: about 21 °C, not 213");
    assert.equal(ms130.humidity, 48);
    assert.deepEqual([sub("03004404")!.subType, sub("03004404")!.temperature], ["mts150", 17]);
    assert.deepEqual([sub("01005C75")!.subType, sub("01005C75")!.temperature], ["mts100v3", 17]);
  });

  it("meross-climate reads and sets a valve of the hub without Digest.Hub", async () => {
    const { sim, k1, out } = await load("msh300hk-valves", { subId: "03004404" });
    const read = await ask<Climate>(k1, out, "");
    assert.deepEqual([read.mode, read.current], ["manual", 17]);
    const set = await ask<Climate>(k1, out, { mode: "heat", target: 22.5 });
    assert.deepEqual([set.mode, set.target, set.heating], ["heat", 22.5, true]);
    const valve = sim.snapshot().hub?.find((v) => v.id === "03004404")?.valve;
    assert.deepEqual([valve?.mode, valve?.target], ["heat", 22.5]);
  });

  it("meross-climate reads and sets the 16th valve of a hub whose full valve list is cut at 4,000 bytes", async () => {
    const { sim, k1, out } = await load("msh300hk-16", { subId: "0100AF11" });
    const seen: string[] = [];
    sim.on("request", (r: { namespace: string; payload?: unknown }) => seen.push(r.namespace));
    const set = await ask<Climate>(k1, out, { target: 19 });
    assert.deepEqual([set.mode, set.target], ["manual", 19]);
    assert.equal(sim.snapshot().hub?.find((v) => v.id === "0100AF11")?.valve?.target, 19);
    assert.ok(seen.filter((n) => n === "Appliance.Hub.Mts100.All").length >= 2, "the valves were read in batches");
  });

  it("meross-state reports all 16 valves of the big hub, none missing", async () => {
    const { s1, states } = await load("msh300hk-16");
    const msgs = collect<StateMsg>(states);
    s1.receive({ payload: "" });
    const valves = () => new Set(msgs.filter((m) => m.payload.subType === "mts100v3").map((m) => m.payload.subId));
    await waitFor(() => valves().size === 16, 10_000, "16 valves");
  });

  it("a diffuser's light works on its own, without spray", async () => {
    const { sim, k1, out } = await load("mod100");
    const d = await ask<{ spray: string; light: { on: boolean; rgb: string; luminance: number } }>(k1, out, {
      light: { on: true, rgb: "#ff8800", luminance: 60 },
    });
    assert.deepEqual(d.light.on, true);
    assert.equal(d.light.rgb, "#ff8800");
    assert.equal(sim.snapshot().diffuser?.light.on, true);
  });

  it("an mts300 (Thermostat.ModeC) reads its state in °C and % and sets its target", async () => {
    const { sim, k1, out } = await load("mts300");
    const read = await ask<Climate>(k1, out, "");
    assert.deepEqual(read, {
      on: true,
      mode: "heat",
      target: 20,
      current: 18.5,
      heating: true,
      windowOpen: false,
      cooling: false,
      humidity: 49.5,
    });
    const set = await ask<Climate>(k1, out, 22);
    assert.deepEqual([set.mode, set.target], ["heat", 22]);
    assert.equal(sim.snapshot().climate?.target, 22);
    const cool = await ask<Climate>(k1, out, { mode: "cool", target: 24.5 });
    assert.deepEqual([cool.mode, cool.target, cool.heating], ["cool", 24.5, false]);
    const off = await ask<Climate>(k1, out, { on: false });
    assert.deepEqual([off.on, off.mode], [false, "off"]);
  });

  it("meross-climate on a device that is no thermostat says what the device is", async () => {
    const { k1, caught } = await load("map100");
    const got = nextMessage<{ error: { message: string } }>(caught);
    k1.receive({ payload: 21 });
    assert.match((await got).error.message, /this map100 is not a thermostat: it is a fan/);
  });

  it("a purifier fan without a light changes speed through meross-light", async () => {
    const { sim, l1, out } = await load("map100");
    assert.equal("Appliance.Control.Light" in sim.model.ability, false);
    const fan = await ask<{ fan: number; maxSpeed: number; channel: number }>(l1, out, { fan: 2 });
    assert.deepEqual(fan, { fan: 2, maxSpeed: 3, channel: 0 });
    assert.equal(sim.state.fans?.[0].speed, 2);
    assert.equal((await ask<{ fan: number }>(l1, out, { fan: "off" })).fan, 0);
    assert.equal(sim.state.fans?.[0].speed, 0);
    assert.equal((await ask<{ fan: number }>(l1, out, { fan: "on" })).fan, 1, "on again, at the lowest speed");
    assert.equal(sim.state.fans?.[0].speed, 1);
  });
});
