import assert from "node:assert/strict";
import type { EventEmitter } from "node:events";
import net from "node:net";
import type { Node, NodeStatus } from "node-red";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import stateModule = require("../../src/nodes/meross-state");
import toggleModule = require("../../src/nodes/meross-toggle");
import onboardModule = require("../../src/nodes/meross-onboard");
import type { MerossDevice } from "../../src/core/session/device";
import type { FleetBase } from "../../src/core/fleet";
import type { MqttConnection } from "../../src/core/transport/mqtt";
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, configNode, onTab, useRuntime, waitFor, collect, type FlowNode } from "./helpers";
import { brokerNode, getBroker, pointAt, waitListening } from "./broker-helpers";

const MODULES = [brokerModule, configModule, stateModule, toggleModule];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Records the status texts of broker node b1, including those of a node a deploy creates later; returns the undo. */
function watchBrokerStatuses(seen: string[]): () => void {
  // Every meross-broker node shares its type's prototype: wrapping it there sees the new node's first status too.
  const proto = Object.getPrototypeOf(getBroker()) as { status(s: NodeStatus): void };
  const own = Object.prototype.hasOwnProperty.call(proto, "status");
  const orig = proto.status;
  proto.status = function (this: Node, st: NodeStatus): void {
    if (this.id === "b1") seen.push(String(st.text ?? ""));
    orig.call(this, st);
  };
  return () => {
    if (own) proto.status = orig;
    else delete (proto as { status?: unknown }).status;
  };
}
const REDEPLOYS = 100;

/**
 * helper.setFlows() gives the new flows 300 ms to start, which a loaded machine can miss; this
 * waits for the runtime's own "flows:started" (listened for before deploying), however long it takes.
 */
async function deploy(flow: FlowNode[], type: "full" | "nodes", credentials: Record<string, unknown>): Promise<void> {
  const internals = helper as unknown as {
    _events: EventEmitter;
    _redNodes: { setFlows(f: FlowNode[], c: unknown, t: string): Promise<unknown> };
  };
  const started = new Promise((r) => internals._events.once("flows:started", r));
  await internals._redNodes.setFlows(flow, credentials, type);
  await started;
}

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
  return { fleet: listeners(e.fleet), connection: listeners(e.connection?.events), device: listeners(deviceEvents(e.device)) };
}

