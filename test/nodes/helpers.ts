/**
 * Shared plumbing for the node specs: the test runtime, simulated devices on 127.0.0.1
 * and small waits on node events.
 */
import helper from "node-red-node-test-helper";
import type { EventEmitter } from "node:events";
import type { Node } from "node-red";
import { SimulatedDevice, type SimulatorOptions } from "../../src/simulator";

// NR_PATH selects another Node-RED (the Node-RED 5 / Node 22 run of scripts/nr5.js).
helper.init(process.env.NR_PATH || require.resolve("node-red"));

export { helper };

/**
 * Starts the test runtime before each test; after it, unloads the flow, stops the runtime
 * and then runs `cleanup` (stop the simulators the test started).
 */
export function useRuntime(cleanup: () => Promise<void> | void = () => undefined): void {
  beforeEach((done) => {
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await cleanup();
  });
}

export const KEY = "s3cr3t-device-key-0042";

/** One entry of a test flow. */
export type FlowNode = { id: string; type: string; [prop: string]: unknown };

/** Node's typings only declare "close"; test nodes emit "input" like any EventEmitter. */
function emitter(node: Node): EventEmitter {
  return node as unknown as EventEmitter;
}

export async function startDevice(opts: SimulatorOptions = {}): Promise<SimulatedDevice> {
  return SimulatedDevice.start({ key: KEY, ...opts });
}

/** Resolves with the next message a helper node receives. */
export function nextMessage<T = Record<string, unknown>>(node: Node, timeoutMs = 8000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no message reached ${node.id} within ${timeoutMs} ms`)), timeoutMs);
    emitter(node).once("input", (msg: T) => {
      clearTimeout(t);
      resolve(msg);
    });
  });
}

/** Collects every message a helper node receives. */
export function collect<T = Record<string, unknown>>(node: Node): T[] {
  const out: T[] = [];
  emitter(node).on("input", (msg: T) => out.push(msg));
  return out;
}

export function waitFor(cond: () => boolean, timeoutMs = 8000, what = "condition"): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = (): void => {
      if (cond()) return resolve();
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

/** A config node entry for a flow. */
export function configNode(id: string, host: string, extra: Record<string, unknown> = {}): FlowNode {
  return { id, type: "meross-config", name: "dev", host, userId: "1", ...extra };
}

/**
 * A flow on one tab: every non-config node gets z/x/y, without which the runtime treats
 * it as a config node (and a Catch node would never be registered as one).
 */
export function onTab(configs: FlowNode[], nodes: FlowNode[]): FlowNode[] {
  return [{ id: "tab1", type: "tab", label: "test" }, ...configs, ...nodes.map((n, i) => ({ z: "tab1", x: 100 + i * 10, y: 100, ...n }))];
}

/** A Catch node for every error on the tab, wired to a helper node `caught`. */
export const CATCH_NODES: FlowNode[] = [
  { id: "catcher", type: "catch", scope: null, uncaught: false, wires: [["caught"]] },
  { id: "caught", type: "helper" },
];
