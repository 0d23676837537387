import assert from "node:assert/strict";
import type { EventEmitter } from "node:events";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import stateModule = require("../../src/nodes/meross-state");
import toggleModule = require("../../src/nodes/meross-toggle");
import type { MerossDevice } from "../../src/core/session/device";
import type { MqttConnection } from "../../src/core/transport/mqtt";
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, configNode, onTab, useRuntime, type FlowNode } from "./helpers";
import { brokerNode, getBroker, pointAt, waitListening } from "./broker-helpers";

const MODULES = [brokerModule, configModule, stateModule, toggleModule];
const REDEPLOYS = 100;

/** Listeners on an EventEmitter (every event name) or on a TypedEvents (listenerCount() counts all). */
function listeners(emitter: EventEmitter | { listenerCount(name?: never): number } | undefined): number {
  if (!emitter) return 0;
  if ("eventNames" in emitter) return emitter.eventNames().reduce((n, name) => n + emitter.listenerCount(name), 0);
  return emitter.listenerCount();
}

/** The device session's typed events. */
function deviceEvents(d: MerossDevice | undefined): { listenerCount(): number } | undefined {
  return d?.events;
}

interface Emitters {
  fleet: { listenerCount(): number };
  connection: MqttConnection | undefined;
  device: MerossDevice | undefined;
}

function emitters(): Emitters {
  const b = getBroker();
  const c = helper.getNode("c1") as unknown as { device: MerossDevice | undefined };
  return { fleet: b.events, connection: b.currentConnection(), device: c.device };
}

function counts(e: Emitters): { fleet: number; connection: number; device: number } {
  return { fleet: listeners(e.fleet), connection: listeners(e.connection), device: listeners(deviceEvents(e.device)) };
}

/** The flow under test: a broker, a device on it, and a state and a toggle node of that device, plus a state node of the whole broker. */
function flow(sim: SimulatedDevice, n: number): FlowNode[] {
  return onTab([brokerNode(), configNode("c1", sim.address, { broker: "b1", transport: "auto", uuid: sim.uuid, name: `desk ${n}` })], [
    { id: "s1", type: "meross-state", device: "c1", pollInterval: "0", name: `state ${n}`, wires: [["out"]] },
    { id: "s2", type: "meross-state", broker: "b1", pollInterval: "0", name: `all ${n}`, wires: [["out"]] },
    { id: "t1", type: "meross-toggle", device: "c1", channel: "0", name: `toggle ${n}`, wires: [["out"]] },
    { id: "out", type: "helper" },
  ]);
}

/** Waits until the broker runs and the session read the device: every node has subscribed what it will. */
async function settled(): Promise<Emitters> {
  await getBroker().connection();
  await (helper.getNode("c1") as unknown as { getDevice(): Promise<MerossDevice> }).getDevice();
  await new Promise((r) => setImmediate(r));
  return emitters();
}

describe("redeploying a flow with a meross-broker", function () {
  this.timeout(300_000);
  const sims: SimulatedDevice[] = [];
  useRuntime(async () => {
    for (const s of sims.splice(0)) await s.stop();
  });

  it(`leaves no listener behind after ${REDEPLOYS} full redeploys: old emitters end empty, new ones hold what the first deploy did`, async () => {
    const sim = await startDevice({ model: "mss310" });
    sims.push(sim);
    await helper.load(MODULES, flow(sim, 0), { c1: { key: KEY } });
    const first = counts(await settled());
    assert.ok(first.fleet > 0 && first.connection > 0 && first.device > 0, `every emitter is in use (${JSON.stringify(first)})`);
    for (let i = 1; i <= REDEPLOYS; i++) {
      const before = emitters();
      await helper.setFlows(flow(sim, i), "full", { c1: { key: KEY } });
      const now = counts(await settled());
      assert.deepEqual(counts(before), { fleet: 0, connection: 0, device: 0 }, `redeploy ${i}: the stopped nodes removed every listener they added`);
      assert.deepEqual(now, first, `redeploy ${i}: the new nodes hold as many listeners as the first deploy`);
    }
  });

  it(`keeps the running broker's listener counts unchanged over ${REDEPLOYS} redeploys of the nodes that use it`, async () => {
    const sim = await startDevice({ model: "mss310", mqttReconnectMs: 50 });
    sims.push(sim);
    await helper.load(MODULES, flow(sim, 0), { c1: { key: KEY } });
    const e = await settled();
    await pointAt(sim, (await getBroker().endpoint()).port);
    await waitListening(sim);
    await settled();
    const first = counts(emitters());
    for (let i = 1; i <= REDEPLOYS; i++) {
      const oldDevice = emitters().device;
      // "nodes": only the changed config, state and toggle nodes restart; the broker and its connection stay.
      await helper.setFlows(flow(sim, i), "nodes", { c1: { key: KEY } });
      const now = await settled();
      assert.equal(now.fleet, e.fleet, "the broker was not restarted");
      assert.equal(now.connection, e.connection, "the broker's connection was kept");
      assert.equal(listeners(deviceEvents(oldDevice)), 0, `redeploy ${i}: the replaced device session has no listener left`);
      assert.deepEqual(counts(now), first, `redeploy ${i}: fleet, connection and device listener counts are unchanged`);
    }
  });
});
