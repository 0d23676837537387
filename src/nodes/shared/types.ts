/**
 * The contract between the meross-config node and the nodes that use it. Kept apart
 * from the config node's file because a file with `export =` cannot export types.
 */
import type { Node, NodeStatus } from "node-red";
import type { MerossDevice } from "../../core/session/device";
import type { MerossBrokerNode } from "./broker-types";

/** How a meross-config reaches its device. */
export type TransportChoice = "http" | "mqtt" | "auto";

/** What the config node pushes to every user node: connecting, ready or failed. */
export type SessionState = "connecting" | "ready" | "error";

/** A user node's hook for the shared session status; it may overlay its own state. */
export type SessionListener = (state: SessionState, status: NodeStatus) => void;

export interface MerossConfigNode extends Node {
  host: string;
  userId: string;
  /** The single session every user node shares (undefined when the host is unusable). */
  readonly device: MerossDevice | undefined;
  register(user: Node, onSession?: SessionListener): void;
  deregister(user: Node, done: () => void): void;
  /** The session after System.All/Ability have been read (read once, retried after a failure). */
  getDevice(): Promise<MerossDevice>;
  /** Per-config helpers shared by all users of this device (e.g. one light scheduler per channel). */
  shared<T>(key: string, create: () => T): T;
  /** Texts that must never be shown: the device key. */
  secrets(): string[];
  /** The configured carrier. */
  readonly transport: TransportChoice;
  /** The meross-broker this device uses, if any. */
  readonly broker: MerossBrokerNode | undefined;
  /** The device uuid: configured, else learnt from the device ("" until then). */
  uuid(): string;
  /** The path the last request took (or would take now). */
  path(): "http" | "mqtt";
  /** The HTTP address in use: the configured one, or where the broker last saw the device. */
  currentAddress(): string;
}

export function isMerossConfig(node: unknown): node is MerossConfigNode {
  return !!node && typeof node === "object" && (node as Node).type === "meross-config" && typeof (node as MerossConfigNode).register === "function";
}
