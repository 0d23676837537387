/**
 * meross-state: one message per state change of a device (on/off per channel, light,
 * online/offline), as it happens. Devices on a broker PUSH every change within
 * milliseconds (protocol.md §5.1), including button presses; devices reached only over
 * HTTP never push, so an optional poll reads them and reports what changed.
 */
import type { NodeAPI, Node, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from "node-red";
import { MerossDevice, NS, type DeviceEvent } from "../core/session/device";
import { MerossError } from "../core/errors";
import { lightStateToOutput } from "../core/capabilities/light";
import { describeValue } from "../core/capabilities/util";
import type { Envelope } from "../core/protocol/message";
import type { MqttConnection, MqttPushEvent } from "../core/transport/mqtt";
import { transportEvents, type Transport } from "../core/transport/types";
import { SHORT_REASON, failMessage, toMerossError } from "./shared/errors";
import { isBlank } from "./shared/inputs";
import { linkToConfig } from "./shared/user-node";
import { isMerossBroker, type BrokerPresence, type MerossBrokerNode } from "./shared/broker-types";

interface StateDef extends NodeDef {
  device?: string;
  broker?: string;
  pollInterval?: string | number;
}

type Source = "push" | "poll" | "command";

/** msg.payload of every output message. */
interface StatePayload {
  uuid: string;
  model?: string;
  kind: "toggle" | "light" | "online";
  channel?: number;
  on?: boolean;
  light?: { on?: boolean; brightness: number; mode: string; rgb: string; temperature: number };
  online?: boolean;
  source: Source;
}

/** One poll a second is already more than a device serving one request at a time should carry. */
const MIN_POLL_S = 1;
const MAX_POLL_S = 86_400;

function pollSeconds(v: unknown): number {
  if (isBlank(v)) return 0;
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : NaN;
  if (!Number.isFinite(n) || n < 0 || (n > 0 && n < MIN_POLL_S) || n > MAX_POLL_S) {
    throw new MerossError("BAD_INPUT", `The poll interval ${describeValue(v)} is not valid: use 0 (no polling) or a number of seconds from ${MIN_POLL_S} to ${MAX_POLL_S}.`);
  }
  return n;
}

/** Never sends: a follower only applies the pushes it is handed. */
class PushOnlyTransport implements Transport {
  readonly kind = "mqtt" as const;
  readonly events = transportEvents();
  constructor(readonly address: string) {}
  send(): Promise<Envelope> {
    return Promise.reject(new MerossError("UNSUPPORTED", "This session only follows pushes."));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function describe(p: StatePayload, prefix: string): NodeStatus {
  const who = prefix ? `${prefix} ` : "";
  if (p.kind === "online") return { fill: p.online ? "green" : "grey", shape: p.online ? "dot" : "ring", text: `${who}${p.online ? "online" : "offline"}` };
  if (p.kind === "toggle") {
    const ch = p.channel ? `ch ${p.channel} ` : "";
    return { fill: p.on ? "green" : "grey", shape: "dot", text: `${who}${ch}${p.on ? "on" : "off"} · ${p.source}` };
  }
  const l = p.light;
  const text = l?.on === false ? "off" : `${l?.on ? "on " : ""}${l?.brightness ?? ""}%${l?.mode === "rgb" ? ` ${l.rgb}` : l?.mode === "temperature" ? ` ${l.temperature}K` : ""}`;
  return { fill: l?.on === false ? "grey" : "green", shape: "dot", text: `${who}${text} · ${p.source}` };
}

/**
 * The last known value of every item of one device, so that only changes are emitted and
 * an input message can be answered with the current state.
 */
class Tracker {
  private readonly items = new Map<string, StatePayload>();

  /** Records `p`; returns true when it is a change worth emitting. The first read is a baseline. */
  note(p: StatePayload): boolean {
    const k = `${p.uuid}|${p.kind}|${p.channel ?? ""}`;
    const before = this.items.get(k);
    this.items.set(k, p);
    if (!before) return p.source === "push" || p.kind === "online";
    const { source: _a, model: _b, ...was } = before;
    const { source: _c, model: _d, ...now } = p;
    return JSON.stringify(was) !== JSON.stringify(now);
  }

  all(): StatePayload[] {
    return [...this.items.values()].sort((a, b) => a.uuid.localeCompare(b.uuid) || a.kind.localeCompare(b.kind) || (a.channel ?? 0) - (b.channel ?? 0));
  }
}

function fromEvent(uuid: string, model: string | undefined, ev: DeviceEvent, source: Source): StatePayload | undefined {
  const base = { uuid, ...(model ? { model } : {}) };
  if (ev.type === "toggle") return { ...base, kind: "toggle", channel: ev.channel, on: ev.on, source };
  if (ev.type === "light") return { ...base, kind: "light", channel: ev.light.channel ?? 0, light: lightStateToOutput(ev.light), source };
  if (ev.type === "online") return { ...base, kind: "online", online: ev.online, source };
  return undefined;
}

/** What a device session already knows, as payloads (toggles, then the light). */
function known(device: MerossDevice, uuid: string, model: string | undefined, source: Source): StatePayload[] {
  const out: StatePayload[] = [];
  for (const [channel, on] of [...device.toggles.entries()].sort((a, b) => a[0] - b[0])) {
    const p = fromEvent(uuid, model, { type: "toggle", channel, on }, source);
    if (p) out.push(p);
  }
  if (device.light) {
    const p = fromEvent(uuid, model, { type: "light", light: device.light }, source);
    if (p) out.push(p);
  }
  return out;
}

export = function (RED: NodeAPI): void {
  function MerossState(this: Node, def: StateDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const tracker = new Tracker();
    const cleanups: Array<() => void> = [];
    let closed = false;

    let interval = 0;
    let setupError: MerossError | undefined;
    try {
      interval = pollSeconds(def.pollInterval);
    } catch (err) {
      setupError = toMerossError(err);
    }

    const brokerNode = typeof def.broker === "string" && def.broker ? RED.nodes.getNode(def.broker) : null;
    const useBroker = isBlank(def.device) && isMerossBroker(brokerNode);

    /** Filled in by the mode below: sends one message for `p` if it is a change. */
    let topicFor: (p: StatePayload) => string = (p) => p.uuid;
    let show: (st: NodeStatus) => void = (st) => node.status(st);
    const emit = (p: StatePayload, prefix = ""): void => {
      if (closed || !tracker.note(p)) return;
      const msg: NodeMessage = { topic: topicFor(p), payload: p };
      show(describe(p, prefix));
      node.send(msg);
    };

    /** Answers an input message with every known item (one message each, the first reusing msg). */
    const sendKnown = (msg: NodeMessageInFlow, send: (m: NodeMessage | NodeMessage[][]) => void, items: StatePayload[]): void => {
      const out: NodeMessage[] = items.map((p, i) => {
        const m = i === 0 ? msg : RED.util.cloneMessage(msg);
        m.topic = topicFor(p);
        m.payload = p;
        return m;
      });
      if (out.length > 0) send([out]);
    };

    if (useBroker) {
      const broker = brokerNode as MerossBrokerNode;
      const followers = new Map<string, MerossDevice>();
      const short = (uuid: string): string => {
        const model = broker.device(uuid)?.model;
        return model ? `${model} …${uuid.slice(-4)}` : `…${uuid.slice(-4)}`;
      };
      const follower = (uuid: string): MerossDevice => {
        let d = followers.get(uuid);
        if (!d) {
          // The broker checked the device's key at login; a follower does not know which key it was.
          const dev = new MerossDevice({ transport: new PushOnlyTransport(uuid), key: "", verifyPushes: false });
          dev.events.on("event", (ev: DeviceEvent) => {
            const p = fromEvent(uuid, broker.device(uuid)?.model, ev, "push");
            if (p) emit(p, short(uuid));
          });
          followers.set(uuid, dev);
          d = dev;
        }
        return d;
      };
      const onPush = (ev: MqttPushEvent): void => {
        try {
          follower(ev.uuid).handlePush(ev.envelope);
        } catch {
          // A malformed push is the device's problem, never a crash of ours.
        }
      };
      const onDevice = (p: BrokerPresence): void => {
        if (p.listening) emit({ uuid: p.uuid, ...(p.model ? { model: p.model } : {}), kind: "online", online: true, source: "push" }, short(p.uuid));
      };
      const onGone = (g: { uuid: string }): void => {
        emit({ uuid: g.uuid, ...(broker.device(g.uuid)?.model ? { model: broker.device(g.uuid)?.model } : {}), kind: "online", online: false, source: "push" }, short(g.uuid));
      };
      let conn: MqttConnection | undefined;
      const attach = (): void => {
        broker.connection().then(
          (c) => {
            if (closed || c === conn) return;
            conn?.off("push", onPush);
            conn = c;
            c.on("push", onPush);
            for (const p of broker.devices()) onDevice(p);
            node.status({ fill: "green", shape: "ring", text: `${broker.devices().length} devices` });
          },
          (err: unknown) => {
            const e = toMerossError(err, broker.secrets());
            node.status({ fill: "red", shape: "ring", text: SHORT_REASON[e.code] });
          },
        );
      };
      broker.events.on("device", onDevice);
      broker.events.on("gone", onGone);
      broker.events.on("running", attach);
      cleanups.push(() => {
        broker.events.off("device", onDevice);
        broker.events.off("gone", onGone);
        broker.events.off("running", attach);
        conn?.off("push", onPush);
        for (const d of followers.values()) void d.close();
        followers.clear();
      });
      node.status({ fill: "yellow", shape: "ring", text: "waiting for broker" });
      attach();

      node.on("input", (msg: NodeMessageInFlow, send, done) => {
        const items: StatePayload[] = [];
        for (const p of broker.devices()) {
          const model = p.model;
          items.push({ uuid: p.uuid, ...(model ? { model } : {}), kind: "online", online: true, source: "push" });
          const d = followers.get(p.uuid);
          if (d) items.push(...known(d, p.uuid, model, "push"));
        }
        const tracked = new Map(tracker.all().map((t) => [`${t.uuid}|${t.kind}|${t.channel ?? ""}`, t]));
        sendKnown(msg, send, items.map((i) => tracked.get(`${i.uuid}|${i.kind}|${i.channel ?? ""}`) ?? i));
        done();
      });
    } else {
      let polling = 0;
      let lastOnline: boolean | undefined;
      const link = linkToConfig(RED, node, def.device, (ev) => {
        const config = link.config;
        const d = config?.device;
        if (!config || !d) return;
        if (ev.type === "info") return;
        const source: Source = ev.source === "push" || ev.source === "broker" ? "push" : polling > 0 ? "poll" : "command";
        const p = fromEvent(config.uuid() || d.info?.uuid || "", d.info?.model, ev, source);
        if (p) emit(p);
      });
      const config = link.config;
      show = (st) => link.show(st);
      topicFor = (p) => (config?.name ? config.name : p.uuid);
      const onlineChange = (online: boolean, source: Source): void => {
        if (!config || lastOnline === online) return;
        lastOnline = online;
        const d = config.device;
        emit({ uuid: config.uuid() || d?.info?.uuid || "", ...(d?.info?.model ? { model: d.info.model } : {}), kind: "online", online, source });
      };
      if (config?.broker) {
        const broker = config.broker;
        const onDevice = (p: BrokerPresence): void => {
          if (p.listening && p.uuid === config.uuid()) onlineChange(true, "push");
        };
        const onGone = (g: { uuid: string }): void => {
          if (g.uuid === config.uuid()) onlineChange(false, "push");
        };
        broker.events.on("device", onDevice);
        broker.events.on("gone", onGone);
        cleanups.push(() => {
          broker.events.off("device", onDevice);
          broker.events.off("gone", onGone);
        });
      }
      // Seed the baseline once the session has read the device, so the first poll reports only changes.
      if (config && !setupError) {
        config.getDevice().then(
          (d) => {
            for (const p of known(d, config.uuid() || d.info?.uuid || "", d.info?.model, "poll")) tracker.note(p);
            // The uuid may only now be known (read from the device): catch up with the broker's view.
            const uuid = config.uuid();
            if (config.broker && uuid && config.broker.isListening(uuid)) onlineChange(true, "push");
          },
          () => undefined,
        );
      }

      if (config && interval > 0 && !setupError) {
        const c = config;
        const onBroker = (): boolean => !!c.broker && !!c.uuid() && c.broker.isListening(c.uuid());
        let running = false;
        const poll = async (): Promise<void> => {
          if (running || closed || onBroker()) return;
          running = true;
          polling++;
          try {
            const d = await c.getDevice();
            if (d.has(NS.TOGGLEX) || d.has(NS.TOGGLE)) {
              const channels = d.toggles.size > 0 ? [...d.toggles.keys()] : [0];
              for (const ch of channels) await d.getToggle(ch);
            }
            if (d.has(NS.LIGHT)) await d.getLight();
            onlineChange(true, "poll");
          } catch (err) {
            const e = toMerossError(err, c.secrets());
            if (e.code === "UNREACHABLE" || e.code === "TIMEOUT") onlineChange(false, "poll");
            else link.show({ fill: "red", shape: "ring", text: `poll: ${SHORT_REASON[e.code]}` });
          } finally {
            polling--;
            running = false;
          }
        };
        const timer = setInterval(() => void poll(), interval * 1000);
        cleanups.push(() => clearInterval(timer));
      }

      node.on("input", (msg: NodeMessageInFlow, send, done) => {
        const run = async (): Promise<void> => {
          if (setupError) throw setupError;
          const d = await link.device();
          const uuid = link.config?.uuid() || d.info?.uuid || "";
          for (const p of known(d, uuid, d.info?.model, "poll")) tracker.note(p);
          const items = tracker.all();
          if (lastOnline !== undefined && !items.some((i) => i.kind === "online")) {
            items.push({ uuid, ...(d.info?.model ? { model: d.info.model } : {}), kind: "online", online: lastOnline, source: "push" });
          }
          sendKnown(msg, send, items);
          done();
        };
        run().catch((err: unknown) => failMessage(node, err, done, link.secrets()));
      });
    }

    if (setupError) node.status({ fill: "red", shape: "ring", text: SHORT_REASON[setupError.code] });
    if (!useBroker && isBlank(def.device) && !isBlank(def.broker)) {
      node.status({ fill: "red", shape: "ring", text: "broker not found" });
    }

    node.on("close", (_removed: boolean, done: () => void) => {
      closed = true;
      for (const fn of cleanups.splice(0)) {
        try {
          fn();
        } catch {
          // Closing goes on even if one listener cannot be removed.
        }
      }
      done();
    });
  }

  RED.nodes.registerType("meross-state", MerossState);
};
