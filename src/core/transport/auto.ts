/**
 * `auto` transport: MQTT while the device is connected to the broker, HTTP otherwise, and
 * the other path when the chosen one fails to deliver. Devices keep answering HTTP when
 * their broker is gone (protocol.md §3.9), and MQTT reaches devices HTTP cannot (NAT,
 * changed IP), so each covers the other's failure.
 */
import { EventEmitter } from "node:events";
import { MerossError } from "../errors";
import type { Envelope } from "../protocol/message";
import type { SendOptions, Transport } from "./types";

export interface AutoTransportOptions {
  http: Transport;
  mqtt: Transport;
  /** Whether the device is connected to the broker right now. */
  mqttAvailable: () => boolean;
}

/** Failures after which the request never reached the device, or got no answer. */
const SWITCH_ON = new Set(["UNREACHABLE", "TIMEOUT"]);

export class AutoTransport extends EventEmitter implements Transport {
  private readonly http: Transport;
  private readonly mqtt: Transport;
  private readonly mqttAvailable: () => boolean;
  private lastKind: "http" | "mqtt";
  private readonly forwardPush = (env: Envelope): void => {
    this.emit("push", env);
  };

  constructor(opts: AutoTransportOptions) {
    super();
    this.http = opts.http;
    this.mqtt = opts.mqtt;
    this.mqttAvailable = opts.mqttAvailable;
    this.lastKind = this.mqttAvailable() ? "mqtt" : "http";
    this.mqtt.on?.("push", this.forwardPush);
  }

  /** The path the last request took (or would take now). */
  get kind(): "http" | "mqtt" {
    return this.lastKind;
  }

  get address(): string {
    return this.lastKind === "mqtt" ? this.mqtt.address : this.http.address;
  }

  async send(request: Envelope, opts: SendOptions = {}): Promise<Envelope> {
    const first = this.mqttAvailable() ? this.mqtt : this.http;
    const second = first === this.mqtt ? this.http : this.mqtt;
    this.use(first.kind);
    try {
      return await first.send(request, opts);
    } catch (err) {
      if (!(err instanceof MerossError) || !SWITCH_ON.has(err.code)) throw err;
      // Over MQTT the broker may not know the device at all; over HTTP the address may be stale.
      if (second === this.mqtt && !this.mqttAvailable()) throw err;
      this.use(second.kind);
      const retry = opts.resend ? opts.resend() : request;
      return second.send(retry, opts);
    }
  }

  private use(kind: "http" | "mqtt"): void {
    if (kind !== this.lastKind) {
      this.lastKind = kind;
      this.emit("switch", kind);
    }
  }

  async close(): Promise<void> {
    this.mqtt.off?.("push", this.forwardPush);
    await Promise.all([this.http.close(), this.mqtt.close()]);
  }
}
