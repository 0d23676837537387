/**
 * The part of the Meross cloud a device needs on its MQTT connection (docs/protocol.md §5.4):
 * a SETACK to its Bind, a reply to its Clock push (how it gets the time without NTP),
 * the time zone with DST rules, and an echo of ConsumptionConfig (newer mss315 drop the
 * connection without it, ML#346). Transport-free: the broker hands messages in and
 * publishes what comes out.
 */
import { buildMessage, type Envelope } from "../protocol/message";
import { buildSystemTimePayload } from "../onboarding/system-time";
import { deviceRequestTopic } from "../transport/mqtt";
import { isObject } from "../protocol/rules";

export const NS_BIND = "Appliance.Control.Bind";
export const NS_CLOCK = "Appliance.System.Clock";
export const NS_TIME = "Appliance.System.Time";
export const NS_CONSUMPTION_CONFIG = "Appliance.Control.ConsumptionConfig";

/**
 * Our own `from` for the requests the session sends (System.Time SET): their replies
 * land here instead of looking like device state on `/appliance/<uuid>/publish`.
 */
export const SESSION_REPLY_TOPIC = "/app/meross-local-broker/subscribe";

/** What a device tells about itself in its Bind (the same shapes as System.All). */
export interface BindInfo {
  model?: string;
  firmware?: string;
  hardwareVersion?: string;
  mac?: string;
  /** The LAN address the device reports (firmware.innerIp): the only address an existing broker tells us. */
  ip?: string;
}

export interface SessionOptions {
  /** Publishes an envelope to a topic (QoS 1); must not throw. */
  publish(topic: string, envelope: Envelope): void;
  /** The key the device logged in with; replies are signed with it. */
  keyFor(uuid: string): string | undefined;
  /** IANA zone sent in System.Time; default: this machine's zone. */
  timeZone?: string;
  /** Clock source in ms (tests). */
  now?: () => number;
}

export interface SessionResult {
  /** True when the session consumed the message (it is not device state). */
  handled: boolean;
  bind?: BindInfo;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return isObject(v) ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v ? v : typeof v === "number" ? String(v) : undefined;
}

export function parseBindInfo(payload: Record<string, unknown>): BindInfo {
  const bind = obj(payload.bind) ?? {};
  const hw = obj(bind.hardware) ?? {};
  const fw = obj(bind.firmware) ?? {};
  const info: BindInfo = {};
  const model = str(hw.type);
  const firmware = str(fw.version);
  const hardwareVersion = str(hw.version);
  const mac = str(hw.macAddress);
  const ip = str(fw.innerIp);
  if (model) info.model = model;
  if (firmware) info.firmware = firmware;
  if (hardwareVersion) info.hardwareVersion = hardwareVersion;
  if (mac) info.mac = mac.toLowerCase();
  if (ip) info.ip = ip;
  return info;
}

/** Replies the cloud would give; one instance serves every device of a broker. */
export class CloudSession {
  private readonly opts: SessionOptions;
  /** messageIds of the session's own requests, so their ACKs are not reported as device state. */
  private readonly own = new Map<string, number>();

  constructor(opts: SessionOptions) {
    this.opts = opts;
  }

  private nowMs(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  /**
   * Handles one message a device published on `topic`. `key` (the one it logged in with)
   * overrides `keyFor`. Never throws on hostile input.
   */
  handle(uuid: string, topic: string, env: Envelope, key?: string): SessionResult {
    const { namespace, method, messageId } = env.header;
    if (topic === SESSION_REPLY_TOPIC || this.own.has(messageId)) {
      this.own.delete(messageId);
      return { handled: true };
    }
    if (namespace === NS_BIND && (method === "SET" || method === "PUSH")) {
      const bind = parseBindInfo(env.payload);
      const signKey = key ?? this.opts.keyFor(uuid);
      if (signKey !== undefined) {
        // [ML] answers SET with a signed SETACK on the device's subscribe topic; a PUSH Bind
        // ([AR], mss310 fw 6.x) expects nothing back.
        if (method === "SET") {
          this.reply(uuid, buildMessage({ method: "SETACK", namespace, messageId, key: signKey, from: SESSION_REPLY_TOPIC }));
        }
        this.sendTime(uuid, signKey);
      }
      return { handled: true, bind };
    }
    if (namespace === NS_CLOCK && method === "PUSH") {
      // The reply reuses the device's header (messageId, timestamp, sign); [ML] drops `uuid`
      // and marks the source, which real devices accept (docs/protocol.md §3.8).
      const header = { ...env.header, triggerSrc: "CloudControl" };
      delete header.uuid;
      this.reply(uuid, { header, payload: { clock: { timestamp: Math.floor(this.nowMs() / 1000) } } });
      return { handled: true };
    }
    if (namespace === NS_CONSUMPTION_CONFIG && method === "PUSH") {
      this.reply(uuid, { header: { ...env.header }, payload: env.payload });
      return { handled: true };
    }
    return { handled: false };
  }

  private reply(uuid: string, env: Envelope): void {
    this.opts.publish(deviceRequestTopic(uuid), env);
  }

  /** Sends the zone and its DST transitions: without them the device's schedules run in UTC. */
  sendTime(uuid: string, key: string): void {
    let payload: Record<string, unknown>;
    try {
      payload = buildSystemTimePayload(Math.floor(this.nowMs() / 1000), this.opts.timeZone);
    } catch {
      return;
    }
    const msg = buildMessage({ method: "SET", namespace: NS_TIME, payload, key, from: SESSION_REPLY_TOPIC, triggerSrc: "CloudControl" });
    this.remember(msg.header.messageId);
    this.reply(uuid, msg);
  }

  private remember(messageId: string): void {
    const now = this.nowMs();
    this.own.set(messageId, now);
    // Bounded: a device that never answers must not make this grow forever.
    for (const [id, at] of this.own) {
      if (this.own.size <= 256 && now - at < 120_000) break;
      this.own.delete(id);
    }
  }
}
