/**
 * Plumbing every device node repeats: find its meross-config, register with it, follow
 * the shared session's state and the device's events through the link's typed events,
 * and drop all of that on close so a redeploy leaves no listener behind.
 */
import type { NodeAPI, Node, NodeMessage, NodeStatus } from "node-red";
import { type DeviceEvent, type MerossDevice, type DeviceSession, MerossError, type Unsubscribe, shortName } from "../../core";
import { SHORT_REASON, failMessage, type Done } from "./errors";
import { deviceDirectory } from "./device-directory";
import { deviceSource, type DeviceSourceDef } from "./device-source";
import { isMerossConfig, type LinkStatus, type MerossConfigNode } from "./types";

/** One device a node acts on: the fixed one, or the one a message named. */
export interface Target {
  readonly config: MerossConfigNode;
  /** The session after System.All/Ability have been read. */
  device(): Promise<MerossDevice>;
  /** That session as this node uses it: every request carries the node's `signal`, so its close drops them. */
  session(): Promise<DeviceSession>;
  /** What a person calls the device (core/naming.ts). */
  name(): string;
  /** Sets the node's status to this device's state (it becomes the device the status is about). */
  show(status: NodeStatus | undefined): void;
  /** Red ring and done() with a sentence that starts with the device's name. */
  fail(err: unknown, done: Done): void;
  /** What msg.meross says about the device, so a flow can tell the replies of several devices apart. */
  identity(device: MerossDevice): { uuid: string; name: string; model: string; address: string };
}

export interface UserLink {
  /**
   * The fixed device's config; for a node that takes its device from the message, the one the
   * event being handled (inside `onEvent`) or else the last message was about.
   */
  readonly config: MerossConfigNode | undefined;
  /** The config's session, or a BAD_INPUT error saying no device is selected. */
  device(): Promise<MerossDevice>;
  /** That session with this node's `signal` on every request (see Target.session). */
  session(): Promise<DeviceSession>;
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
  /** True when the node's Device field says "from the message". */
  readonly fromMessage: boolean;
  /** The device this message is for; throws BAD_INPUT (listing the devices there are) when it names none. */
  pick(msg: NodeMessage): Target;
  /** Runs `fn` as if handling an event of `t`'s device: `config`, `name()` and `show()` are about it. */
  within(t: Target, fn: () => void): void;
  /** Picks the message's device and runs `body` for it; any failure ends in done(err) with a sentence. */
  handle(msg: NodeMessage, done: Done, body: (t: Target) => Promise<void>): void;
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
  if (s.state === "error")
    return { fill: "red", shape: "ring", text: withName(name, s.error ? (s.error.details.status ?? SHORT_REASON[s.error.code]) : "error") };
  return { fill: "yellow", shape: "ring", text: withName(name, "connecting") };
}

interface Attached {
  target: Target;
  offs: Unsubscribe[];
}

/**
 * The link's accessors, on a prototype every link shares: V8 keeps an object literal with a
 * getter (or one given a getter later) in its slow dictionary form, about 1.2 KB a node.
 */
const linkAccessors = {
  get config(): MerossConfigNode | undefined {
    return (this as unknown as LinkState).active()?.config;
  },
  get signal(): AbortSignal {
    return (this as unknown as LinkState).closingSignal();
  },
};

/** What the shared accessors read from each link. */
interface LinkState {
  active(): Target | undefined;
  closingSignal(): AbortSignal;
}

/**
 * Links `node` to its device: the meross-config its Device field names (`def.device`; a config id
 * string is accepted too), or for "from the message" (`def.deviceSource`) each message's device,
 * linked on first use and kept until the node closes. `onEvent` receives the state changes of
 * every linked device (our own commands and, on MQTT, pushes from other sources); while it runs,
 * `link.config`, `link.name()` and `link.show()` are about the device the event came from.
 */
