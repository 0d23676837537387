/**
 * The broker link under an MqttConnection: mqtt.js behind a small publish/subscribe
 * interface, so that mqtt.js and the embedded broker share one request router, plus the
 * address checks and error sentences of a broker connection.
 */
import type { Duplex } from "node:stream";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { MerossError } from "../errors";
import { describeValue } from "../protocol/rules";
import { PACKET_LIMIT, PacketSizeWatch } from "../broker/limits";

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

export function brokerDown(address: string, reason: string): MerossError {
  return new MerossError(
    "UNREACHABLE",
    `Not connected to the MQTT broker at ${address} (${reason}). ` +
      `Check that the broker is running and that its address, port, certificate and credentials are right.`,
    { host: address, retryable: true },
  );
}

/** Removes any user:password from a broker URL so it can appear in status and error text. */
export function safeAddress(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return `${u.protocol}//${u.host}`;
  } catch {
    return "the configured broker";
  }
}

export function checkUrl(url: unknown): string {
  let u: URL | undefined;
  try {
    u = typeof url === "string" ? new URL(url.trim()) : undefined;
  } catch {
    u = undefined;
  }
  if (!u || !["mqtt:", "mqtts:"].includes(u.protocol) || !u.hostname) {
    throw new MerossError(
      "BAD_INPUT",
      `${describeValue(typeof url === "string" ? safeAddress(url) : url)} is not an MQTT broker address. ` +
        `Use mqtts://host:port (for example mqtts://192.168.1.10:8883) or mqtt://host:port.`,
    );
  }
  return u.toString();
}

/** mqtt.js behind the MqttLink interface. */
export class MqttJsLink implements MqttLink {
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
      // while offline either (an msl320 reportedly rejects old messages, docs/protocol.md §5.5).
      resubscribe: false,
      queueQoSZero: false,
      rejectUnauthorized: opts.rejectUnauthorized ?? true,
    };
    if (opts.ca !== undefined) options.ca = opts.ca;
    if (opts.username !== undefined) options.username = opts.username;
    if (opts.password !== undefined) options.password = opts.password;
    this.client = mqtt.connect(url, options);
    this.guardPacketSize();
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
    // A retained message is whatever someone once published, not what a device says now.
    this.client.on("message", (topic, payload, packet) => {
      if (!packet.retain) this.handlers?.message(topic, payload);
    });
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

  /**
   * mqtt.js buffers a whole packet before anyone sees it, whatever size its header claims
   * (mqtt-packet has no limit, and MQTT 3.1.1 no way to tell the broker one). The bytes each
   * connection delivers are followed here, ahead of the parser, and a packet announcing more
   * than PACKET_LIMIT ends the connection at its first chunk; mqtt.js then reconnects.
   */
  private guardPacketSize(): void {
    const client = this.client as unknown as { stream?: Duplex; streamBuilder: (c: MqttClient) => Duplex };
    const guard = (stream: Duplex): void => {
      const watch = new PacketSizeWatch(PACKET_LIMIT);
      stream.prependListener("data", (chunk: Buffer) => {
        if (stream.destroyed || watch.feed(chunk)) return;
        this.lastError = `the broker sent an MQTT packet over ${PACKET_LIMIT} bytes, which no Meross message needs; reconnecting`;
        stream.destroy();
      });
    };
    const build = client.streamBuilder;
    client.streamBuilder = (c) => {
      const stream = build(c);
      guard(stream);
      return stream;
    };
    if (client.stream) guard(client.stream);
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
  // What the broker or the network library says is quoted briefly: a hostile peer chooses it.
  return typeof code === "string" && code ? describeValue(code, 60) : describeValue(err.message);
}
