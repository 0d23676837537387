/**
 * A fleet on an existing broker (Mosquitto): we only see messages, so a device is present
 * once a message it signed with a known key arrives, and we play the cloud's part for it
 * (Bind, Clock, System.Time, docs/protocol.md §5.4) so it stays in normal mode.
 */
import { MerossError, scrubSecrets } from "../errors";
import { verifySign, type Envelope } from "../protocol/message";
import { MqttConnection, type MqttMessageEvent } from "../transport/mqtt";
import { CloudSession, NS_BIND, parseBindInfo } from "../broker/cloud-responder";
import { MQTT_TLS_PORT } from "../broker/certs";
import { isUuid, macMatchesUuid } from "../protocol/rules";
import { FleetBase, type FleetTrust } from "./base";
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
  /** The empty-key option and where device identities are kept. */
  trust?: FleetTrust;
}

/** How long a request waits for the shared connection's first attempt (Node-RED starting). */
const CONNECT_WAIT_MS = 10_000;

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
  /** The key each present device's latest believed message was signed with (as many as present devices). */
  private readonly sessionKeys = new Map<string, string>();
  /** The connection's first attempt has ended (online or offline): requests no longer wait for it. */
  private attempted = false;

  constructor(opts: ExistingFleetOptions) {
    super(opts.password ? [opts.password] : [], opts.trust);
    let timeZone: string | undefined;
    try {
      const s = opts.settings();
      timeZone = s.timeZone;
      const url = typeof s.url === "string" ? s.url.trim() : "";
      if (!url)
        throw new MerossError("BAD_INPUT", "The broker URL is empty. Enter mqtts://host:8883 (or mqtt://host:1883) of your MQTT broker.");
      const password = opts.password || undefined;
      const c = opts.connect
        ? opts.connect({ ...s, url }, password)
        : MqttConnection.create({ url, ca: s.ca, username: s.username, password, rejectUnauthorized: s.rejectUnauthorized });
      this.ep = endpointFromUrl(url);
      this.conn = c;
      this.wire(c);
    } catch (err) {
      this.failure =
        err instanceof MerossError
          ? err
          : new MerossError(
              "BAD_INPUT",
              scrubSecrets(`The broker settings are not usable: ${err instanceof Error ? err.message : String(err)}.`, this.secrets()),
            );
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
    const on: typeof c.events.on = (name, fn) => {
      const off = c.events.on(name, fn);
      this.offConn.push(off);
      return off;
    };
    on("message", (ev) => this.onMessage(ev));
    on("online", () => {
      this.attempted = true;
      this.presence.replay();
      this.events.emit("running", { connection: c });
    });
    on("offline", ({ reason }) => {
      this.attempted = true;
      if (!this.closed) this.events.emit("stopped", { reason: scrubSecrets(String(reason), this.secrets()) });
    });
  }

  /**
   * The key a message for `uuid` was signed with, when it is believed: a known key (the one a
   * meross-config names for this uuid, if any), not the empty key unless allowed, the key the
   * uuid is bound to. Otherwise why not. Signatures do not cover the uuid (docs/protocol.md §1.2),
   * so the binding is what stops a key holder from speaking for another device.
   */
  private trusted(uuid: string, env: Envelope, mac?: string): string | { reason: string } {
    if (!isUuid(uuid)) return { reason: "the topic names no valid device uuid" };
    const named = this.keys.named(uuid);
    const known = this.acceptEmptyKey ? [...this.keys.all(), ""] : this.keys.all();
    const key = (named.length > 0 ? named : known).find((k) => verifySign(env.header, k));
    if (key === undefined)
      return { reason: named.length > 0 ? "not signed with the key its meross-config names" : "not signed with a known device key" };
    if (key === "" && !this.acceptEmptyKey)
      return { reason: 'signed with the empty key, which anyone can compute (turn on "accept devices with no key" to believe it)' };
    if (mac !== undefined && !macMatchesUuid(mac, uuid))
      return { reason: `its Bind names MAC ${mac}, which is not the MAC in uuid ${uuid}` };
    if (named.length > 0) return key;
    const bound = this.identities.get(uuid);
    if (bound && this.identities.conflict(uuid, mac ?? bound.mac, key))
      return { reason: `device ${uuid} is bound to another key: the message is not from that device` };
    return key;
  }

  private onMessage(ev: MqttMessageEvent): void {
    if (!ev.topic.endsWith("/publish")) return;
    const isBind = ev.envelope.header.namespace === NS_BIND;
    const bind = isBind ? parseBindInfo(ev.envelope.payload) : undefined;
    const key = this.trusted(ev.uuid, ev.envelope, bind?.mac);
    if (typeof key !== "string") {
      this.turnAway({ uuid: ev.uuid, clientId: "", username: "", ip: "", reason: `ignored a message on ${ev.topic}: ${key.reason}` });
      return;
    }
    // A stale or replayed message (a retained push from years ago included) is not live state, nor presence.
    const problem = this.pushProblem(ev.uuid, ev.envelope, key);
    if (problem !== undefined) {
      this.turnAway({ uuid: ev.uuid, clientId: "", username: "", ip: "", reason: `ignored ${problem} on ${ev.topic}` });
      return;
    }
    const patch: Partial<BrokerPresence> = { listening: true };
    if (bind) {
      Object.assign(patch, { ip: bind.ip, model: bind.model, firmware: bind.firmware, mac: bind.mac, since: Date.now() });
      for (const k of Object.keys(patch) as Array<keyof BrokerPresence>) if (patch[k] === undefined) delete patch[k];
      if (bind.mac) this.identities.learn(ev.uuid, bind.mac, key, this.keys.named(ev.uuid).length > 0 ? "config" : "bind");
    }
    patch.proven = this.keys.named(ev.uuid).length > 0 || this.identities.proven(ev.uuid);
    this.sessionKeys.set(ev.uuid, key);
    this.presence.bind(ev.uuid, { keyOwner: this.keys.ownerOf(key), ...(patch.mac ? { mac: patch.mac } : {}) });
    this.presence.upsert(ev.uuid, patch, isBind);
    if (ev.envelope.header.method === "PUSH" && /^\/appliance\/[^/]+\/publish$/.test(ev.topic))
      this.events.emit("push", { uuid: ev.uuid, envelope: ev.envelope });
    try {
      this.session.handle(ev.uuid, ev.topic, ev.envelope, key);
    } catch {
      // A hostile message must not stop the session for the other devices.
    }
  }

  /**
   * The shared connection once it is up: a request sent before it is would fail at once, and a
   * device link would only try again 30 s later (every device read at start-up). Only the first
   * attempt is waited for (online, or offline with its reason; at most CONNECT_WAIT_MS): during a
   * later outage a request says at once why the broker is offline.
   */
  connection(): Promise<MqttConnection> {
    if (this.failure) return Promise.reject(this.failure);
    const c = this.conn as MqttConnection;
    if (this.closed || !c || c.online || this.attempted) return Promise.resolve(c);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        off();
        resolve(c);
      };
      const offs = [c.events.on("online", done), c.events.on("offline", done)];
      const off = (): void => offs.forEach((f) => f());
      const timer = setTimeout(done, CONNECT_WAIT_MS);
    });
  }

  currentConnection(): MqttConnection | undefined {
    return this.closed ? undefined : this.conn;
  }

  provenWith(uuid: string, key: string): boolean {
    return !this.closed && this.presence.has(uuid) && this.sessionKeys.get(uuid) === key;
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
    this.identities.flush();
    this.sessionKeys.clear();
  }
}
