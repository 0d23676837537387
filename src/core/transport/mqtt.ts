/**
 * MQTT transport: requests go to `/appliance/<uuid>/subscribe`, replies come back on our
 * own `from` topic or on the device's `/appliance/<uuid>/publish` (protocol.md §1.4, §5.1).
 *
 * One MqttConnection per broker is shared by every device on it (Node-RED's own MQTT
 * config-node pattern); each MqttTransport is a thin per-device view of that connection.
 */
import { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { MerossError, explain } from "../errors";
import { asEnvelope, type Envelope } from "../protocol/message";
import { encodeEnvelope, tryDecodeEnvelope, undecryptableReply } from "../crypto/lan";
import { type SendOptions, type Transport } from "./types";

/** Same budget as HTTP: a device on MQTT answers within a second when it is online. */
export const MQTT_TIMEOUT_MS = 10_000;
/** Every device pushes and replies here when it ignores our `from` (protocol.md §1.4). */
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

/** Low-level publish/subscribe, so that mqtt.js and the embedded broker share one request router. */
export interface MqttLinkHandlers {
  message(topic: string, payload: Buffer): void;
  online(): void;
  offline(reason: string): void;
}

export interface MqttLink {
  readonly online: boolean;
  attach(handlers: MqttLinkHandlers): void;
  subscribe(topics: string[]): Promise<void>;
  publish(topic: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

export interface MqttConnectOptions {
  /** `mqtts://host:port` (what Meross devices need) or `mqtt://host:port`. */
  url: string;
  /** PEM of the CA that signed the broker certificate (e.g. our ca.crt). */
  ca?: string | Buffer;
  username?: string;
  password?: string;
  /** Default true; false accepts any certificate, as devices themselves do. */
  rejectUnauthorized?: boolean;
  clientId?: string;
  connectTimeoutMs?: number;
  /** Delay between reconnect attempts; 0 disables reconnecting. Default 5000. */
  reconnectPeriodMs?: number;
}

export interface MqttPushEvent {
  uuid: string;
  envelope: Envelope;
}

export interface MqttMessageEvent extends MqttPushEvent {
  topic: string;
}

interface Pending {
  uuid: string;
  /** AES key the reply may be encrypted with (protocol.md §4). */
  encryptionKey?: string;
  resolve: (env: Envelope) => void;
  reject: (err: MerossError) => void;
  timer: NodeJS.Timeout;
}

function brokerDown(address: string, reason: string): MerossError {
  return new MerossError(
    "UNREACHABLE",
    `Not connected to the MQTT broker at ${address} (${reason}). ` +
      `Check that the broker is running and that its address, port, certificate and credentials are right.`,
    { host: address, retryable: true },
  );
}

function checkUuid(uuid: unknown): string {
  if (typeof uuid !== "string" || !/^[A-Za-z0-9_.:-]{1,64}$/.test(uuid)) {
    throw new MerossError(
      "BAD_INPUT",
      `"${String(uuid)}" is not a device uuid. Use the 32-character uuid the device reports in Appliance.System.All (hardware.uuid).`,
    );
  }
  return uuid;
}

/** Removes any user:password from a broker URL so it can appear in status and error text. */
function safeAddress(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return `${u.protocol}//${u.host}`;
  } catch {
    return "the configured broker";
  }
}

function checkUrl(url: unknown): string {
  let u: URL | undefined;
  try {
    u = typeof url === "string" ? new URL(url.trim()) : undefined;
  } catch {
    u = undefined;
  }
  if (!u || !["mqtt:", "mqtts:"].includes(u.protocol) || !u.hostname) {
    throw new MerossError(
      "BAD_INPUT",
      `"${typeof url === "string" ? safeAddress(url) : String(url)}" is not an MQTT broker address. ` +
        `Use mqtts://host:port (for example mqtts://192.168.1.10:8883) or mqtt://host:port.`,
    );
  }
  return u.toString();
}

/** mqtt.js behind the MqttLink interface. */
class MqttJsLink implements MqttLink {
  private handlers: MqttLinkHandlers | undefined;
  private readonly client: MqttClient;
  private topics: string[] = [];
  private isOnline = false;
  private lastError = "";

  constructor(url: string, opts: MqttConnectOptions, clientId: string) {
    const options: IClientOptions = {
      clientId,
      protocolVersion: 4,
      clean: true,
      connectTimeout: opts.connectTimeoutMs ?? 10_000,
      reconnectPeriod: opts.reconnectPeriodMs ?? 5000,
      // Subscriptions are redone on every connect below; mqtt.js must not queue stale commands
      // while offline either (an msl320 reportedly rejects old messages, protocol.md §5.5).
      resubscribe: false,
      queueQoSZero: false,
      rejectUnauthorized: opts.rejectUnauthorized ?? true,
    };
    if (opts.ca !== undefined) options.ca = opts.ca;
    if (opts.username !== undefined) options.username = opts.username;
    if (opts.password !== undefined) options.password = opts.password;
    this.client = mqtt.connect(url, options);
    this.client.on("connect", () => {
      this.client.subscribe(this.topics, { qos: 1 }, (err) => {
        if (err) {
          this.lastError = `subscribe failed: ${err.message}`;
          return;
        }
        this.isOnline = true;
        this.handlers?.online();
      });
    });
    this.client.on("message", (topic, payload) => this.handlers?.message(topic, payload));
    this.client.on("error", (err: Error & { code?: string | number }) => {
      this.lastError = describeMqttError(err);
    });
    this.client.on("close", () => {
      const was = this.isOnline;
      this.isOnline = false;
      if (was) this.handlers?.offline(this.lastError || "connection closed");
      else this.handlers?.offline(this.lastError || "connection failed");
    });
  }

  get online(): boolean {
    return this.isOnline;
  }

  get error(): string {
    return this.lastError;
  }

  attach(handlers: MqttLinkHandlers): void {
    this.handlers = handlers;
  }

  async subscribe(topics: string[]): Promise<void> {
    this.topics = [...new Set([...this.topics, ...topics])];
    if (this.client.connected) await this.client.subscribeAsync(topics, { qos: 1 });
  }

  async publish(topic: string, payload: string): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1 });
  }

  async close(): Promise<void> {
    this.isOnline = false;
    await this.client.endAsync(true);
  }
}

