/**
 * The contract between the meross-broker config node and the nodes that use it
 * (meross-config, meross-state, meross-onboard). Kept apart from the node's file because
 * a file with `export =` cannot export types.
 */
import type { EventEmitter } from "node:events";
import type { Node } from "node-red";
import type { MerossBroker } from "../../core/broker/broker";
import type { MqttConnection } from "../../core/transport/mqtt";

/** One device the broker knows about right now. */
export interface BrokerPresence {
  uuid: string;
  mac?: string;
  /** The address the device connected from (embedded) or reported in its Bind (existing). */
  ip?: string;
  model?: string;
  firmware?: string;
  /** Subscribed to its request topic: MQTT requests reach it now. */
  listening: boolean;
  /** Epoch ms of its (re)connection, or of the first message seen on an existing broker. */
  since: number;
}

/** Where devices are told to connect during onboarding. */
export interface BrokerEndpoint {
  host: string;
  port: number;
}

/**
 * Events on `events`: "device" (BrokerPresence, on login, subscription, Bind or a new IP),
 * "gone" ({uuid}), "running" (), "stopped" ({reason}).
 */
export interface MerossBrokerNode extends Node {
  readonly mode: "embedded" | "existing";
  readonly events: EventEmitter;
  /** The shared connection, once the embedded broker runs (rejects when it could not start). */
  connection(): Promise<MqttConnection>;
  /** The shared connection now, or undefined while starting or after close. */
  currentConnection(): MqttConnection | undefined;
  /** The running embedded broker (undefined for an existing broker). */
  embedded(): Promise<MerossBroker | undefined>;
  devices(): BrokerPresence[];
  device(uuid: string): BrokerPresence | undefined;
  /** True while requests over MQTT reach this device. */
  isListening(uuid: string): boolean;
  endpoint(): Promise<BrokerEndpoint>;
  /** Adds the device keys a user knows (checked at each device login); `owner` is the user's id. */
  useKeys(owner: string, keys: () => readonly string[]): void;
  dropKeys(owner: string): void;
  /** Texts that must never be shown: the broker password. */
  secrets(): string[];
}

export function isMerossBroker(node: unknown): node is MerossBrokerNode {
  return !!node && typeof node === "object" && (node as Node).type === "meross-broker" && typeof (node as MerossBrokerNode).useKeys === "function";
}
