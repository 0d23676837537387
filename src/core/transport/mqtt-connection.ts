/**
 * MQTT requests to devices: they go to `/appliance/<uuid>/subscribe`, replies come back on
 * our own `from` topic or on the device's `/appliance/<uuid>/publish` (docs/protocol.md
 * §1.4, §5.1). One MqttConnection per broker is shared by every device on it (Node-RED's
 * own MQTT config-node pattern); MqttTransport (mqtt.ts) is the per-device view of it.
 */
import { randomBytes } from "node:crypto";
import { MerossError, explain } from "../errors";
import { asEnvelope, type Envelope } from "../protocol/message";
import { describeValue } from "../protocol/rules";
import { encodeEnvelope, tryDecodeEnvelope, undecryptableReply } from "../crypto/lan";
import { MqttJsLink, brokerDown, checkUrl, safeAddress, type MqttConnectOptions, type MqttLink } from "./mqtt-link";
import { abortError } from "./types";
import { KeyedEvents, TypedEvents } from "../events";

/** Same budget as HTTP: a device on MQTT answers within a second when it is online. */
export const MQTT_TIMEOUT_MS = 10_000;
/**
 * Largest MQTT message read. The longest message in the captures of docs/protocol.md §8.4 is
 * about 3.5 KB; the HTTP transport caps replies at the same 64 KiB. A bigger message on a
 * shared topic is not a Meross device talking, and is dropped before it is parsed.
 */
export const MQTT_MESSAGE_MAX_BYTES = 64 * 1024;

/** Every device pushes and replies here when it ignores our `from` (docs/protocol.md §1.4). */
export const DEVICE_PUBLISH_WILDCARD = "/appliance/+/publish";

export function deviceRequestTopic(uuid: string): string {
  return `/appliance/${uuid}/subscribe`;
}

export function devicePublishTopic(uuid: string): string {
  return `/appliance/${uuid}/publish`;
}

