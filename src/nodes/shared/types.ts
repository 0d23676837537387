/**
 * The contract between the meross-config node and the nodes that use it. Kept apart
 * from the config node's file because a file with `export =` cannot export types.
 */
import type { Node } from "node-red";
import type { MerossDevice, Carrier, DeviceLink, LinkStatus, SessionState } from "../../core";
import type { MerossBrokerNode } from "./broker-types";

/** What a meross-config holds for all its users: it calls dispose() once, when it closes. */
export interface SharedObject {
  dispose(): void;
}

/** How a meross-config reaches its device. */
export type TransportChoice = Carrier;

export type { LinkStatus, SessionState };

export interface MerossConfigNode extends Node {
  host: string;
  userId: string;
  /** The device link every user shares: its session state and device events are typed events. */
  readonly link: DeviceLink;
  /** The single session every user node shares (undefined when the settings are unusable). */
  readonly device: MerossDevice | undefined;
  /** A user starts using the device (the first one starts the session). */
  register(user: Node): void;
  /** A user leaves; `removed` is its close's flag (deleted, not redeployed). */
  deregister(user: Node, done: () => void, removed?: boolean): void;
  /** Its users by id, as Node-RED's own config nodes keep them: the runtime forwards this node's status and errors to them. */
  readonly users: Record<string, Node>;
  /** The session after System.All/Ability have been read (read once, retried after a failure). */
  getDevice(): Promise<MerossDevice>;
  /** Per-config helpers shared by all users of this device (e.g. the light's controller); disposed when the config closes. */
  shared<T extends SharedObject>(key: string, create: () => T): T;
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
  /** What a person calls the device (core/naming.ts): the config's name, else "model …uuid end", else the address. */
  displayName(): string;
}

export function isMerossConfig(node: unknown): node is MerossConfigNode {
  if (!node || typeof node !== "object") return false;
  return (node as Node).type === "meross-config" && typeof (node as MerossConfigNode).register === "function";
}
