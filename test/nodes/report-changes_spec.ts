/**
 * "Also send changes the device reports" on the nodes that act on devices: off (the default, and
 * flows saved before the option existed) their output carries only answers to their input; on,
 * what the device pushes by itself goes out too. The status follows pushes either way.
 */
import assert from "node:assert/strict";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import toggleModule = require("../../src/nodes/meross-toggle");
import lightModule = require("../../src/nodes/meross-light");
import type { Node } from "node-red";
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, collect, configNode, onTab, useRuntime, waitFor } from "./helpers";
import { brokerNode, brokerPort, pointAt, statuses, waitListening } from "./broker-helpers";

type Msg = { topic?: string; payload: unknown; meross?: { channel?: number } };

describe("nodes that act on devices: what a device reports by itself", function () {
  const sims: SimulatedDevice[] = [];
  useRuntime(async () => {
    for (const s of sims.splice(0)) await s.stop();
  });

  /** A node of `type` on a device on the embedded broker, plus a second one to read through. */
  async function load(model: string, type: string, props: Record<string, unknown>): Promise<{ sim: SimulatedDevice; n1: Node; out: Node }> {
    const sim = await startDevice({ model, mqttReconnectMs: 50 });
    sims.push(sim);
    const flow = onTab(
      [brokerNode(), configNode("c1", sim.address, { name: "Plug", broker: "b1", transport: "mqtt" })],
      [
        { id: "n1", type, device: "c1", ...props, wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load([brokerModule, configModule, toggleModule, lightModule], flow, { c1: { key: KEY } });
    await pointAt(sim, await brokerPort());
    await waitListening(sim);
    await (helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> }).getDevice();
    return { sim, n1: helper.getNode("n1"), out: helper.getNode("out") };
  }

  for (const props of [{}, { reportChanges: false }] as Array<Record<string, unknown>>) {
    const which = "reportChanges" in props ? "unticked" : "missing (a flow from before the option)";
    it(`meross-toggle, option ${which}: a button press on the plug sets the status and sends nothing`, async () => {
      const { sim, n1, out } = await load("mss310", "meross-toggle", { channel: "0", ...props });
      const shown = statuses(n1);
      const all = collect<Msg>(out);
      sim.press(0);
      await waitFor(() => shown.some((s) => s.text === "Plug · on"), 8000, "the status to follow the press");
      const got = nextMessage<Msg>(out);
      n1.receive({ payload: "read" } as never);
      assert.equal((await got).payload, true);
      assert.equal(all.length, 1, `only the read's answer: ${JSON.stringify(all)}`);
    });
  }

  it("meross-toggle, option ticked: a button press on the plug goes out with the device's name", async () => {
    const { sim, out } = await load("mss310", "meross-toggle", { channel: "0", reportChanges: true });
    const got = nextMessage<Msg>(out);
    sim.press(0);
    const msg = await got;
    assert.equal(msg.payload, true);
    assert.equal(msg.topic, "Plug");
    assert.equal(msg.meross?.channel, 0);
  });

  it("meross-light: a white-only bulb (msl100) answers without rgb; with the option ticked a press goes out too", async () => {
    const { sim, n1, out } = await load("msl100", "meross-light", { reportChanges: true });
    const all = collect<{ payload: Record<string, unknown>; mine?: boolean }>(out);
    n1.receive({ payload: { on: true, brightness: 30 }, mine: true } as never);
    await waitFor(() => all.some((m) => m.mine), 8000, "the answer");
    const answer = all.find((m) => m.mine)?.payload ?? {};
    assert.equal(answer.brightness, 30);
    assert.equal(typeof answer.temperature, "number");
    sim.press(0);
    await waitFor(() => all.some((m) => m.payload.on === false), 8000, "the pushed off");
    assert.ok(
      all.every((m) => !("rgb" in m.payload)),
      `no rgb on a white-only lamp: ${JSON.stringify(all.map((m) => m.payload))}`,
    );
  });
});
