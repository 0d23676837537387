import assert from "node:assert/strict";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import stateModule = require("../../src/nodes/meross-state");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, collect, configNode, waitFor, onTab, CATCH_NODES, useRuntime } from "./helpers";
import { brokerNode, brokerPort, pointAt, waitListening } from "./broker-helpers";

type Msg = { topic?: string; payload: Record<string, unknown> & { kind: string }; meross?: { model?: string } };

describe("meross-state with an ms600 presence sensor (simulator → core → node)", function () {
  const sims: SimulatedDevice[] = [];

  useRuntime(async () => {
    for (const s of sims.splice(0)) await s.stop();
  });

  it("a person walking in reaches the flow as kind presence, with occupancy as zigbee2mqtt names it", async () => {
    const sim = await startDevice({ model: "ms600", mqttReconnectMs: 50 });
    sims.push(sim);
    const flow = onTab(
      [brokerNode(), configNode("c1", sim.address, { broker: "b1", transport: "auto", name: "hall" })],
      [
        { id: "s1", type: "meross-state", name: "", device: "c1", pollInterval: "0", wires: [["out"]] },
        { id: "out", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load([brokerModule, configModule, stateModule], flow, { c1: { key: KEY } });
    await pointAt(sim, await brokerPort());
    await waitListening(sim);
    const cfg = helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> };
    await cfg.getDevice();
    const msgs = collect<Msg>(helper.getNode("out"));
    sim.press(0, "enter");
    await waitFor(() => msgs.some((m) => m.payload.kind === "presence"), 5000, "the pushed presence");
    const msg = msgs.find((m) => m.payload.kind === "presence") as Msg;
    assert.equal(msg.topic, "hall");
    assert.equal(msg.meross?.model, "ms600");
    assert.deepEqual(msg.payload, { occupancy: true, distance: 0.76, channel: 0, kind: "presence", source: "push" });
    sim.press(0, "leave");
    await waitFor(() => msgs.some((m) => m.payload.occupancy === false), 5000, "the pushed absence");
  });
});
