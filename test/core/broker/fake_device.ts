/**
 * A scripted Meross device for broker tests: it logs in the way firmware does
 * (docs/protocol.md §5.2), never checks the broker certificate (§5.3), and records what
 * the broker sends to its subscribe topic.
 */
import mqtt, { type MqttClient } from "mqtt";
import { buildMessage, md5Hex, type Envelope } from "../../../src/core/protocol/message";

export interface FakeDeviceOptions {
  port: number;
  uuid: string;
  mac: string;
  key: string;
  userId?: string;
  /** Overrides the computed password (to test refusals). */
  password?: string;
  /** Overrides the firmware-style client id (to test a reused one). */
  clientId?: string;
  /** Another loopback source address (127.0.0.x), to look like another machine. */
  localAddress?: string;
}

export class FakeDevice {
  readonly received: Envelope[] = [];
  private waiters: Array<{ match: (e: Envelope) => boolean; resolve: (e: Envelope) => void }> = [];

  private constructor(
    readonly client: MqttClient,
    readonly opts: FakeDeviceOptions,
  ) {
    client.on("message", (_topic, payload) => {
      let env: Envelope;
      try {
        env = JSON.parse(payload.toString("utf8")) as Envelope;
      } catch {
        return;
      }
      this.received.push(env);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(env)) return true;
        w.resolve(env);
        return false;
      });
    });
  }

  static async connect(opts: FakeDeviceOptions): Promise<FakeDevice> {
    const password = opts.password ?? `${opts.userId ?? "1234"}_${md5Hex(opts.mac + opts.key)}`;
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${opts.port}`, {
      clientId: opts.clientId ?? `fmware:${opts.uuid}_dm1u3toPGXwyoY6K`,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      username: opts.mac,
      password,
      rejectUnauthorized: false,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      protocolVersion: 4,
    });
    const dev = new FakeDevice(client, opts);
    await client.subscribeAsync(`/appliance/${opts.uuid}/subscribe`, { qos: 1 });
    return dev;
  }

  get publishTopic(): string {
    return `/appliance/${this.opts.uuid}/publish`;
  }

  /** A device-signed message, as firmware would send it. */
  message(
    method: string,
    namespace: string,
    payload: Record<string, unknown>,
    extra: { messageId?: string; timestamp?: number } = {},
  ): Envelope {
    return buildMessage({
      method: method as "GET",
      namespace,
      payload,
      key: this.opts.key,
      from: this.publishTopic,
      uuid: this.opts.uuid,
      messageId: extra.messageId,
      timestamp: extra.timestamp,
    });
  }

  async publish(env: Envelope | string, topic = this.publishTopic): Promise<void> {
    await this.client.publishAsync(topic, typeof env === "string" ? env : JSON.stringify(env), { qos: 1 });
  }

  /** Resolves with the first message (already received or upcoming) that matches. */
  next(match: (e: Envelope) => boolean, timeoutMs = 5000): Promise<Envelope> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the fake device did not receive the expected message")), timeoutMs);
      this.waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  /** Answers every request with `reply(request)`, on the publish topic or on the request's `from`. */
  answer(reply: (req: Envelope) => Envelope | undefined, via: "publish" | "from" = "publish"): void {
    this.client.on("message", (_topic, payload) => {
      let req: Envelope;
      try {
        req = JSON.parse(payload.toString("utf8")) as Envelope;
      } catch {
        return;
      }
      if (!["GET", "SET"].includes(String(req.header.method)) || req.header.from === undefined) return;
      if (String(req.header.from).startsWith("/app/meross-local-broker")) return;
      const out = reply(req);
      if (!out) return;
      const topic = via === "from" ? String(req.header.from) : this.publishTopic;
      void this.publish(out, topic);
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export const DEVICE_A = { uuid: "2308085712920951080748e1e9d58442", mac: "48:e1:e9:d5:84:42", key: "key-of-device-a" };
export const DEVICE_B = { uuid: "1912174206936125185848e1e9b62c49", mac: "48:e1:e9:b6:2c:49", key: "" };
