/**
 * Where a logged-in device may publish and subscribe on the embedded broker. A device speaks
 * on `/appliance/<its uuid>/publish` and answers a request on the request's `from` topic
 * (docs/protocol.md §1.4, §5.1); it listens only on `/appliance/<its uuid>/subscribe`. It
 * never subscribes to a wildcard or to a requester's reply topic, where other devices'
 * replies travel.
 */
import { isObject, isUuid } from "../protocol/rules";
import { devicePublishTopic, deviceRequestTopic } from "../transport/mqtt";
import { PAYLOAD_LIMIT } from "./limits";
import type { DeviceAuth } from "./auth";

/** Reply topics remembered per device: a handful of requesters at most. */
const REPLY_TOPICS_PER_DEVICE = 8;
const REQUEST_TOPIC = /^\/appliance\/([^/+#]+)\/subscribe$/;

/**
 * A `from` a device may be allowed to answer on: a plain topic that is no device's own.
 * `/appliance/<not a uuid>/publish` stays possible: [ML] asks for replies on `/appliance/meross_lan/publish` (§1.4).
 */
function isReplyTopic(v: unknown): v is string {
  if (typeof v !== "string" || !/^\/[^\s+#]{1,255}$/.test(v)) return false;
  if (!v.startsWith("/appliance/")) return true;
  const m = /^\/appliance\/([^/]+)\/publish$/.exec(v);
  return !!m && !isUuid(m[1]);
}

export class DeviceTopicRules {
  private readonly replies = new Map<string, string[]>();
  /** Reply topics of this process's own connections and of the cloud-like session: every device may answer there. */
  private readonly shared = new Set<string>();

  /** `tracked(uuid)`: whether the device is logged in (only those get reply topics remembered). */
  constructor(private readonly tracked: (uuid: string) => boolean) {}

  addShared(topic: string): void {
    this.shared.add(topic);
  }

  removeShared(topic: string): void {
    this.shared.delete(topic);
  }

  /**
   * A request a client that is not a device publishes (seen before it is routed): its `from` is a
   * topic the addressed device may answer on. The broker's own messages never pass here.
   */
  noteRequest(topic: string, payload: Buffer | string): void {
    const m = REQUEST_TOPIC.exec(topic);
    if (!m || !this.tracked(m[1]) || payload.length > PAYLOAD_LIMIT) return;
    let from: unknown;
    try {
      const env: unknown = JSON.parse(Buffer.isBuffer(payload) ? payload.toString("utf8") : payload);
      from = isObject(env) && isObject(env.header) ? env.header.from : undefined;
    } catch {
      // LAN-encrypted requests (docs/protocol.md §4) hide their `from`; their senders' topics are shared ones.
      return;
    }
    if (!isReplyTopic(from) || this.shared.has(from)) return;
    const list = (this.replies.get(m[1]) ?? []).filter((t) => t !== from);
    list.push(from);
    if (list.length > REPLY_TOPICS_PER_DEVICE) list.shift();
    this.replies.set(m[1], list);
  }

  /** The device logged out: what it was allowed to answer on goes with it. */
  forget(uuid: string): void {
    this.replies.delete(uuid);
  }

  /** Undefined when the device may publish on `topic`, else why not. */
  publishRefusal(uuid: string, topic: string): string | undefined {
    if (topic === devicePublishTopic(uuid)) return undefined;
    if (this.shared.has(topic) || this.replies.get(uuid)?.includes(topic)) return undefined;
    return `device ${uuid} may publish only on ${devicePublishTopic(uuid)} and on the reply topics of requests sent to it, not on ${topic}`;
  }

  /** Undefined when the device may subscribe to `topic`, else why not. */
  subscribeRefusal(uuid: string, topic: string): string | undefined {
    const own = deviceRequestTopic(uuid);
    return topic === own ? undefined : `device ${uuid} may subscribe only to ${own}, not to ${topic}`;
  }
}

/**
 * Why the broker refuses a publish whoever sends it, or undefined. Meross speaks QoS 0 and 1: a
 * QoS 2 message waits in the broker until its PUBREL, which an attacker never sends. A payload
 * over PAYLOAD_LIMIT is no Meross message.
 */
export function packetRefusal(packet: { qos: number; topic: string; payload: Buffer | string }): string | undefined {
  if (packet.qos === 2) return `QoS 2 messages are not accepted (Meross devices and apps use QoS 0 and 1; got one on ${packet.topic})`;
  if (packet.payload.length > PAYLOAD_LIMIT)
    return `payloads over ${PAYLOAD_LIMIT} bytes are not accepted (got ${packet.payload.length} on ${packet.topic})`;
  return undefined;
}

/**
 * One live session per uuid: why a login `auth` may not replace the live session `other`, or
 * undefined when it may. The same MAC and key replaces the older session (a device reconnecting
 * while its old connection is still half-open), an unproven one only from the same address; a
 * proven login takes over from an unproven one; anything else waits until the live one ends.
 */
export function secondLoginRefusal(other: DeviceAuth | undefined, auth: DeviceAuth): string | undefined {
  if (!other) return undefined;
  const { uuid, mac, ip } = auth.device;
  const same = other.device.mac === mac && other.key === auth.key;
  if (auth.device.proven && (same || !other.device.proven)) return undefined;
  if (same && other.device.ip === ip) return undefined;
  return (
    `device ${uuid} is already connected from ${other.device.ip || "another address"}; ` +
    `a second login from ${ip || "an unknown address"} is refused while that connection lasts`
  );
}
