/**
 * meross-state on a whole broker: every device there is reported online when it listens,
 * offline when it leaves, and each change it pushes (followed by src/core/fleet/followers.ts).
 */
import type { NodeAPI, NodeStatus } from "node-red";
import { isMerossConfig } from "./types";
import { PushFollowers, deviceDisplayName } from "../../core";
import { SHORT_REASON, toMerossError } from "./errors";
import type { BrokerPresence, MerossBrokerNode } from "./broker-types";
import { fromEvent, known, withModel, type StatePayload } from "./state-output";

/** How long the uuid → name map of configNames() is used before the flow is walked again. */
const NAMES_TTL_MS = 5_000;

export interface BrokerWatch {
  /** What is known now: each present device online, then its pushed toggles and light. */
  items(): StatePayload[];
  /** Removes every listener the watch added. */
  close(): void;
}

/**
 * The name the user gave the Meross device node (meross-config) with this uuid; undefined when
 * there is none or it is unnamed, so the caller names the device by model and uuid end instead
 * of an address the unnamed node may still show.
 */
export function configNames(RED: NodeAPI, now: () => number = Date.now): (uuid: string) => string | undefined {
  // One walk over the flow builds the whole map; it is redone at most every NAMES_TTL_MS (a uuid
  // learnt from a device later shows then), never once per state: a busy fleet emits thousands.
  let names = new Map<string, string>();
  let builtAt = -Infinity;
  const build = (): void => {
    names = new Map();
    RED.nodes.eachNode((n) => {
      const cfg = n.type === "meross-config" ? RED.nodes.getNode(n.id) : null;
      if (!isMerossConfig(cfg) || typeof n.name !== "string" || !n.name.trim()) return;
      const uuid = cfg.uuid();
      if (uuid && !names.has(uuid)) names.set(uuid, cfg.displayName());
    });
    builtAt = now();
  };
  return (uuid) => {
    if (now() - builtAt > NAMES_TTL_MS) build();
    return names.get(uuid);
  };
}

/**
 * `emit` gets each state with the device's name: `configName(uuid)` (the name of a Meross
 * device node for that uuid), else the naming rule's model and uuid end; `status` the node's own status.
 */
export function watchBroker(
  broker: MerossBrokerNode,
  emit: (p: StatePayload, name: string) => void,
  status: (st: NodeStatus) => void,
  configName: (uuid: string) => string | undefined = () => undefined,
): BrokerWatch {
  let closed = false;
  const modelOf = (uuid: string): string | undefined => broker.device(uuid)?.model;
  const label = (uuid: string): string => configName(uuid) ?? deviceDisplayName({ model: modelOf(uuid), uuid });
  const online = (uuid: string, on: boolean): void =>
    emit({ ...withModel(uuid, modelOf(uuid)), kind: "online", online: on, source: "push" }, label(uuid));
  const followers = new PushFollowers(broker, (uuid, ev) => {
    const p = fromEvent(uuid, modelOf(uuid), ev, "push");
    if (p) emit(p, label(uuid));
  });
  const onDevice = (p: BrokerPresence): void => {
    if (p.listening) online(p.uuid, true);
  };
  const attach = (): void => {
    broker.connection().then(
      () => {
        if (closed) return;
        for (const p of broker.devices()) onDevice(p);
        status({ fill: "green", shape: "ring", text: `${broker.devices().length} devices` });
      },
      (err: unknown) => {
        if (!closed) status({ fill: "red", shape: "ring", text: SHORT_REASON[toMerossError(err, broker.secrets()).code] });
      },
    );
  };
  const offs = [
    broker.events.on("device", onDevice),
    broker.events.on("gone", (g) => online(g.uuid, false)),
    broker.events.on("running", attach),
  ];
  status({ fill: "yellow", shape: "ring", text: "waiting for broker" });
  attach();
  return {
    items() {
      const out: StatePayload[] = [];
      for (const p of broker.devices()) {
        out.push({ ...withModel(p.uuid, p.model), kind: "online", online: true, source: "push" });
        const d = followers.get(p.uuid);
        if (d) out.push(...known(d, p.uuid, p.model, "push"));
      }
      return out;
    },
    close() {
      closed = true;
      for (const off of offs.splice(0)) off();
      followers.close();
    },
  };
}
