/**
 * Plumbing every device node repeats: find its meross-config, register with it, follow
 * the shared session's state and the device's events through the link's typed events,
 * and drop all of that on close so a redeploy leaves no listener behind.
 */
import type { NodeAPI, Node, NodeStatus } from "node-red";
import type { DeviceEvent, MerossDevice } from "../../core/session/device";
import { MerossError } from "../../core/errors";
import type { Unsubscribe } from "../../core/events";
import { shortName } from "../../core/naming";
import { SHORT_REASON, failMessage, type Done } from "./errors";
import { isMerossConfig, type LinkStatus, type MerossConfigNode } from "./types";

export interface UserLink {
  config: MerossConfigNode | undefined;
  /** The config's session, or a BAD_INPUT error saying no device is selected. */
  device(): Promise<MerossDevice>;
  secrets(): string[];
  /** What a person calls the device (core/naming.ts); "" when no device is selected. */
  name(): string;
  /** Sets this node's own state, shown after the device's name whenever the session is ready. */
  show(status: NodeStatus | undefined): void;
  /** Red ring and done() with a sentence that starts with the device's name. */
  fail(err: unknown, done: Done): void;
  /**
   * Aborts when the node closes (redeploy, removal): every request the node makes carries it,
   * so its commands still waiting for the device are dropped, never sent by a node that is gone.
   */
  signal: AbortSignal;
}

export function noDeviceError(type: string): MerossError {
  return new MerossError("BAD_INPUT", `This ${type} node has no device selected. Open it and pick (or add) a Meross device configuration.`);
}

/** `text` after the device's name, so every status says which device it is about. */
export function withName(name: string, text: string | undefined): string {
  if (!name) return text ?? "";
  return text ? `${shortName(name)} · ${text}` : shortName(name);
}

/**
 * The status line for a session state: yellow ring connecting, green dot ready (with the
 * path requests take when a broker is involved), red ring with a short reason.
 */
export function sessionStatus(s: LinkStatus, name = "", route = ""): NodeStatus {
  if (s.state === "ready") return { fill: "green", shape: "dot", text: name ? withName(name, route) : s.text };
  if (s.state === "error") return { fill: "red", shape: "ring", text: withName(name, s.error ? SHORT_REASON[s.error.code] : "error") };
  return { fill: "yellow", shape: "ring", text: withName(name, "connecting") };
}

/**
 * Links `node` to the meross-config with id `configId`. `onEvent` receives the device's
 * state changes (our own commands and, on MQTT, pushes from other sources).
 */
export function linkToConfig(RED: NodeAPI, node: Node, configId: unknown, onEvent?: (ev: DeviceEvent) => void): UserLink {
  const cfgNode = typeof configId === "string" && configId ? RED.nodes.getNode(configId) : null;
  const config = isMerossConfig(cfgNode) ? cfgNode : undefined;
  let own: NodeStatus | undefined;
  const closing = new AbortController();

  const name = (): string => (config ? config.link.displayName() : "");
  const named = (status: NodeStatus): NodeStatus => ({
    ...status,
    text: withName(name(), typeof status.text === "string" ? status.text : ""),
  });

  const render = (): void => {
    if (!config) return;
    const s = config.link.status;
    node.status(s.state === "ready" && own ? named(own) : sessionStatus(s, name(), config.link.routeText()));
  };

  const link: UserLink = {
    config,
    device: () => (config ? config.getDevice() : Promise.reject(noDeviceError(node.type))),
    secrets: () => (config ? config.secrets() : []),
    name,
    show(status) {
      own = status;
      if (status) node.status(named(status));
      else render();
    },
    fail(err, done) {
      failMessage(node, err, done, link.secrets(), name());
    },
    signal: closing.signal,
  };

  if (!config) {
    node.status({ fill: "red", shape: "ring", text: "no device selected" });
    node.on("close", () => closing.abort());
    return link;
  }

  const offs: Unsubscribe[] = [config.link.events.on("state", render)];
  if (onEvent) {
    offs.push(
      config.link.events.on("event", (ev) => {
        try {
          onEvent(ev);
        } catch {
          // A status update must never take the device session down.
        }
      }),
    );
  }
  render();
  config.register(node);

  node.on("close", (_removed: boolean, done: () => void) => {
    closing.abort();
    for (const off of offs.splice(0)) off();
    config.deregister(node, done);
  });
  return link;
}

/**
 * The "also send changes the device reports" checkbox (`reportChanges`), the same on every node
 * that acts on devices. Off (and missing, in flows from before it existed): the output carries
 * only answers to the node's own input, so a flow can never act on a change it did not ask for.
 */
export function reportsChanges(def: { reportChanges?: unknown }): boolean {
  return def.reportChanges === true || def.reportChanges === "true";
}
