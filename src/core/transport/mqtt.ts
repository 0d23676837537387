/**
 * MQTT transport: one device reached through a shared MqttConnection (mqtt-connection.ts).
 * The connection belongs to whoever created it; this per-device view never closes it.
 */
import { MerossError } from "../errors";
import type { Envelope } from "../protocol/message";
import { MQTT_TIMEOUT_MS, MqttConnection, checkUuid } from "./mqtt-connection";
import { brokerDown } from "./mqtt-link";
import { transportEvents, type SendOptions, type Transport } from "./types";
import type { Unsubscribe } from "../events";

export * from "./mqtt-connection";
export type { MqttConnectOptions, MqttLink, MqttLinkHandlers } from "./mqtt-link";

export interface MqttTransportOptions {
  uuid: string;
  client: MqttConnection;
  timeoutMs?: number;
  /**
   * Encrypt requests to devices with LAN encryption (default false). ⚠ docs/protocol.md does
   * not say whether such firmware encrypts MQTT; the integrations that talk to it over MQTT
   * send plain JSON (MerossIot encrypts only its LAN HTTP path), so plaintext is the default
   * and encrypted replies and pushes are read either way.
   */
  encryptPayloads?: boolean;
}

/**
 * The Transport for one device reached through a shared MqttConnection: `events` carries
 * this device's PUSH messages and the broker link going up and down.
 */
export class MqttTransport implements Transport {
  readonly kind = "mqtt" as const;
  readonly address: string;
  readonly uuid: string;
  readonly events = transportEvents();
  private readonly client: MqttConnection;
  private readonly timeoutMs: number;
  private readonly encryptPayloads: boolean;
  private readonly onPush = (env: Envelope): void => this.events.emit("push", env);
  private readonly onOnline = (): void => this.events.emit("connection", { connected: true });
  private readonly onOffline = (): void => this.events.emit("connection", { connected: false });
  private closed = false;
  /** Our listeners on the shared connection, removed on close (the connection outlives us). */
  private readonly offs: Unsubscribe[];

  constructor(opts: MqttTransportOptions) {
    this.uuid = checkUuid(opts?.uuid);
    if (!(opts.client instanceof MqttConnection)) {
      throw new MerossError(
        "BAD_INPUT",
        "The MQTT transport needs a broker connection. Configure the MQTT broker before adding devices to it.",
      );
    }
    this.client = opts.client;
    this.timeoutMs = opts.timeoutMs ?? MQTT_TIMEOUT_MS;
    this.encryptPayloads = opts.encryptPayloads === true;
    this.address = `${this.uuid} via ${this.client.address}`;
    this.offs = [
      // Only this device's pushes reach us (by uuid), not every push on the broker filtered here.
      this.client.pushes.on(this.uuid, this.onPush),
      this.client.events.on("online", this.onOnline),
      this.client.events.on("offline", this.onOffline),
    ];
  }

  async send(request: Envelope, opts: SendOptions = {}): Promise<Envelope> {
    if (this.closed) throw brokerDown(this.client.address, "this device's transport was closed");
    return this.client.request(this.uuid, request, opts.timeoutMs ?? this.timeoutMs, this.address, {
      key: opts.encryptionKey,
      encrypt: this.encryptPayloads,
      signal: opts.signal,
    });
  }

  /** Leaves the shared connection open: it belongs to whoever created it. */
  async close(): Promise<void> {
    this.closed = true;
    for (const off of this.offs.splice(0)) off();
    this.events.clear();
  }
}
