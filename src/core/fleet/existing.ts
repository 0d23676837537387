/**
 * A fleet on an existing broker (Mosquitto): we only see messages, so a device is present
 * once a message it signed with a known key arrives, and we play the cloud's part for it
 * (Bind, Clock, System.Time, docs/protocol.md §5.4) so it stays in normal mode.
 */
import { MerossError } from "../errors";
import { verifySign, type Envelope } from "../protocol/message";
import { MqttConnection, type MqttMessageEvent, type MqttPushEvent } from "../transport/mqtt";
import { CloudSession, NS_BIND, parseBindInfo } from "../broker/session";
import { MQTT_TLS_PORT } from "../broker/certs";
import { FleetBase, hideSecrets } from "./base";
import type { BrokerEndpoint, BrokerPresence } from "./types";

/** mqtt:// without TLS listens on 1883 by convention; devices only speak mqtts:// on 8883. */
export const MQTT_PLAIN_PORT = 1883;

export interface ExistingSettings {
  url: string;
  /** PEM text of the CA that signed the broker's certificate. */
  ca?: string;
  username?: string;
  rejectUnauthorized?: boolean;
  /** IANA zone sent to devices in System.Time; default: this machine's zone. */
  timeZone?: string;
}

export interface ExistingFleetOptions {
  /** Read once at construction; a BAD_INPUT thrown here makes connection() and endpoint() reject with it. */
  settings: () => ExistingSettings;
  password?: string;
  /** Tests: the connection to use instead of dialling `url`. */
  connect?: (settings: ExistingSettings, password: string | undefined) => MqttConnection;
}

export function endpointFromUrl(url: string): BrokerEndpoint {
  const u = new URL(url);
  const port = u.port ? Number(u.port) : u.protocol === "mqtts:" ? MQTT_TLS_PORT : MQTT_PLAIN_PORT;
  return { host: u.hostname.replace(/^\[|\]$/g, ""), port };
}

export class ExistingFleet extends FleetBase {
  readonly mode = "existing" as const;
  private conn: MqttConnection | undefined;
  private failure: MerossError | undefined;
  private ep: BrokerEndpoint | undefined;
  private readonly session: CloudSession;
  private readonly offConn: Array<() => void> = [];

  constructor(opts: ExistingFleetOptions) {
    super(opts.password ? [opts.password] : []);
    let timeZone: string | undefined;
    try {
      const s = opts.settings();
      timeZone = s.timeZone;
      const url = typeof s.url === "string" ? s.url.trim() : "";
      if (!url) throw new MerossError("BAD_INPUT", "The broker URL is empty. Enter mqtts://host:8883 (or mqtt://host:1883) of your MQTT broker.");
      const password = opts.password || undefined;
      const c = opts.connect
        ? opts.connect({ ...s, url }, password)
        : MqttConnection.create({ url, ca: s.ca, username: s.username, password, rejectUnauthorized: s.rejectUnauthorized });
      this.ep = endpointFromUrl(url);
      this.conn = c;
      this.wire(c);
    } catch (err) {
      this.failure =
        err instanceof MerossError ? err : new MerossError("BAD_INPUT", hideSecrets(`The broker settings are not usable: ${err instanceof Error ? err.message : String(err)}.`, this.secrets()));
    }
    this.session = new CloudSession({
      publish: (topic, env) => {
        this.conn?.publish(topic, env).catch(() => undefined);
      },
      keyFor: () => undefined,
      timeZone,
    });
  }

  /** The settings were unusable: the sentence to show, or undefined. */
  get settingsError(): MerossError | undefined {
    return this.failure;
  }

  private wire(c: MqttConnection): void {
    const on = <T>(name: string, fn: (arg: T) => void): void => {
      c.on(name, fn);
      this.offConn.push(() => c.off(name, fn));
    };
    on<MqttPushEvent>("push", (ev) => {
      if (this.keyOf(ev.envelope) !== undefined) this.events.emit("push", { uuid: ev.uuid, envelope: ev.envelope });
    });
    on<MqttMessageEvent>("message", (ev) => this.onMessage(ev));
    on("online", () => {
      this.presence.replay();
      this.events.emit("running", { connection: c });
    });
    on<{ reason: string }>("offline", ({ reason }) => {
      if (!this.closed) this.events.emit("stopped", { reason: hideSecrets(String(reason), this.secrets()) });
    });
  }

  /** The device signs with its own key: the known key whose signature checks out is its key. */
  private keyOf(env: Envelope): string | undefined {
    return this.keys.all().find((k) => verifySign(env.header, k));
  }

  private onMessage(ev: MqttMessageEvent): void {
    if (!ev.topic.endsWith("/publish")) return;
    const key = this.keyOf(ev.envelope);
    if (key === undefined) return;
    const isBind = ev.envelope.header.namespace === NS_BIND;
    const patch: Partial<BrokerPresence> = { listening: true };
    if (isBind) {
      const bind = parseBindInfo(ev.envelope.payload);
      Object.assign(patch, { ip: bind.ip, model: bind.model, firmware: bind.firmware, mac: bind.mac, since: Date.now() });
      for (const k of Object.keys(patch) as Array<keyof BrokerPresence>) if (patch[k] === undefined) delete patch[k];
    }
    this.presence.bind(ev.uuid, { keyOwner: this.keys.ownerOf(key), ...(patch.mac ? { mac: patch.mac } : {}) });
    this.presence.upsert(ev.uuid, patch, isBind);
    try {
      this.session.handle(ev.uuid, ev.topic, ev.envelope, key);
    } catch {
      // A hostile message must not stop the session for the other devices.
    }
  }

  connection(): Promise<MqttConnection> {
    if (this.failure) return Promise.reject(this.failure);
    return Promise.resolve(this.conn as MqttConnection);
  }

  currentConnection(): MqttConnection | undefined {
    return this.closed ? undefined : this.conn;
  }

  isListening(uuid: string): boolean {
    return !this.closed && !!uuid && !!this.conn?.online && this.presence.has(uuid);
  }

  endpoint(): Promise<BrokerEndpoint> {
    if (this.failure || !this.ep) return Promise.reject(this.failure);
    return Promise.resolve({ ...this.ep });
  }

  online(): boolean {
    return !this.closed && !!this.conn?.online;
  }

  async close(reason = "the broker connection was closed"): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.events.emit("stopped", { reason });
    for (const off of this.offConn.splice(0)) off();
    await this.conn?.close().catch(() => undefined);
    this.presence.clear();
  }
}
