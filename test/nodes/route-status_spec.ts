/**
 * The path shown in a node's status follows the device: a device read over HTTP at start-up (it
 * had not logged in to the broker yet) shows "mqtt" as soon as it does, without waiting for a request.
 */
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import requestModule = require("../../src/nodes/meross-request");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, configNode, onTab, useRuntime, waitFor } from "./helpers";
import { brokerNode, brokerPort, pointAt, statuses, waitListening } from "./broker-helpers";

describe("status route after a restart (transport auto)", function () {
  let sim: SimulatedDevice | undefined;
  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it("shows '· http' while the device is off the broker and '· mqtt' once it logs in, with no input in between", async () => {
    sim = await startDevice({ model: "mss310", mqttReconnectMs: 50 });
    const flow = onTab(
      [brokerNode(), configNode("c1", sim.address, { broker: "b1", transport: "auto" })],
      [{ id: "t1", type: "meross-request", device: "c1", method: "GET", namespace: "Appliance.System.All", wires: [[]] }],
    );
    await helper.load([brokerModule, configModule, requestModule], flow, { c1: { key: KEY } });
    const t1 = helper.getNode("t1");
    const shown = statuses(t1);
    await (helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> }).getDevice();
    await waitFor(() => shown.some((s) => s.text === "dev · http"), 8000, "the status after the HTTP read");
    await pointAt(sim, await brokerPort());
    await waitListening(sim);
    await waitFor(() => shown[shown.length - 1]?.text === "dev · mqtt", 8000, "the status to say mqtt");
  });
});