function describeMqttError(err: Error & { code?: string | number }): string {
  const code = err.code;
  if (code === 5 || code === 4 || /not authori[sz]ed|bad user/i.test(err.message)) return "the broker refused the user name or password";
  if (typeof code === "string" && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return `the broker certificate was not accepted (${code}); give the broker's CA certificate`;
  }
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host name not found";
  return typeof code === "string" && code ? code : err.message;
}

/**
 * A shared broker connection that routes replies to pending requests by messageId.
 * Events: "online", "offline" ({reason}), "push" (MqttPushEvent: device PUSHes),
 * "message" (MqttMessageEvent: every other device message that was not a reply of ours).
 */
export class MqttConnection extends EventEmitter {
  readonly address: string;
  /** Our `from`: devices publish the replies to our requests here. */
  readonly replyTopic: string;
  private readonly link: MqttLink;
  private readonly pending = new Map<string, Pending>();
  private closed = false;
  private offlineReason = "not connected yet";
  /** Settles once our topics are subscribed: a reply published before that would be lost. */
  private listening: Promise<void> | undefined;
  /** LAN encryption keys by device uuid, to read encrypted pushes (protocol.md §4). */
  private readonly encryptionKeys = new Map<string, string>();

  constructor(link: MqttLink, address: string, appId: string = randomBytes(8).toString("hex")) {
    super();
    this.link = link;
    this.address = address;
    this.replyTopic = `/app/${appId}/subscribe`;
    link.attach({
      message: (topic, payload) => this.onMessage(topic, payload),
      online: () => {
        this.offlineReason = "";
        this.safeEmit("online");
      },
      offline: (reason) => {
        this.offlineReason = reason;
        this.safeEmit("offline", { reason });
      },
    });
  }

