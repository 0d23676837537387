import assert from "node:assert/strict";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import climateModule = require("../../src/nodes/meross-climate");
import stateModule = require("../../src/nodes/meross-state");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, collect, configNode, waitFor, onTab, CATCH_NODES, useRuntime } from "./helpers";
import { brokerNode, brokerPort, pointAt, statuses, waitListening } from "./broker-helpers";

type Climate = { on: boolean; mode: string; target: number; current: number; heating: boolean; windowOpen: boolean };
type StateMsg = { topic?: string; payload: Record<string, unknown>; meross?: Record<string, unknown> };
type ErrMsg = { error: { message: string; code?: string } };

const MODULES = [brokerModule, configModule, climateModule, stateModule];

describe("meross-climate and hub sensors in meross-state", function () {
  const sims: SimulatedDevice[] = [];
  useRuntime(async () => {
    for (const s of sims.splice(0)) await s.stop();
  });

  async function device(model: string): Promise<SimulatedDevice> {
    const s = await startDevice({ model, mqttReconnectMs: 50 });
    sims.push(s);
    return s;
  }

  /** A climate node and a state node for one device, over HTTP or on the embedded broker. */
  async function load(model: string, opts: { broker?: boolean; subId?: string; name?: string; reportChanges?: boolean } = {}) {
    const sim = await device(model);
    const cfgExtra: Record<string, unknown> = { name: opts.name ?? "Living room" };
    if (opts.broker) Object.assign(cfgExtra, { broker: "b1", transport: "mqtt" });
    const flow = onTab(
      [...(opts.broker ? [brokerNode()] : []), configNode("c1", sim.address, cfgExtra)],
      [
        {
          id: "k1",
          type: "meross-climate",
          device: "c1",
          subId: opts.subId ?? "",
          name: "",
          ...(opts.reportChanges === undefined ? {} : { reportChanges: opts.reportChanges }),
          wires: [["out"]],
        },
        { id: "s1", type: "meross-state", device: "c1", name: "", pollInterval: "0", wires: [["states"]] },
        { id: "out", type: "helper" },
        { id: "states", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load(MODULES, flow, { c1: { key: KEY } });
    if (opts.broker) {
      await pointAt(sim, await brokerPort());
      await waitListening(sim);
    }
    const cfg = helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> };
    await cfg.getDevice();
    return {
      sim,
      k1: helper.getNode("k1"),
      out: helper.getNode("out"),
      states: helper.getNode("states"),
      caught: helper.getNode("caught"),
    };
  }

  for (const broker of [false, true]) {
    const via = broker ? "MQTT (embedded broker)" : "HTTP";
    it(`sets the thermostat to 21 °C and it heats the room (${via}, 'also send changes' ticked)`, async () => {
      const { sim, k1, out } = await load("mts200b", { broker, reportChanges: true });
      const got = nextMessage<{ topic: string; payload: Climate }>(out);
      k1.receive({ payload: 21 });
      const msg = await got;
      assert.equal(msg.topic, "Living room");
      assert.deepEqual(msg.payload, { on: true, mode: "manual", target: 21, current: 18, heating: true, windowOpen: false });
      const msgs = collect<{ payload: Climate }>(out);
      sim.advanceTime(3 * 3600);
      if (broker) {
        // The device pushes the warmer room and the relay going idle; the node passes it on by itself.
        await waitFor(() => msgs.some((m) => m.payload.current === 21 && !m.payload.heating), 5000, "the pushed warm room");
      } else {
        k1.receive({ payload: "" });
        await waitFor(() => msgs.length > 0, 5000, "the read");
        assert.deepEqual(msgs[0].payload, { on: true, mode: "manual", target: 21, current: 21, heating: false, windowOpen: false });
      }
    });

    it(`a leak pressed on the simulated hub reaches meross-state named "hub / sensor" (${via})`, async () => {
      const { sim, states } = await load("msh300", { broker, name: "Home hub" });
      const msgs = collect<StateMsg>(states);
      const s1 = helper.getNode("s1");
      if (!broker) {
        // Over HTTP nothing pushes: the state node reads the hub when asked.
        s1.receive({ payload: "" });
        await waitFor(() => msgs.some((m) => m.payload.kind === "sensor"), 5000, "the hub's sub-devices");
      }
      sim.setLeak(true);
      if (!broker) {
        msgs.splice(0);
        s1.receive({ payload: "" });
      }
      await waitFor(() => msgs.some((m) => m.payload.kind === "alarm" && m.payload.active === true), 5000, "the leak alarm");
      const alarm = msgs.find((m) => m.payload.kind === "alarm" && m.payload.active === true) as StateMsg;
      assert.equal(alarm.topic, "Home hub / 1A00694ACBC7");
      assert.deepEqual(alarm.payload, {
        type: "leak",
        active: true,
        subId: "1A00694ACBC7",
        kind: "alarm",
        source: broker ? "push" : "command",
      });
      assert.deepEqual(alarm.meross, { uuid: sim.uuid, model: "msh300" });
    });
  }

  it("over MQTT each command is answered by exactly one message, and a pushed change only sets the status (checkbox off)", async () => {
    const { sim, k1, out } = await load("mts200b", { broker: true });
    const shown = statuses(k1);
    const msgs = collect<{ payload: Climate }>(out);
    let got = nextMessage<{ payload: Climate }>(out);
    k1.receive({ payload: 21 });
    await got;
    sim.setWindowOpen(true);
    await waitFor(() => shown.some((st) => /window open/.test(st.text ?? "")), 5000, "the status to show the open window");
    got = nextMessage<{ payload: Climate }>(out);
    k1.receive({ payload: "" });
    assert.equal((await got).payload.windowOpen, true);
    assert.deepEqual(
      msgs.map((m) => [m.payload.target, m.payload.windowOpen]),
      [
        [21, false],
        [21, true],
      ],
      "two inputs, two messages: no echo of the command's push, no message for the window",
    );
  });

  it("the heating status is a yellow dot, not the red of an error", async () => {
    const { k1, out } = await load("mts200b");
    const shown = statuses(k1);
    const got = nextMessage<{ payload: Climate }>(out);
    k1.receive({ payload: 25 });
    assert.equal((await got).payload.heating, true);
    assert.deepEqual(shown[shown.length - 1], { fill: "yellow", shape: "dot", text: "Living room · 18 → 25 °C · heating" });
  });

  it("a target sent in eco switches to manual and leaves the eco preset alone; a target with a mode sets that preset", async () => {
    const { k1, out } = await load("mts200b");
    const ask = async (payload: unknown): Promise<Climate> => {
      const got = nextMessage<{ payload: Climate }>(out);
      k1.receive({ payload });
      return (await got).payload;
    };
    const eco = await ask({ mode: "eco" });
    assert.deepEqual([eco.mode, eco.target], ["eco", 18]);
    const set = await ask(21);
    assert.deepEqual([set.mode, set.target], ["manual", 21], "21 °C means 21 °C from now on, in manual");
    const ecoAgain = await ask({ mode: "eco" });
    assert.deepEqual([ecoAgain.mode, ecoAgain.target], ["eco", 18], "eco is still 18 °C");
    const preset = await ask({ mode: "eco", target: 16.5 });
    assert.deepEqual([preset.mode, preset.target], ["eco", 16.5]);
    const heat = await ask({ mode: "heat" });
    assert.deepEqual([heat.mode, heat.target], ["heat", 20]);
    const manual = await ask(19);
    assert.deepEqual([manual.mode, manual.target], ["manual", 19], "a target in heat also goes to manual, heat stays 20 °C");
    assert.equal((await ask({ mode: "heat" })).target, 20);
  });

  it("reports each hub sensor's temperature, humidity and a battery that drains", async () => {
    const { sim, states } = await load("msh300", { name: "Home hub" });
    const msgs = collect<StateMsg & { round?: number }>(states);
    const s1 = helper.getNode("s1");
    // The answer to an input message carries the input's properties: `round` tells the two reads apart.
    const answer = async (round: number): Promise<StateMsg> => {
      s1.receive({ payload: "", round } as never);
      const mine = () => msgs.filter((m) => m.round === round && m.payload.subId === "120027D21C19" && m.payload.kind === "sensor");
      await waitFor(() => mine().length > 0, 5000, `answer ${round}`);
      return mine()[0];
    };
    const first = await answer(1);
    assert.equal(first.topic, "Home hub / 120027D21C19");
    const { temperature, humidity, battery, online, subType } = first.payload;
    assert.deepEqual(
      { temperature, humidity, battery, online, subType },
      { temperature: 20.5, humidity: 48, battery: 50, online: true, subType: "ms100" },
    );
    sim.advanceTime(30 * 86_400);
    assert.equal((await answer(2)).payload.battery, 41);
  });

  it("sets a hub radiator valve by its sub-device id", async () => {
    const { k1, out } = await load("msh300", { subId: "01008c11", name: "Home hub" });
    const got = nextMessage<{ topic: string; payload: Climate; meross: { subId: string } }>(out);
    k1.receive({ payload: { mode: "heat", target: 22.5 } });
    const msg = await got;
    assert.equal(msg.meross.subId, "01008C11");
    assert.deepEqual(
      { mode: msg.payload.mode, target: msg.payload.target, heating: msg.payload.heating },
      { mode: "heat", target: 22.5, heating: true },
    );
  });

  it("refuses 80 °C, an unknown mode and an unknown sub-device with sentences, to a Catch node", async () => {
    const cases: Array<[string, string | undefined, unknown, RegExp]> = [
      ["mts200b", undefined, { target: 80 }, /80 °C is outside what this mts200b accepts: set a target from 5 to 35 °C/],
      ["mts200b", undefined, { mode: "turbo" }, /"turbo" is not a mode of this mts200b: use one of heat, cool, eco, auto, manual/],
      ["msh300", "DEADBEEF", 21, /No sub-device "DEADBEEF" on this msh300: it has 120027D21C19 \(ms100\)/],
      ["msh300", "12345", 21, /is not a hub sub-device id/],
      ["mss310", undefined, 21, /is not a thermostat/],
    ];
    for (const [model, subId, payload, re] of cases) {
      const { k1, caught } = await load(model);
      const got = nextMessage<ErrMsg>(caught);
      k1.receive({ payload, subId });
      const err = await got;
      assert.match(err.error.message, re);
      await helper.unload();
      for (const s of sims.splice(0)) await s.stop();
    }
  });

  it("sets a diffuser's spray mode", async () => {
    const { sim, k1, out } = await load("mod100", { name: "Bedroom" });
    const got = nextMessage<{ payload: { spray: string } }>(out);
    k1.receive({ payload: "strong" });
    assert.equal((await got).payload.spray, "strong");
    assert.equal(sim.snapshot().diffuser?.spray, "strong");
  });
});
