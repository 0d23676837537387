/**
 * Helpers for specs with a meross-broker: a throwaway Node-RED user directory (where the
 * embedded broker keeps its certificates), the broker's port once it runs, and pointing a
 * simulated device at it the way onboarding does (Config.Key with a gateway).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Node } from "node-red";
import { MerossDevice, NS } from "../../src/core/session/device";
import { buildConfigKeyPayload } from "../../src/core/onboarding/config";
import type { SimulatedDevice } from "../../src/simulator";
import type { MerossBrokerNode } from "../../src/nodes/shared/broker-types";
import { helper, KEY, waitFor, type FlowNode } from "./helpers";

/** One user directory for the whole run: certificates are generated once per broker node id. */
const USER_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "meross-nr-"));
helper.settings({ userDir: USER_DIR });

export { USER_DIR };

/** An embedded broker on a free port of 127.0.0.1 whose certificate names 127.0.0.1. */
export function brokerNode(id = "b1", extra: Record<string, unknown> = {}): FlowNode {
  // Simulated uuids come from model and port: a binding left by an earlier test must not meet a reused port.
  fs.rmSync(path.join(USER_DIR, "meross-broker", id, "device-identities.json"), { force: true });
  return {
    id,
    type: "meross-broker",
    name: "test broker",
    mode: "embedded",
    port: "0",
    bindHost: "127.0.0.1",
    certHost: "127.0.0.1",
    allowAnonymous: false,
    ...extra,
  };
}

export function getBroker(id = "b1"): MerossBrokerNode {
  return helper.getNode(id) as unknown as MerossBrokerNode;
}

export async function brokerPort(id = "b1"): Promise<number> {
  return (await getBroker(id).endpoint()).port;
}

/** Gives a configured device a broker (and key) as Config.Key does; it then dials it. */
export async function pointAt(sim: SimulatedDevice, port: number, key = KEY, newKey = key): Promise<void> {
  const d = new MerossDevice({ address: sim.address, key });
  try {
    await d.request("SET", NS.KEY, buildConfigKeyPayload({ host: "127.0.0.1", port, key: newKey, userId: "1" }), { checkAbility: false });
  } finally {
    await d.close();
  }
}

/**
 * Waits until the broker reports the device ready for MQTT requests and the device itself
 * counts as connected (it only pushes changes from then on, like firmware after its SUBACK).
 */
export async function waitListening(sim: SimulatedDevice, id = "b1"): Promise<void> {
  await waitFor(
    () => getBroker(id).isListening(sim.uuid) && sim.mqttState === "connected",
    10_000,
    `device ${sim.uuid} to subscribe on the broker`,
  );
}

/** Records every status a node shows. */
export function statuses(node: Node): Array<{ fill?: string; shape?: string; text?: string }> {
  const seen: Array<{ fill?: string; shape?: string; text?: string }> = [];
  const orig = node.status.bind(node);
  node.status = ((s: { fill?: string; text?: string }) => {
    seen.push(s);
    orig(s as never);
  }) as typeof node.status;
  return seen;
}