  /** Starts connecting in the background (and keeps reconnecting); watch "online"/"offline". */
  static create(opts: MqttConnectOptions): MqttConnection {
    const url = checkUrl(opts?.url);
    const appId = randomBytes(8).toString("hex");
    // `app:` ids are how Meross apps name themselves (protocol.md §5.2); our broker treats
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

  get online(): boolean {
    return !this.closed && this.link.online;
  }

  /** Resolves once connected and subscribed; rejects on the first failure. */
  waitOnline(): Promise<void> {
    if (this.online) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onOnline = (): void => {
        this.off("offline", onOffline);
        resolve();
      };
      const onOffline = ({ reason }: { reason: string }): void => {
        this.off("online", onOnline);
        reject(brokerDown(this.address, reason));
      };
      this.once("online", onOnline);
      this.once("offline", onOffline);
    });
  }

  /**
   * Remembers (or with undefined forgets) the AES key of an encrypted device, so that its
   * encrypted pushes can be read. Requests made with an encryption key set it too.
   */
  setEncryptionKey(uuid: string, key: string | undefined): void {
    if (key) this.encryptionKeys.set(uuid, key);
    else this.encryptionKeys.delete(uuid);
  }

  /**
   * Sends one request to a device and resolves with its reply envelope (not interpreted).
   * With `encryption.key` the reply and later pushes may be encrypted; the request itself is
   * encrypted only with `encryption.encrypt` (see MqttTransportOptions.encryptPayloads).
   */
  async request(
    uuid: string,
    request: Envelope,
    timeoutMs: number = MQTT_TIMEOUT_MS,
    label = uuid,
    encryption: { key?: string; encrypt?: boolean } = {},
  ): Promise<Envelope> {
    checkUuid(uuid);
    if (this.closed) throw brokerDown(this.address, "the connection was closed");
    if (!this.link.online) throw brokerDown(this.address, this.offlineReason || "offline");
    const { messageId, method, namespace } = request.header;
    if (this.pending.has(messageId)) {
      throw new MerossError("BAD_INPUT", `A request with messageId ${messageId} is already waiting for its reply. Use a fresh messageId for every request.`);
    }
    await this.listen();
    const out: Envelope = { header: { ...request.header, from: this.replyTopic }, payload: request.payload };
    const key = encryption.key;
    if (key) this.encryptionKeys.set(uuid, key);
    const text = key && encryption.encrypt ? encodeEnvelope(out, key) : JSON.stringify(out);
    return new Promise<Envelope>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(messageId);
        reject(new MerossError("TIMEOUT", explain.timeout(label, String(method), namespace, timeoutMs), { host: label, namespace, method: String(method) }));
      }, timeoutMs);
      this.pending.set(messageId, { uuid, resolve, reject, timer, encryptionKey: key });
      this.link.publish(deviceRequestTopic(uuid), text).catch((err: unknown) => {
        const p = this.pending.get(messageId);
        if (!p) return;
        clearTimeout(p.timer);
        this.pending.delete(messageId);
        reject(brokerDown(this.address, err instanceof Error ? err.message : "publish failed"));
      });
    });
  }

  /**
   * Publishes an envelope as is (QoS 1), for a cloud-like session answering devices over
   * this shared connection (protocol.md §5.4); requests go through request() instead.
   */
  async publish(topic: string, envelope: Envelope): Promise<void> {
    if (this.closed) throw brokerDown(this.address, "the connection was closed");
    if (!this.link.online) throw brokerDown(this.address, this.offlineReason || "offline");
    await this.link.publish(topic, JSON.stringify(envelope));
  }

  private onMessage(topic: string, payload: Buffer | string): void {
    const text = typeof payload === "string" ? payload : payload.toString("utf8");
    const topicUuid = uuidFromTopic(topic);
    let env: Envelope;
    if (text.trimStart().startsWith("{")) {
      try {
        env = asEnvelope(JSON.parse(text), topic);
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
    if (topicUuid && env.header.method === "PUSH") this.safeEmit("push", { uuid, envelope: env } satisfies MqttPushEvent);
    this.safeEmit("message", { uuid, topic, envelope: env } satisfies MqttMessageEvent);
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
      this.pending.delete(id);
      p.reject(new MerossError("WRONG_KEY", undecryptableReply(p.uuid), { host: p.uuid }));
    }
    return undefined;
  }

  /** A throwing listener must not break the message loop of a shared connection. */
  private safeEmit(event: string, arg?: unknown): void {
    try {
      if (arg === undefined) this.emit(event);
      else this.emit(event, arg);
    } catch {
      return;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(brokerDown(this.address, "the connection was closed"));
      this.pending.delete(id);
    }
    await this.link.close();
  }
}

export interface MqttTransportOptions {
  uuid: string;
  client: MqttConnection;
  timeoutMs?: number;
  /**
   * Encrypt requests to devices with LAN encryption (default false). ⚠ protocol.md does not
   * say whether such firmware encrypts MQTT; the integrations that talk to it over MQTT send
   * plain JSON (MerossIot encrypts only its LAN HTTP path), so plaintext is the default and
   * encrypted replies and pushes are read either way.
   */
  encryptPayloads?: boolean;
}

/**
 * The Transport for one device reached through a shared MqttConnection. Emits "push"
 * (Envelope) for this device's PUSH messages so a device session can follow state changes.
 */
export class MqttTransport extends EventEmitter implements Transport {
  readonly kind = "mqtt" as const;
  readonly address: string;
  readonly uuid: string;
  private readonly client: MqttConnection;
  private readonly timeoutMs: number;
  private readonly encryptPayloads: boolean;
  private readonly onPush = (ev: MqttPushEvent): void => {
    if (ev.uuid === this.uuid) this.emit("push", ev.envelope);
  };
  private closed = false;

  constructor(opts: MqttTransportOptions) {
    super();
    this.uuid = checkUuid(opts?.uuid);
    if (!(opts.client instanceof MqttConnection)) {
      throw new MerossError("BAD_INPUT", "The MQTT transport needs a broker connection. Configure the MQTT broker before adding devices to it.");
    }
    this.client = opts.client;
    this.timeoutMs = opts.timeoutMs ?? MQTT_TIMEOUT_MS;
    this.encryptPayloads = opts.encryptPayloads === true;
    this.address = `${this.uuid} via ${this.client.address}`;
    this.client.on("push", this.onPush);
  }

  async send(request: Envelope, opts: SendOptions = {}): Promise<Envelope> {
    if (this.closed) throw brokerDown(this.client.address, "this device's transport was closed");
    return this.client.request(this.uuid, request, opts.timeoutMs ?? this.timeoutMs, this.address, {
      key: opts.encryptionKey,
      encrypt: this.encryptPayloads,
    });
  }

  /** Lets this device's encrypted pushes be read before its first encrypted request. */
  setEncryptionKey(key: string | undefined): void {
    this.client.setEncryptionKey(this.uuid, key);
  }

  /** Leaves the shared connection open: it belongs to whoever created it. */
  async close(): Promise<void> {
    this.closed = true;
    this.client.off("push", this.onPush);
  }
}
