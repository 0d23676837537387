/**
 * `auto` transport: MQTT while the device is connected to the broker, HTTP otherwise, and
 * the other path when the chosen one fails to deliver. Devices keep answering HTTP when
 * their broker is gone (docs/protocol.md §3.9), and MQTT reaches devices HTTP cannot (NAT,
 * changed IP), so each covers the other's failure.
 */
import { MerossError } from "../errors";
import { TypedEvents, type Unsubscribe } from "../events";
import type { Envelope } from "../protocol/message";
import { transportEvents, type SendOptions, type Transport } from "./types";

export interface AutoTransportOptions {
  http: Transport;
  mqtt: Transport;
  /** Whether the device is connected to the broker right now. */
  mqttAvailable: () => boolean;
}

/** Failures after which the request never reached the device, or got no answer. */
const SWITCH_ON = new Set(["UNREACHABLE", "TIMEOUT"]);

/** Both paths are given to it, so both stay open when it closes: their creator closes them. */
export class AutoTransport implements Transport {
  readonly events = transportEvents();
  /** `switch` when requests start taking the other path. */
  readonly switches = new TypedEvents<{ switch: "http" | "mqtt" }>();
  private readonly http: Transport;
  private readonly mqtt: Transport;
  private readonly mqttAvailable: () => boolean;
  private lastKind: "http" | "mqtt";
  private readonly unsubscribe: Unsubscribe[];

  constructor(opts: AutoTransportOptions) {
    this.http = opts.http;
    this.mqtt = opts.mqtt;
    this.mqttAvailable = opts.mqttAvailable;
    this.lastKind = this.mqttAvailable() ? "mqtt" : "http";
    this.unsubscribe = [
      this.mqtt.events.on("push", (env: Envelope) => this.events.emit("push", env)),
      this.mqtt.events.on("connection", (c) => this.events.emit("connection", c)),
    ];
  }

  /** The path the last request took (or would take now). */
  get kind(): "http" | "mqtt" {
    return this.lastKind;
  }

  get address(): string {
    return this.lastKind === "mqtt" ? this.mqtt.address : this.http.address;
  }

  get uuid(): string | undefined {
    return this.mqtt.uuid ?? this.http.uuid;
  }

  async send(request: Envelope, opts: SendOptions = {}): Promise<Envelope> {
    const first = this.mqttAvailable() ? this.mqtt : this.http;
    const second = first === this.mqtt ? this.http : this.mqtt;
    this.use(first.kind);
    try {
      return await first.send(request, opts);
    } catch (err) {
      if (!(err instanceof MerossError) || !SWITCH_ON.has(err.code)) throw err;
      // The caller gave up (its deadline passed): nothing may go out for this request any more.
      if (opts.signal?.aborted) throw err;
      // Over MQTT the broker may not know the device at all; over HTTP the address may be stale.
      if (second === this.mqtt && !this.mqttAvailable()) throw err;
      this.use(second.kind);
      const retry = opts.resend ? opts.resend() : request;
      return second.send(retry, opts);
    }
  }

  /**
   * The device arrived on (or left) the broker: the next request takes the other path, so say
   * so now. Without it a device read over HTTP at start-up kept showing "http" after it logged in.
   */
  presenceChanged(): void {
    this.use(this.mqttAvailable() ? "mqtt" : "http");
  }

  private use(kind: "http" | "mqtt"): void {
    if (kind !== this.lastKind) {
      this.lastKind = kind;
      this.switches.emit("switch", kind);
    }
  }

  async close(): Promise<void> {
    for (const off of this.unsubscribe) off();
    this.events.clear();
    this.switches.clear();
  }
}
