/**
 * Nodes and the device session they share: a node that is redeployed or removed sends none of
 * its commands still waiting, and a device that logs in to the embedded broker after the flow
 * started is read on arrival, so the first command after it is online succeeds.
 */
import assert from "node:assert/strict";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import toggleModule = require("../../src/nodes/meross-toggle");
import { MerossDevice, NS } from "../../src/core/session/device";
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, configNode, onTab, useRuntime, waitFor, type FlowNode } from "./helpers";
import { brokerNode, brokerPort, getBroker, pointAt, waitListening } from "./broker-helpers";
import { FakeDevice } from "../core/broker/fake_device";

interface ConfigView {
  device: MerossDevice | undefined;
  getDevice(): Promise<MerossDevice>;
}

const config = (id = "c1"): ConfigView => helper.getNode(id) as unknown as ConfigView;

describe("device sessions that nodes can trust", function () {
  this.timeout(30_000);
  const sims: SimulatedDevice[] = [];
  useRuntime(async () => {
    for (const s of sims.splice(0)) await s.stop();
  });

  for (const mode of ["nodes", "full"] as const) {
    it(`a toggle node removed by a "${mode}" redeploy while its commands wait: the device never receives them`, async () => {
      const sim = await startDevice({ model: "mss310" });
      sims.push(sim);
      const withToggle = (): FlowNode[] =>
        onTab(
          [configNode("c1", sim.address)],
          [
            { id: "t1", type: "meross-toggle", device: "c1", channel: "0", name: "", wires: [["out"]] },
            { id: "out", type: "helper" },
          ],
        );
      await helper.load([configModule, toggleModule], withToggle(), { c1: { key: KEY } });
      const session = await config().getDevice();
      // The device is slow to answer the next request, so the commands after it wait in the queue.
      sim.setFault({ kind: "delay", ms: 300 }, { count: 1 });
      const seen: string[] = [];
      sim.on("request", (i: { method: string; namespace: string }) => seen.push(`${i.method} ${i.namespace}`));
      const t1 = helper.getNode("t1");
      t1.receive({ payload: "on" });
      for (let i = 0; i < 5; i++) t1.receive({ payload: "off" });
      await waitFor(() => session.pending === 6, 5000, "six commands in the device queue");

      const without = onTab([configNode("c1", sim.address)], [{ id: "out", type: "helper" }]);
      await helper.setFlows(without, mode, { c1: { key: KEY } });
      await waitFor(() => session.pending === 0, 5000, "the old session's queue to empty");
      // The device serves one request at a time: once a later one is answered, nothing earlier is still coming.
      const probe = new MerossDevice({ address: sim.address, key: KEY });
      await probe.request("GET", NS.ALL, {}, { checkAbility: false }).finally(() => probe.close());
      const old = seen.filter((r) => r !== `GET ${NS.ALL}`);
      // A "nodes" redeploy keeps the session: the command on the wire completes. A "full" one closes it and cuts it off.
      const expected = mode === "nodes" ? [`SET ${NS.TOGGLEX}`] : [];
      assert.deepEqual(old, expected, "none of the waiting commands reached the device");
      assert.equal(sim.state.channels[0].on, mode === "nodes", "the waiting 'off' commands were never applied");
    });
  }

  it("reads a device that logs in to the embedded broker after the flow started; the first command after it is online succeeds", async () => {
    const uuid = "19111400000000000000" + "48e1e9aa0042";
    const flow = onTab(
      [brokerNode(), configNode("c1", "", { broker: "b1", transport: "mqtt", uuid })],
      [
        { id: "t1", type: "meross-toggle", device: "c1", channel: "0", name: "", wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load([brokerModule, configModule, toggleModule], flow, { c1: { key: KEY } });
    const port = await brokerPort();
    // The config's first read is under way before the device has even started.
    await waitFor(() => (config().device?.pending ?? 0) > 0, 5000, "the config's first read to start");
    const sim = await startDevice({ model: "mss310", uuid, mac: "48:e1:e9:aa:00:42", gateway: { host: "127.0.0.1", port } });
    sims.push(sim);
    await waitListening(sim);
    const got = nextMessage(helper.getNode("out"));
    helper.getNode("t1").receive({ payload: "on" });
    const msg = await got;
    assert.equal(msg.payload, true);
    assert.equal(sim.state.channels[0].on, true, "the device was switched over MQTT");
  });

  it("a config with address and key but no uuid: a squatter under the device's uuid with another accepted key is not learnt, followed or sent commands", async () => {
    const sim = await startDevice({ model: "mss310" });
    sims.push(sim);
    const flow = onTab(
      [
        brokerNode(),
        configNode("c1", sim.address, { broker: "b1", transport: "auto" }),
        // A neighbour's device: its key is one the broker accepts.
        configNode("c2", "127.0.0.1:9", { broker: "b1", transport: "http" }),
      ],
      [
        { id: "t1", type: "meross-toggle", device: "c1", channel: "0", name: "", wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    // The device answers its first read slowly: the squatter logs in and binds before the config knows the uuid.
    sim.setFault({ kind: "delay", ms: 2000 }, { count: 1 });
    await helper.load([brokerModule, configModule, toggleModule], flow, { c1: { key: KEY }, c2: { key: "neighbour-key" } });
    const port = await brokerPort();
    const squatter = await FakeDevice.connect({
      port,
      uuid: sim.uuid,
      mac: sim.mac,
      key: "neighbour-key",
      clientId: `fmware:${sim.uuid}_squatter00000000`,
      localAddress: "127.0.0.2",
    });
    const kicked = new Promise<void>((resolve) => squatter.client.once("close", () => resolve()));
    await squatter.publish(
      squatter.message("SET", "Appliance.Control.Bind", { bind: { hardware: { type: "mss310", macAddress: sim.mac } } }),
    );
    await waitFor(() => getBroker().device(sim.uuid)?.model === "mss310", 5000, "the squatter's Bind");
    const cfg = helper.getNode("c1") as unknown as { uuid(): string; currentAddress(): string };
    assert.equal(getBroker().device(sim.uuid)?.proven, false);
    // The config reads the device over HTTP: its signed reply proves the uuid, and the squatter is put out.
    await kicked;
    assert.equal(cfg.uuid(), sim.uuid);
    assert.equal(cfg.currentAddress(), sim.address, "the squatter's address was never followed");
    await pointAt(sim, port);
    await waitListening(sim);
    assert.equal(getBroker().device(sim.uuid)?.proven, true);
    const got = nextMessage(helper.getNode("out"));
    helper.getNode("t1").receive({ payload: "on" });
    assert.equal((await got).payload, true);
    assert.equal(sim.state.channels[0].on, true, "the genuine device was switched");
    assert.equal(
      squatter.received.some((e) => e.header.namespace === "Appliance.Control.ToggleX"),
      false,
      "no command signed with the device's key reached the squatter",
    );
  });
});