export function linkToConfig(RED: NodeAPI, node: Node, def: DeviceSourceDef | unknown, onEvent?: (ev: DeviceEvent) => void): UserLink {
  const props: DeviceSourceDef = typeof def === "object" && def !== null ? (def as DeviceSourceDef) : { device: def };
  const source = deviceSource(RED, node, props);
  const configId = source.fromMessage ? undefined : props.device;
  const cfgNode = typeof configId === "string" && configId ? RED.nodes.getNode(configId) : null;
  const fixed = isMerossConfig(cfgNode) ? cfgNode : undefined;
  const attached = new Map<string, Attached>();
  /** Aborted when the node closes; made when first asked for (an AbortController is about 1 KB a node). */
  let closing: AbortController | undefined;
  let closed = false;
  const closingSignal = (): AbortSignal => {
    if (!closing) {
      closing = new AbortController();
      if (closed) closing.abort();
    }
    return closing.signal;
  };
  /** The device the status is about: the fixed one, or the one the last message named. */
  let current: Target | undefined;
  /** The device whose event `onEvent` is handling right now. */
  let scope: Target | undefined;
  let own: NodeStatus | undefined;

  const named = (t: Target, status: NodeStatus): NodeStatus => ({
    ...status,
    text: withName(t.name(), typeof status.text === "string" ? status.text : ""),
  });
  const render = (): void => {
    if (!current) {
      if (source.fromMessage) node.status({ fill: "grey", shape: "ring", text: `device from ${source.where.split(" ")[0]}` });
      return;
    }
    const c = current.config;
    const s = c.link.status;
    node.status(s.state === "ready" && own ? named(current, own) : sessionStatus(s, current.name(), c.link.routeText()));
  };

  const targetFor = (config: MerossConfigNode): Target => {
    const t: Target = {
      config,
      device: () => config.getDevice(),
      session: async () => (await config.getDevice()).scoped(closingSignal()),
      name: () => config.link.displayName(),
      show(status) {
        // In an event of another device than the one the status is about: its change is not shown.
        if (source.fromMessage && scope === t && current !== t) return;
        current = t;
        own = status;
        if (status) node.status(named(t, status));
        else render();
      },
      fail(err, done) {
        if (current !== t) own = undefined;
        current = t;
        failMessage(node, err, done, config.secrets(), t.name());
      },
      identity: (d) => ({ uuid: config.uuid() || d.info?.uuid || "", name: t.name(), model: d.info?.model ?? "", address: d.address }),
    };
    return t;
  };

  const attach = (config: MerossConfigNode): Target => {
    const had = attached.get(config.id);
    if (had && had.target.config === config) return had.target;
    if (had) for (const off of had.offs.splice(0)) off();
    const target = targetFor(config);
    const offs: Unsubscribe[] = [config.link.events.on("state", () => current === target && render())];
    if (onEvent) {
      offs.push(
        config.link.events.on("event", (ev) => {
          try {
            link.within(target, () => onEvent(ev));
          } catch (err) {
            // A status update must never take the device session down; the bug is still shown.
            node.warn(`Could not show a change of ${target.name()}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }),
      );
    }
    attached.set(config.id, { target, offs });
    config.register(node);
    return target;
  };

  /** Drops devices whose meross-config was removed or redeployed since: their sessions are gone. */
  const prune = (): void => {
    const directory = deviceDirectory(RED);
    for (const [id, a] of attached) {
      if (directory.has(a.target.config)) continue;
      for (const off of a.offs.splice(0)) off();
      attached.delete(id);
      if (current === a.target) current = undefined;
    }
  };

  const active = (): Target | undefined => scope ?? current;
  const methods: Omit<UserLink, "config" | "signal"> = {
    device: () => active()?.device() ?? Promise.reject(noDeviceError(node.type)),
    session: () => active()?.session() ?? Promise.reject(noDeviceError(node.type)),
    secrets: () => active()?.config.secrets() ?? [],
    name: () => active()?.name() ?? "",
    show(status) {
      const t = active();
      if (t) t.show(status);
    },
    fail(err, done) {
      const t = active();
      if (t && !source.fromMessage) t.fail(err, done);
      else failMessage(node, err, done, [], "");
    },
    fromMessage: source.fromMessage,
    pick(msg) {
      if (!source.fromMessage) {
        if (!current) throw noDeviceError(node.type);
        return current;
      }
      prune();
      return attach(source.resolve(msg));
    },
    within(t, fn) {
      const before = scope;
      scope = t;
      try {
        fn();
      } finally {
        scope = before;
      }
    },
    handle(msg, done, body) {
      let t: Target;
      try {
        t = link.pick(msg);
      } catch (err) {
        link.fail(err, done);
        return;
      }
      // After close nothing is reported: the node is gone and its requests were aborted on purpose.
      body(t).catch((err: unknown) => (closed ? undefined : t.fail(err, done)));
    },
  };
  const link: UserLink = Object.assign(Object.create(linkAccessors) as typeof linkAccessors, methods, { active, closingSignal });

  node.on("close", (removed: boolean, done: () => void) => {
    closed = true;
    closing?.abort();
    const directory = deviceDirectory(RED);
    const waits: Promise<void>[] = [];
    for (const { target, offs } of attached.values()) {
      for (const off of offs.splice(0)) off();
      // A message's device whose config already closed has no user list left to leave.
      if (target.config === fixed || directory.has(target.config)) {
        waits.push(new Promise<void>((resolve) => target.config.deregister(node, resolve, removed)));
      }
    }
    attached.clear();
    Promise.all(waits).then(
      () => done(),
      () => done(),
    );
  });

  if (fixed) current = attach(fixed);
  else if (!source.fromMessage) node.status({ fill: "red", shape: "ring", text: "no device selected" });
  render();
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