/** Extracts the uuid from `/appliance/<uuid>/publish` (or `/subscribe`); undefined for any other topic. */
export function uuidFromTopic(topic: string): string | undefined {
  const m = /^\/appliance\/([^/+#]+)\/(?:publish|subscribe)$/.exec(topic);
  return m ? m[1] : undefined;
}

function uuidFromEnvelope(env: Envelope): string | undefined {
  if (typeof env.header.uuid === "string" && env.header.uuid) return env.header.uuid;
  return typeof env.header.from === "string" ? uuidFromTopic(env.header.from) : undefined;
}

/**
 * Plain JSON messages this process already parsed, by their payload buffer: the embedded broker
 * hands the same buffer to its own session (Bind, Clock) after our connection read it, and
 * reads it from here instead of parsing it a second time. Weak: gone with the buffer.
 */
const parsedPayloads = new WeakMap<Buffer, Envelope>();

/** The envelope an MqttConnection of this process parsed from exactly this buffer, if any. */
export function parsedPayload(payload: unknown): Envelope | undefined {
  return Buffer.isBuffer(payload) ? parsedPayloads.get(payload) : undefined;
}

export interface MqttPushEvent {
  uuid: string;
  envelope: Envelope;
}

export interface MqttMessageEvent extends MqttPushEvent {
  topic: string;
}

/** What a shared connection tells its users. */
export interface MqttConnectionEvents {
  online: undefined;
  offline: { reason: string };
  /** A device PUSH on the device's own topic. */
  push: MqttPushEvent;
  /** Every other device message that was not a reply of ours. */
  message: MqttMessageEvent;
}

interface Pending {
  uuid: string;
  /** AES key the reply may be encrypted with (docs/protocol.md §4). */
  encryptionKey?: string;
  resolve: (env: Envelope) => void;
  reject: (err: MerossError) => void;
  timer: NodeJS.Timeout;
  /** Detaches the caller's abort listener. */
  release: () => void;
}

/** What a request may carry besides its envelope. */
export interface MqttRequestOptions {
  /** AES key the reply (and later pushes) may be encrypted with. */
  key?: string;
  /** Encrypt the request itself (see MqttTransportOptions.encryptPayloads). */
  encrypt?: boolean;
  /** The caller stopped waiting: the request ends at once (its reply, if any, is ignored). */
  signal?: AbortSignal;
}

export function checkUuid(uuid: unknown): string {
  if (typeof uuid !== "string" || !/^[A-Za-z0-9_.:-]{1,64}$/.test(uuid)) {
    throw new MerossError(
      "BAD_INPUT",
      `${describeValue(uuid)} is not a device uuid. Use the 32-character uuid the device reports in Appliance.System.All (hardware.uuid).`,
    );
  }
  return uuid;
}

/** The offline reason before the first attempt has ended. */
const NOT_YET = "not connected yet";

/**
 * A shared broker connection that routes replies to pending requests by messageId; `events`
 * says when it is online or offline and carries device messages (MqttConnectionEvents).
 */
export class MqttConnection {
  readonly events = new TypedEvents<MqttConnectionEvents>();
  /**
   * Each device's PUSHes by uuid, for its per-device transport: a map lookup per push, so a
   * push costs the same with one device on the broker as with thousands.
   */
  readonly pushes = new KeyedEvents<Envelope>("push for");
  readonly address: string;
  /** Our `from`: devices publish the replies to our requests here. */
  readonly replyTopic: string;
  private readonly link: MqttLink;
  private readonly pending = new Map<string, Pending>();
  private closed = false;
  private offlineReason = NOT_YET;
  /** Settles once our topics are subscribed: a reply published before that would be lost. */
  private listening: Promise<void> | undefined;
  /** LAN keys by device uuid, from each device's last encrypted request, to read its encrypted pushes (§4). */
  private readonly encryptionKeys = new Map<string, string>();
  private oversize = 0;

  constructor(link: MqttLink, address: string, appId: string = randomBytes(8).toString("hex")) {
    this.link = link;
    this.address = address;
    this.replyTopic = `/app/${appId}/subscribe`;
    link.attach({
      message: (topic, payload) => this.onMessage(topic, payload),
      online: () => {
        this.offlineReason = "";
        this.events.emit("online", undefined);
      },
      offline: (reason) => {
        this.offlineReason = reason;
        this.events.emit("offline", { reason });
      },
    });
  }

  /** Starts connecting in the background (and keeps reconnecting); watch "online"/"offline". */
  static create(opts: MqttConnectOptions): MqttConnection {
    const url = checkUrl(opts?.url);
    const appId = randomBytes(8).toString("hex");
    // `app:` ids are how Meross apps name themselves (docs/protocol.md §5.2); our broker treats
    // every non-`fmware:` client as an app client.
    const link = new MqttJsLink(url, opts, opts.clientId ?? `app:${appId}`);
    const conn = new MqttConnection(link, safeAddress(url), appId);
    void conn.listen();
    return conn;
  }

  /** Subscribes to device pushes and our reply topic (once); requests wait for it. */
  listen(): Promise<void> {
    if (!this.listening) {
      this.listening = this.link.subscribe([DEVICE_PUBLISH_WILDCARD, this.replyTopic]).catch(() => {
        // Retried on the next request: a failed subscription must not wedge every request.
        this.listening = undefined;
      });
    }
    return this.listening;
  }

  /** Connects and waits until subscribed; a failed first connect rejects with UNREACHABLE. */
  static async connect(opts: MqttConnectOptions): Promise<MqttConnection> {
    const conn = MqttConnection.create(opts);
    try {
      await conn.waitOnline();
      return conn;
    } catch (err) {
      await conn.close();
      throw err;
    }
  }

  /** Messages dropped unread because they were larger than MQTT_MESSAGE_MAX_BYTES. */
  get droppedOversize(): number {
    return this.oversize;
  }

  get online(): boolean {
    return !this.closed && this.link.online;
  }

  /**
   * Resolves once connected and subscribed; rejects on the first failure, at once when the last
   * attempt already failed (a refused password is not retried, so there would be no next one).
   */
  waitOnline(): Promise<void> {
    if (this.online) return Promise.resolve();
    if (this.closed) return Promise.reject(brokerDown(this.address, "the connection was closed"));
    if (this.offlineReason && this.offlineReason !== NOT_YET) return Promise.reject(brokerDown(this.address, this.offlineReason));
    return new Promise((resolve, reject) => {
      const offOnline = this.events.once("online", () => {
        offOffline();
        resolve();
      });
      const offOffline = this.events.once("offline", ({ reason }) => {
        offOnline();
        reject(brokerDown(this.address, reason));
      });
    });
  }

  /**
   * Sends one request to a device and resolves with its reply envelope (not interpreted).
   * With `opts.key` the reply and later pushes may be encrypted; the request itself is
   * encrypted only with `opts.encrypt` (see MqttTransportOptions.encryptPayloads). An abort of
   * `opts.signal` ends the wait at once with the signal's reason.
   */
  async request(
    uuid: string,
    request: Envelope,
    timeoutMs: number = MQTT_TIMEOUT_MS,
    label = uuid,
    opts: MqttRequestOptions = {},
  ): Promise<Envelope> {
    checkUuid(uuid);
    const { signal } = opts;
    if (signal?.aborted) throw abortError(signal, label, request);
    if (this.closed) throw brokerDown(this.address, "the connection was closed");
    if (!this.link.online) throw brokerDown(this.address, this.offlineReason || "offline");
    const { messageId, method, namespace } = request.header;
    if (this.pending.has(messageId)) {
      throw new MerossError(
        "BAD_INPUT",
        `A request with messageId ${describeValue(messageId)} is already waiting for its reply. Use a fresh messageId for every request.`,
      );
    }
    await this.listen();
    if (signal?.aborted) throw abortError(signal, label, request);
    const out: Envelope = { header: { ...request.header, from: this.replyTopic }, payload: request.payload };
    const key = opts.key;
    if (key) this.encryptionKeys.set(uuid, key);
    const text = key && opts.encrypt ? encodeEnvelope(out, key) : JSON.stringify(out);
    return new Promise<Envelope>((resolve, reject) => {
      /** Ends this request (once) with `err`, whatever ended it first. */
      const end = (err: MerossError): void => {
        const p = this.pending.get(messageId);
        if (!p) return;
        clearTimeout(p.timer);
        p.release();
        this.pending.delete(messageId);
        reject(err);
      };
      const timer = setTimeout(
        () =>
          end(
            new MerossError("TIMEOUT", explain.timeout(label, String(method), namespace, timeoutMs), {
              host: label,
              namespace,
              method: String(method),
            }),
          ),
        timeoutMs,
      );
      const onAbort = (): void => end(abortError(signal as AbortSignal, label, request));
      signal?.addEventListener("abort", onAbort, { once: true });
      const release = (): void => signal?.removeEventListener("abort", onAbort);
      const settle = (env: Envelope): void => {
        release();
        resolve(env);
      };
      this.pending.set(messageId, { uuid, resolve: settle, reject, timer, encryptionKey: key, release });
      this.link.publish(deviceRequestTopic(uuid), text).catch((err: unknown) => {
        end(brokerDown(this.address, err instanceof Error ? describeValue(err.message) : "publish failed"));
      });
    });
  }

  /**
   * Publishes an envelope as is (QoS 1), for a cloud-like session answering devices over
   * this shared connection (docs/protocol.md §5.4); requests go through request() instead.
   */
  async publish(topic: string, envelope: Envelope): Promise<void> {
    if (this.closed) throw brokerDown(this.address, "the connection was closed");
    if (!this.link.online) throw brokerDown(this.address, this.offlineReason || "offline");
    await this.link.publish(topic, JSON.stringify(envelope));
  }

  private onMessage(topic: string, payload: Buffer | string): void {
    const size = typeof payload === "string" ? Buffer.byteLength(payload) : payload.length;
    if (size > MQTT_MESSAGE_MAX_BYTES) {
      this.oversize++;
      return;
    }
    const text = typeof payload === "string" ? payload : payload.toString("utf8");
    const topicUuid = uuidFromTopic(topic);
    let env: Envelope;
    if (text.trimStart().startsWith("{")) {
      try {
        env = asEnvelope(JSON.parse(text), topic);
        if (typeof payload !== "string") parsedPayloads.set(payload, env);
      } catch {
        // Garbage on a shared topic is somebody else's problem; it must not break our requests.
        return;
      }
    } else {
      const decoded = this.decrypt(topic, topicUuid, text);
      if (!decoded) return;
      env = decoded;
    }
    const uuid = topicUuid ?? uuidFromEnvelope(env);
    const p = this.pending.get(env.header.messageId);
    const fromDevice = topic === this.replyTopic || topic.endsWith("/publish");
    if (p && fromDevice && (uuid === undefined || uuid === p.uuid)) {
      clearTimeout(p.timer);
      this.pending.delete(env.header.messageId);
      p.resolve(env);
      return;
    }
    if (!uuid) return;
    if (topicUuid && env.header.method === "PUSH") {
      this.pushes.emit(uuid, env);
      this.events.emit("push", { uuid, envelope: env });
    }
    this.events.emit("message", { uuid, topic, envelope: env });
  }

  /**
   * An encrypted message: tried with the key of the publishing device, then with the keys of
   * requests waiting on our reply topic. When it decrypts with none and exactly one encrypted
   * request can be its addressee, that request fails with WRONG_KEY instead of a timeout.
   */
  private decrypt(topic: string, topicUuid: string | undefined, text: string): Envelope | undefined {
    const waiting = [...this.pending.entries()].filter(
      ([, p]) => p.encryptionKey && (topicUuid ? p.uuid === topicUuid : topic === this.replyTopic),
    );
    const keys = new Set<string>();
    const own = topicUuid ? this.encryptionKeys.get(topicUuid) : undefined;
    if (own) keys.add(own);
    for (const [, p] of waiting) keys.add(p.encryptionKey as string);
    const hit = tryDecodeEnvelope(text, keys, topic);
    if (hit) return hit.envelope;
    if (waiting.length === 1) {
      const [id, p] = waiting[0];
      clearTimeout(p.timer);
      p.release();
      this.pending.delete(id);
      p.reject(new MerossError("WRONG_KEY", undecryptableReply(p.uuid), { host: p.uuid }));
    }
    return undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.release();
      p.reject(brokerDown(this.address, "the connection was closed"));
      this.pending.delete(id);
    }
    await this.link.close();
  }
}
