import assert from "node:assert/strict";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import coverModule = require("../../src/nodes/meross-cover");
import stateModule = require("../../src/nodes/meross-state");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, collect, configNode, waitFor, onTab, CATCH_NODES, useRuntime } from "./helpers";
import { brokerNode, brokerPort, pointAt, waitListening } from "./broker-helpers";

type CoverOut = { topic?: string; payload: { state: string; channel: number }; meross?: { sent?: boolean } };
type StateMsg = { topic?: string; payload: Record<string, unknown>; meross?: Record<string, unknown> };

const MODULES = [brokerModule, configModule, coverModule, stateModule];
/** Doors travel this long in these tests (the simulator's default is 15 s). */
const TRAVEL_MS = 300;
const DOOR = "2B00F1E2D3C4";
const SMOKE = "3C00A5B6C7D8";

describe("msg200 doors in meross-cover and hub door/smoke sensors in meross-state (embedded broker)", function () {
  const sims: SimulatedDevice[] = [];
  useRuntime(async () => {
    for (const s of sims.splice(0)) await s.stop();
  });

  /** `model` on the embedded broker with a meross-config named `name`, and the given nodes. */
  async function onBroker(model: string, name: string, nodes: Array<Record<string, unknown>>): Promise<SimulatedDevice> {
    const sim = await startDevice({ model, mqttReconnectMs: 50 });
    sims.push(sim);
    const flow = onTab(
      [brokerNode(), configNode("c1", sim.address, { name, broker: "b1", transport: "mqtt" })],
      [...(nodes as Array<{ id: string; type: string }>), ...CATCH_NODES],
    );
    await helper.load(MODULES, flow, { c1: { key: KEY } });
    await pointAt(sim, await brokerPort());
    await waitListening(sim);
    await (helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> }).getDevice();
    return sim;
  }

  it("meross-cover set to door 2 opens door 2 of a msg200, and only door 2", async () => {
    const nodes = [
      { id: "n1", type: "meross-cover", device: "c1", channel: "2", reportChanges: true, wires: [["out"]] },
      { id: "out", type: "helper" },
    ];
    const sim = await onBroker("msg200", "Garage", nodes);
    sim.setCoverTravel(TRAVEL_MS);
    const out = helper.getNode("out");
    const all = collect<CoverOut>(out);
    const first = nextMessage<CoverOut>(out);
    helper.getNode("n1").receive({ payload: "open" });
    const msg = await first;
    assert.deepEqual(msg.payload, { state: "opening", channel: 2 });
    assert.equal(msg.topic, "Garage");
    assert.equal(msg.meross?.sent, true);
    await waitFor(() => all.some((m) => m.payload.state === "open"), 8000, "door 2 to report open");
    assert.deepEqual(all[all.length - 1].payload, { state: "open", channel: 2 });
    assert.deepEqual(
      sim.state.covers?.map((c) => [c.channel, c.state]),
      [
        [1, "closed"],
        [2, "open"],
        [3, "closed"],
      ],
    );
  });

  it("meross-cover for every door never reports a door 0 while the msg200 pushes its bogus channel-0 item", async () => {
    const nodes = [
      { id: "n1", type: "meross-cover", device: "c1", channel: "", reportChanges: true, wires: [["out"]] },
      { id: "out", type: "helper" },
    ];
    const sim = await onBroker("msg200", "Garage", nodes);
    const all = collect<CoverOut>(helper.getNode("out"));
    let glitches = 0;
    sim.on("change", () => glitches++);
    sim.setGarageGlitch(30);
    await waitFor(() => glitches >= 3, 5000, "three bogus pushes");
    // The wall button of door 1: its push follows the bogus ones on the same MQTT link.
    sim.setCoverTravel(50);
    sim.press(1);
    await waitFor(() => all.some((m) => m.payload.channel === 1 && m.payload.state === "open"), 8000, "door 1 pushed open");
    sim.setGarageGlitch(0);
    assert.deepEqual(
      all.map((m) => m.payload.channel).filter((c) => c !== 1),
      [],
      "only door 1 was reported",
    );
  });

  it("meross-state gets the hub's door contact opening and a smoke test, as 'hub / sub-device' alarms", async () => {
    const nodes = [
      { id: "s1", type: "meross-state", device: "c1", name: "", pollInterval: "0", wires: [["states"]] },
      { id: "states", type: "helper" },
    ];
    const sim = await onBroker("msh300hk", "Home hub", nodes);
    const msgs = collect<StateMsg>(helper.getNode("states"));
    const alarm = (type: string, active: boolean) => (m: StateMsg) =>
      m.payload.kind === "alarm" && m.payload.type === type && m.payload.active === active;

    sim.setDoorWindow(true);
    await waitFor(() => msgs.some(alarm("door", true)), 5000, "the door contact opening");
    const door = msgs.find(alarm("door", true)) as StateMsg;
    assert.equal(door.topic, `Home hub / ${DOOR}`);
    assert.deepEqual(door.payload, { type: "door", active: true, subId: DOOR, kind: "alarm", source: "push" });
    assert.deepEqual(door.meross, { uuid: sim.uuid, model: "msh300hk" });

    sim.smokeTest(SMOKE, 200);
    await waitFor(() => msgs.some(alarm("smoke", true)), 5000, "the smoke test sounding");
    const smoke = msgs.find(alarm("smoke", true)) as StateMsg;
    assert.equal(smoke.topic, `Home hub / ${SMOKE}`);
    assert.deepEqual(smoke.payload, { type: "smoke", active: true, subId: SMOKE, kind: "alarm", source: "push" });
    // The test ends by itself: the hub pushes 170 and the alarm clears.
    await waitFor(() => msgs.some(alarm("smoke", false)), 5000, "the smoke test ending");
    assert.ok(msgs.indexOf(msgs.find(alarm("smoke", false)) as StateMsg) > msgs.indexOf(smoke), "clear comes after the test");
  });
});
