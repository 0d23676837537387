/**
 * meross-config: one device, one key, one session shared by every node that uses it.
 * Modelled on Node-RED's MQTT broker node: `node.users` by id (so the runtime forwards this
 * node's status and errors to them), the session starts when the first user registers. Everything about the device itself (carrier, uuid, following its
 * IP, pushes, retries, session state) lives in the core's DeviceLink; this node holds the
 * credential, the properties and the users, and closes the link within a bound.
 */
import type { NodeAPI, Node, NodeDef } from "node-red";
import { DeviceLink, type MerossDevice } from "../core";
import { registerConfigAdmin } from "./shared/config-admin";
import { deviceDirectory, registerDirectoryAdmin } from "./shared/device-directory";
import { isMerossBroker, type MerossBrokerNode } from "./shared/broker-types";
import type { MerossConfigNode, SharedObject, TransportChoice } from "./shared/types";

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
    // As Node-RED's MQTT broker node: `users` by id, so the runtime forwards this node's status and errors to them.
    const users: Record<string, Node> = {};
    Object.defineProperty(node, "users", { value: users, enumerable: false });
    const sharedObjects = new Map<string, SharedObject>();

    Object.defineProperty(node, "link", { value: link, enumerable: false });
    Object.defineProperty(node, "device", { get: (): MerossDevice | undefined => link.device, enumerable: false });

    node.register = (user: Node): void => {
      users[user.id] = user;
      link.start();
    };

    /**
     * A user leaves. As in 10-mqtt.js, `removed` is the user's close flag: the link idles only when
     * the last user was deleted, not when it is being redeployed and will register again at once.
     */
    node.deregister = (user: Node, done: () => void, removed = false): void => {
      delete users[user.id];
      if (removed && Object.keys(users).length === 0) link.idle();
      done();
    };

    node.getDevice = (): Promise<MerossDevice> => link.getDevice();
    node.shared = <T extends SharedObject>(k: string, create: () => T): T => {
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
        try {
          obj.dispose();
        } catch (err) {
          // Closing must go on even if one helper fails to stop; the bug is still worth a line.
          node.warn(`A shared helper failed to stop: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      sharedObjects.clear();
      for (const id of Object.keys(users)) delete users[id];
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
