/**
 * The meross-broker node as a Fleet. Once the broker node is itself a Fleet (typed events,
 * useKeys returning its withdrawal) it is passed through as it is; until then its
 * EventEmitter is relayed onto typed events, and `release` removes that relay.
 */
import type { EventEmitter } from "node:events";
import { TypedEvents } from "../../core/events";
import type { Fleet, FleetEvents } from "../../core/fleet/types";
import type { MqttConnection } from "../../core/transport/mqtt";

/** What both the current and the Fleet-shaped meross-broker node offer. */
type BrokerLike = Omit<Fleet, "events" | "useKeys"> & {
  events: unknown;
  useKeys(owner: string, keys: () => readonly string[]): unknown;
  dropKeys?(owner: string): void;
};

export function asFleet(broker: BrokerLike): { fleet: Fleet; release(): void } {
  if (broker.events instanceof TypedEvents) return { fleet: broker as unknown as Fleet, release: () => undefined };
  const source = broker.events as EventEmitter;
  const events = new TypedEvents<FleetEvents>();
  const relays: Record<string, (arg?: unknown) => void> = {
    device: (p) => events.emit("device", p as FleetEvents["device"]),
    gone: (g) => events.emit("gone", g as FleetEvents["gone"]),
    stopped: (s) => events.emit("stopped", s as FleetEvents["stopped"]),
    running: () => {
      const connection: MqttConnection | undefined = broker.currentConnection();
      if (connection) events.emit("running", { connection });
    },
  };
  for (const [name, fn] of Object.entries(relays)) source.on(name, fn);
  const fleet: Fleet = {
    mode: broker.mode,
    events,
    connection: () => broker.connection(),
    currentConnection: () => broker.currentConnection(),
    devices: () => broker.devices(),
    device: (uuid) => broker.device(uuid),
    isListening: (uuid) => broker.isListening(uuid),
    endpoint: () => broker.endpoint(),
    useKeys: (owner, keys) => {
      const off = broker.useKeys(owner, keys);
      return typeof off === "function" ? (off as () => void) : () => broker.dropKeys?.(owner);
    },
    secrets: () => broker.secrets(),
  };
  return {
    fleet,
    release: () => {
      for (const [name, fn] of Object.entries(relays)) source.off(name, fn);
      events.clear();
    },
  };
}
