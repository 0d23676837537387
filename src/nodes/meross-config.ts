/**
 * meross-config: one device, one key, one session shared by every node that uses it.
 * Modelled on Node-RED's MQTT broker node: a `users` map, the session starts when the
 * first user registers. Everything about the device itself (carrier, uuid, following its
 * IP, pushes, retries, session state) lives in the core's DeviceLink; this node holds the
 * credential, the properties and the users, and closes the link within a bound.
 */
import type { NodeAPI, Node, NodeDef } from "node-red";
import { DeviceLink } from "../core";
import type { MerossDevice } from "../core";
import { registerConfigAdmin } from "./shared/config-admin";
import { deviceDirectory, registerDirectoryAdmin } from "./shared/device-directory";
import { toMerossError } from "./shared/errors";
import { isMerossBroker, type MerossBrokerNode } from "./shared/broker-types";
import type { MerossConfigNode, TransportChoice } from "./shared/types";

interface ConfigDef extends NodeDef {
  host?: string;
  userId?: string;
  transport?: string;
  broker?: string;
  uuid?: string;
  encryption?: string;
}

type ConfigNodeImpl = MerossConfigNode & {
  host: string;
  userId: string;
  transport: TransportChoice;
  broker: MerossBrokerNode | undefined;
  link: DeviceLink;
};

function credentialKey(node: Node): string {
  const c = (node as Node & { credentials?: { key?: unknown } }).credentials;
  return c && typeof c.key === "string" ? c.key : "";
}

export = function (RED: NodeAPI): void {
  function MerossConfig(this: Node, def: ConfigDef): void {
    RED.nodes.createNode(this, def);
    const node = this as ConfigNodeImpl;
    node.host = typeof def.host === "string" ? def.host.trim() : "";
    node.userId = typeof def.userId === "string" || typeof def.userId === "number" ? String(def.userId).trim() : "";
    node.transport = def.transport === "mqtt" || def.transport === "auto" ? def.transport : "http";
    const brokerNode = typeof def.broker === "string" && def.broker ? RED.nodes.getNode(def.broker) : null;
    node.broker = isMerossBroker(brokerNode) ? brokerNode : undefined;
    const key = credentialKey(node);
    const link = new DeviceLink({
      host: node.host,
      uuid: typeof def.uuid === "string" ? def.uuid : "",
      carrier: node.transport,
      fleet: node.broker,
      fleetLabel: node.broker ? node.broker.name || node.broker.id : undefined,
      key,
      encryption: typeof def.encryption === "string" ? def.encryption : undefined,
      owner: node.id,
      name: typeof def.name === "string" ? def.name : "",
      log: (text) => node.log(text),
    });
    // Setup errors carry the settings' text; the key is masked like everywhere else.
    if (link.setupError) toMerossError(link.setupError, [key]);
    const users = new Map<string, Node>();
    const sharedObjects = new Map<string, unknown>();

    Object.defineProperty(node, "link", { value: link, enumerable: false });
    Object.defineProperty(node, "device", { get: (): MerossDevice | undefined => link.device, enumerable: false });

    node.register = (user: Node): void => {
      users.set(user.id, user);
      link.start();
    };

    node.deregister = (user: Node, done: () => void): void => {
      users.delete(user.id);
      if (users.size === 0) link.idle();
      done();
    };

    node.getDevice = (): Promise<MerossDevice> => link.getDevice();
    node.shared = <T>(k: string, create: () => T): T => {
      if (!sharedObjects.has(k)) sharedObjects.set(k, create());
      return sharedObjects.get(k) as T;
    };
    node.secrets = (): string[] => (key ? [key] : []);
    node.uuid = (): string => link.uuid();
    node.path = (): "http" | "mqtt" => link.path();
    node.currentAddress = (): string => link.currentAddress();
    node.displayName = (): string => link.displayName();

    // Found by name or uuid by nodes that take their device from the message.
    const leave = deviceDirectory(RED).add(node);
    node.on("close", (_removed: boolean, done: () => void) => {
      leave();
      for (const obj of sharedObjects.values()) {
        const c = (obj as { cancel?: unknown }).cancel;
        if (typeof c !== "function") continue;
        try {
          c.call(obj);
        } catch {
          // Closing must go on even if one helper fails to stop.
        }
      }
      sharedObjects.clear();
      users.clear();
      // The link's close is bounded (2 s): a device that hangs must not eat the runtime's 15 s.
      link.close().then(done, () => done());
    });
  }

  RED.nodes.registerType("meross-config", MerossConfig, {
    credentials: { key: { type: "password" } },
  });
  registerConfigAdmin(RED);
  registerDirectoryAdmin(RED);
};
