/**
 * The simulated device's MQTT client: how real firmware reaches its gateway (docs/protocol.md §5):
 * mqtts without checking the certificate, MQTT 3.1.1, `fmware:` client id, MAC as user name,
 * `<userId>_<md5(mac + key)>` as password. Protocol logic stays in mqttsession.ts.
 */
import { randomInt } from "node:crypto";
import mqtt, { type MqttClient } from "mqtt";
import { md5Hex, type Envelope } from "../core/protocol/message";

/** "refused" = the broker answered CONNACK with bad credentials / not authorised. */
export type MqttState = "disabled" | "connecting" | "connected" | "refused";

const ALPHANUMERICS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** MQTT 3.1.1 CONNACK codes that mean "your credentials are not accepted". */
const REFUSED_CODES = new Set([2, 4, 5]);
/** A stopped device must not keep a test (or `npm start`) waiting on a half-open TLS socket. */
const CLOSE_GRACE_MS = 2000;

/** `fmware:<uuid>_<16 alphanumerics>`, as in the ML#346 capture (docs/protocol.md §5.2). */
export function deviceClientId(uuid: string): string {
  let suffix = "";
  for (let i = 0; i < 16; i++) suffix += ALPHANUMERICS[randomInt(ALPHANUMERICS.length)];
  return `fmware:${uuid}_${suffix}`;
}

/** `<userId>_<md5hex(mac + key)>` — verified against the vectors of docs/protocol.md §8.2. */
export function deviceMqttPassword(mac: string, key: string, userId: string): string {
  return `${userId}_${md5Hex(mac + key)}`;
}

export interface DeviceMqttLinkOptions {
  host: string;
  port: number;
  uuid: string;
  mac: string;
  key: string;
  userId: string;
  reconnectMs: number;
  localAddress?: string;
  onState(state: MqttState): void;
  /** Connected and subscribed: the moment firmware sends its Bind and Clock. */
  onSession(): void;
  onMessage(text: string): void;
}

/** One mqtt.js client that keeps retrying forever, as firmware does while it has a gateway. */
export class DeviceMqttLink {
  private readonly client: MqttClient;
  private readonly opts: DeviceMqttLinkOptions;
  private state: MqttState = "connecting";
  private closed = false;

  constructor(opts: DeviceMqttLinkOptions) {
    this.opts = opts;
    this.client = mqtt.connect(`mqtts://${opts.host}:${opts.port}`, {
      clientId: deviceClientId(opts.uuid),
      username: opts.mac,
      password: deviceMqttPassword(opts.mac, opts.key, opts.userId),
      protocolVersion: 4,
      clean: true,
      // Devices do not validate the broker certificate (docs/protocol.md §5.3).
      rejectUnauthorized: false,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: opts.reconnectMs,
      // Firmware keeps trying after a refusal too; the key may be fixed on the broker side.
      reconnectOnConnackError: true,
      resubscribe: false,
      queueQoSZero: false,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    this.client.on("connect", () => {
      this.client.subscribe(`/appliance/${opts.uuid}/subscribe`, { qos: 1 }, (err) => {
        if (err || this.closed) return;
        this.setState("connected");
        opts.onSession();
      });
    });
    this.client.on("message", (_topic, payload) => {
      if (!this.closed) opts.onMessage(payload.toString("utf8"));
    });
    this.client.on("error", (err: Error & { code?: string | number }) => {
      if (typeof err.code === "number" && REFUSED_CODES.has(err.code)) this.setState("refused");
    });
    // A refusal stays visible while retrying: it only clears on a successful connect.
    this.client.on("close", () => {
      if (this.state === "connected") this.setState("connecting");
    });
  }

  get connected(): boolean {
    return this.state === "connected" && this.client.connected;
  }

  private setState(state: MqttState): void {
    if (this.closed || state === this.state) return;
    this.state = state;
    this.opts.onState(state);
  }

  /** QoS 1 like real devices; a message lost while offline is lost, as on firmware. */
  publish(topic: string, env: Envelope): void {
    if (this.closed || !this.client.connected) return;
    this.client.publish(topic, JSON.stringify(env), { qos: 1 }, () => undefined);
  }

  /** An already encoded payload (an encrypted message, docs/protocol.md §4.2). */
  publishText(topic: string, text: string): void {
    if (this.closed || !this.client.connected) return;
    this.client.publish(topic, text, { qos: 1 }, () => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.client.endAsync(true).catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      }),
    ]);
    if (timer) clearTimeout(timer);
  }
}
