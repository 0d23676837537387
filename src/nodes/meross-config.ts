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

/** Per-config helpers (see MerossConfigNode.shared), made at the first request for one. */
const sharedOf = new WeakMap<Node, Map<string, SharedObject>>();

/**
 * The node's methods, once on its prototype rather than as closures on every instance: with a
 * thousand devices each closure is a thousand, and the extra own properties pushed every config
 * node's property table into V8's slow dictionary form (about 2 KB a device).
 */
const methods: ThisType<ConfigNodeImpl> &
  Pick<
    MerossConfigNode,
    "register" | "deregister" | "getDevice" | "shared" | "secrets" | "uuid" | "path" | "currentAddress" | "displayName"
  > = {
  register(user) {
    this.users[user.id] = user;
    this.link.start();
  },
  /**
   * A user leaves. As in 10-mqtt.js, `removed` is the user's close flag: the link idles only when
   * the last user was deleted, not when it is being redeployed and will register again at once.
   */
  deregister(user, done, removed = false) {
    delete this.users[user.id];
    if (removed && Object.keys(this.users).length === 0) this.link.idle();
    done();
  },
  getDevice() {
    return this.link.getDevice();
  },
  shared<T extends SharedObject>(k: string, create: () => T): T {
    let objects = sharedOf.get(this);
    if (!objects) sharedOf.set(this, (objects = new Map()));
    if (!objects.has(k)) objects.set(k, create());
    return objects.get(k) as T;
  },
  secrets() {
    const key = credentialKey(this);
    return key ? [key] : [];
  },
  uuid() {
    return this.link.uuid();
  },
  path() {
    return this.link.path();
  },
  currentAddress() {
    return this.link.currentAddress();
  },
  displayName() {
    return this.link.displayName();
  },
};

export = function (RED: NodeAPI): void {
  function MerossConfig(this: Node, def: ConfigDef): void {
    RED.nodes.createNode(this, def);
    const node = this as ConfigNodeImpl;
    node.host = typeof def.host === "string" ? def.host.trim() : "";
    node.userId = typeof def.userId === "string" || typeof def.userId === "number" ? String(def.userId).trim() : "";
    node.transport = def.transport === "mqtt" || def.transport === "auto" ? def.transport : "http";
    const brokerNode = typeof def.broker === "string" && def.broker ? RED.nodes.getNode(def.broker) : null;
    node.broker = isMerossBroker(brokerNode) ? brokerNode : undefined;
    const link = new DeviceLink({
      host: node.host,
      uuid: typeof def.uuid === "string" ? def.uuid : "",
      carrier: node.transport,
      fleet: node.broker,
      fleetLabel: node.broker ? node.broker.name || node.broker.id : undefined,
      key: credentialKey(node),
      encryption: typeof def.encryption === "string" ? def.encryption : undefined,
      owner: node.id,
      name: typeof def.name === "string" ? def.name : "",
      log: (text) => node.log(text),
    });
    // As Node-RED's MQTT broker node: `users` by id, so the runtime forwards this node's status and errors to them.
    Object.defineProperty(node, "users", { value: {}, enumerable: false });
    Object.defineProperty(node, "link", { value: link, enumerable: false });

    // Found by name or uuid by nodes that take their device from the message.
    const leave = deviceDirectory(RED).add(node);
    node.on("close", (_removed: boolean, done: () => void) => {
      leave();
      for (const obj of sharedOf.get(node)?.values() ?? []) {
        try {
          obj.dispose();
        } catch (err) {
          // Closing must go on even if one helper fails to stop; the bug is still worth a line.
          node.warn(`A shared helper failed to stop: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      sharedOf.delete(node);
      for (const id of Object.keys(node.users)) delete node.users[id];
      // The link's close is bounded (2 s): a device that hangs must not eat the runtime's 15 s.
      link.close().then(done, () => done());
    });
  }
  Object.assign(MerossConfig.prototype, methods);
  Object.defineProperty(MerossConfig.prototype, "device", {
    get(this: ConfigNodeImpl): MerossDevice | undefined {
      return this.link.device;
    },
  });

  RED.nodes.registerType("meross-config", MerossConfig, {
    credentials: { key: { type: "password" } },
  });
  registerConfigAdmin(RED);
  registerDirectoryAdmin(RED);
};