/** The flow under test: a broker, a device on it, and a state and a toggle node of that device, plus a state node of the whole broker. */
function flow(sim: SimulatedDevice, n: number): FlowNode[] {
  return onTab(
    [brokerNode(), configNode("c1", sim.address, { broker: "b1", transport: "auto", uuid: sim.uuid, name: `desk ${n}` })],
    [
      { id: "s1", type: "meross-state", device: "c1", pollInterval: "0", name: `state ${n}`, wires: [["out"]] },
      { id: "s2", type: "meross-state", broker: "b1", pollInterval: "0", name: `all ${n}`, wires: [["out"]] },
      { id: "t1", type: "meross-toggle", device: "c1", channel: "0", name: `toggle ${n}`, wires: [["out"]] },
      { id: "out", type: "helper" },
    ],
  );
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
      await deploy(flow(sim, i), "full", { c1: { key: KEY } });
      const after = await settled();
      // Unchanged broker settings: the new broker node adopted the running fleet and its connection (src/core/fleet/handover.ts),
      // so "the old emitters end empty" reads: the replaced session has none left, and the adopted ones hold no more than at first.
      assert.equal(after.fleet, before.fleet, `redeploy ${i}: the broker was handed over`);
      assert.equal(after.connection, before.connection, `redeploy ${i}: the broker's connection was handed over`);
      assert.notEqual(after.device, before.device, `redeploy ${i}: the device session was replaced`);
      assert.equal(listeners(deviceEvents(before.device)), 0, `redeploy ${i}: the stopped nodes removed every listener they added`);
      assert.deepEqual(counts(after), first, `redeploy ${i}: the new nodes hold as many listeners as the first deploy`);
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
      await deploy(flow(sim, i), "nodes", { c1: { key: KEY } });
      const now = await settled();
      assert.equal(now.fleet, e.fleet, "the broker was not restarted");
      assert.equal(now.connection, e.connection, "the broker's connection was kept");
      assert.equal(listeners(deviceEvents(oldDevice)), 0, `redeploy ${i}: the replaced device session has no listener left`);
      assert.deepEqual(counts(now), first, `redeploy ${i}: fleet, connection and device listener counts are unchanged`);
    }
  });

  describe("full deploys and the devices on the embedded broker", () => {
    const DEVICES = 3;
    const FULL_DEPLOYS = 20;
    type Payload = { uuid: string; kind: string; online?: boolean };

    /** Every device with its config and state node, plus a state node of the whole broker; `broker` overrides broker settings. */
    function fleetFlow(devices: SimulatedDevice[], n: number, broker: Record<string, unknown> = {}): FlowNode[] {
      const configs = devices.map((d, i) =>
        configNode(`c${i}`, d.address, { broker: "b1", transport: "auto", uuid: d.uuid, name: `dev ${i}` }),
      );
      const states = devices.map((_, i) => ({
        id: `s${i}`,
        type: "meross-state",
        device: `c${i}`,
        pollInterval: "0",
        name: `state ${i} ${n}`,
        wires: [["out"]],
      }));
      const onboard = {
        id: "o1",
        type: "meross-onboard",
        address: "127.0.0.1:9",
        ssid: "HomeNet",
        broker: "b1",
        userId: "1",
        wires: [["out"]],
      };
      const all = { id: "all", type: "meross-state", broker: "b1", pollInterval: "0", wires: [["out"]] };
      return onTab([brokerNode("b1", broker), ...configs], [...states, all, onboard, { id: "out", type: "helper" }]);
    }

    /** Connections each simulated device made (counted on the device side: its MQTT client reported "connected"). */
    function countConnects(devices: SimulatedDevice[]): number[] {
      const n = devices.map(() => 0);
      devices.forEach((d, i) => d.on("mqtt", (e: { state: string }) => void (e.state === "connected" && n[i]++)));
      return n;
    }

    async function startFleet(
      broker: Record<string, unknown> = {},
    ): Promise<{ devices: SimulatedDevice[]; creds: Record<string, Record<string, string>> }> {
      const devices: SimulatedDevice[] = [];
      for (let i = 0; i < DEVICES; i++) devices.push(await startDevice({ model: "mss310", mqttReconnectMs: 50 }));
      sims.push(...devices);
      const creds: Record<string, Record<string, string>> = Object.fromEntries(devices.map((_, i) => [`c${i}`, { key: KEY }]));
      creds.o1 = { key: "onboarding-key-0001", wifiPassword: "wifi-pass-0001" };
      await helper.load([...MODULES, onboardModule], fleetFlow(devices, 0, broker), creds);
      const port = (await getBroker().endpoint()).port;
      for (const d of devices) await pointAt(d, port);
      for (const d of devices) await waitListening(d);
      return { devices, creds };
    }

    it(`keeps every device's MQTT connection over ${FULL_DEPLOYS} full deploys, and meross-state reports no device offline`, async () => {
      const { devices, creds } = await startFleet();
      const connects = countConnects(devices);
      const fleet = getBroker().fleet as FleetBase;
      let gone = 0;
      const offGone = fleet.events.on("gone", () => void gone++);
      // Key sources: every config and the onboarding node add one; a stopped node that kept its source would let its key in forever.
      const keySources = (): number => (fleet as unknown as { keys: { owners: number } }).keys.owners;
      const sources = keySources();
      const fleetListeners = fleet.events.listenerCount();
      assert.equal(sources, DEVICES + 1);
      const messages: Payload[] = [];
      for (let i = 1; i <= FULL_DEPLOYS; i++) {
        await deploy(fleetFlow(devices, i), "full", creds);
        const out = collect<{ payload: Payload }>(helper.getNode("out"));
        assert.equal(getBroker().fleet, fleet, `deploy ${i}: the new broker node runs the same fleet`);
        assert.equal(keySources(), sources, `deploy ${i}: the adopted broker knows the same key sources`);
        for (const d of devices) assert.ok(getBroker().isListening(d.uuid), `deploy ${i}: ${d.uuid} is still on the broker`);
        await Promise.all(devices.map((_, k) => (helper.getNode(`c${k}`) as unknown as { getDevice(): Promise<unknown> }).getDevice()));
        await new Promise((r) => setImmediate(r));
        messages.push(...out.map((m) => m.payload));
        assert.equal(fleet.events.listenerCount(), fleetListeners, `deploy ${i}: the adopted fleet holds as many listeners as before`);
      }
      offGone();
      assert.deepEqual(
        connects,
        devices.map(() => 0),
        "no device connected again: every MQTT connection was kept",
      );
      assert.ok(devices.every((d) => d.mqttState === "connected"));
      assert.equal(gone, 0, "the broker never saw a device leave");
      assert.deepEqual(
        messages.filter((m) => m.kind === "online" && m.online === false),
        [],
        "meross-state reported no device offline",
      );
      assert.equal(fleet.isClosed, false);
    });

    it("restarts the broker when a setting changed, says which, and the devices come back", async () => {
      const port = await freePort();
      const { devices, creds } = await startFleet({ port: String(port) });
      const connects = countConnects(devices);
      const old = getBroker().fleet as unknown as { isClosed: boolean };
      const seen: string[] = [];
      const restore = watchBrokerStatuses(seen);
      try {
        await deploy(fleetFlow(devices, 1, { port: String(port), allowAnonymous: true }), "full", creds);
        assert.equal(old.isClosed, true, "the old broker stopped");
        assert.notEqual(getBroker().fleet, old);
        for (const d of devices) await waitListening(d);
        assert.deepEqual(
          connects,
          devices.map(() => 1),
          "each device connected once to the new broker",
        );
        await waitFor(
          () => seen.includes(`${DEVICES} devices · restarted: allow anonymous changed`),
          8000,
          "the broker's status to say why it restarted",
        );
      } finally {
        restore();
      }
    });

    it("stops the broker when the node is removed or Node-RED stops", async () => {
      const { devices, creds } = await startFleet();
      const fleet = getBroker().fleet as unknown as { isClosed: boolean };
      const withoutBroker = fleetFlow(devices, 1).filter((n) => n.type !== "meross-broker");
      await deploy(withoutBroker, "full", creds);
      assert.equal(fleet.isClosed, true, "removing the node stopped its broker");
      await deploy(fleetFlow(devices, 2), "full", creds);
      const again = getBroker().fleet as unknown as { isClosed: boolean };
      assert.notEqual(again, fleet);
      await helper.unload();
      await waitFor(() => again.isClosed, 8000, "the broker to stop with Node-RED");
    });
  });
});
