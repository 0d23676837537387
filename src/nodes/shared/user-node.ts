/**
 * Plumbing every device node repeats: find its meross-config, register with it, follow
 * the shared session's status, listen to device events, and clean all of that up on
 * close so a redeploy leaves no listener behind.
 */
import type { NodeAPI, Node, NodeStatus } from "node-red";
import type { DeviceEvent, MerossDevice } from "../../core/session/device";
import { MerossError } from "../../core/errors";
import { isMerossConfig, type MerossConfigNode, type SessionState } from "./types";

export interface UserLink {
  config: MerossConfigNode | undefined;
  /** The config's session, or a BAD_INPUT error saying no device is selected. */
  device(): Promise<MerossDevice>;
  secrets(): string[];
  /** Sets this node's own state; shown whenever the session is ready. */
  show(status: NodeStatus | undefined): void;
}

export function noDeviceError(type: string): MerossError {
  return new MerossError("BAD_INPUT", `This ${type} node has no device selected. Open it and pick (or add) a Meross device configuration.`);
}

/**
 * Links `node` to the meross-config with id `configId`. `onEvent` receives the device's
 * state changes (our own commands and, on MQTT, pushes from other sources).
 */
export function linkToConfig(RED: NodeAPI, node: Node, configId: unknown, onEvent?: (ev: DeviceEvent) => void): UserLink {
  const cfgNode = typeof configId === "string" && configId ? RED.nodes.getNode(configId) : null;
  const config = isMerossConfig(cfgNode) ? cfgNode : undefined;
  let session: SessionState = "connecting";
  let sessionStatus: NodeStatus = {};
  let own: NodeStatus | undefined;

  const render = (): void => {
    node.status(session === "ready" && own ? own : sessionStatus);
  };

  const link: UserLink = {
    config,
    device: () => (config ? config.getDevice() : Promise.reject(noDeviceError(node.type))),
    secrets: () => (config ? config.secrets() : []),
    show(status) {
      own = status;
      if (status) node.status(status);
      else render();
    },
  };

  if (!config) {
    node.status({ fill: "red", shape: "ring", text: "no device selected" });
    return link;
  }

  const listener = (ev: DeviceEvent): void => {
    try {
      onEvent?.(ev);
    } catch {
      // A status update must never take the device session down.
    }
  };
  let listeningOn: MerossDevice | undefined;
  let stopListening: (() => void) | undefined;
  const listen = (): void => {
    const d = config.device;
    if (onEvent && d && listeningOn !== d) {
      stopListening?.();
      stopListening = d.events.on("event", listener);
      listeningOn = d;
    }
  };

  config.register(node, (state, status) => {
    session = state;
    sessionStatus = status;
    listen();
    render();
  });
  listen();

  node.on("close", (_removed: boolean, done: () => void) => {
    stopListening?.();
    stopListening = undefined;
    listeningOn = undefined;
    config.deregister(node, done);
  });
  return link;
}
