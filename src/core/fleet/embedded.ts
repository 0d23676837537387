/**
 * A fleet on our own embedded broker: devices log in with a password derived from a key a
 * user knows (docs/protocol.md §5.2), so presence comes from logins and every message a
 * device publishes is already authenticated; pushes are still checked for their signature and freshness.
 */
import { MerossError } from "../errors";
import { MerossBroker } from "../broker/broker";
import type { Certificates } from "../broker/certs";
import type { MqttConnection, MqttPushEvent } from "../transport/mqtt";
import { FleetBase, type FleetTrust } from "./base";
import type { BrokerEndpoint } from "./types";

export interface EmbeddedSettings {
  /** 0 picks a free port. */
  port: number;
  /** The address listened on. */
  host: string;
  /** The address devices are told to connect to (and the certificate names). */
  certHost: string;
  allowAnonymous: boolean;
  timeZone?: string;
}

export interface EmbeddedFleetOptions {
  /** Read when starting; a BAD_INPUT thrown here is what connection() and endpoint() reject with. */
  settings: () => EmbeddedSettings;
  /** The server certificate and key; may be slow (first generation) and may throw. */
  certs: (settings: EmbeddedSettings) => Pick<Certificates, "serverCert" | "serverKey">;
  /** Waited for before listening: the broker this one replaces must free its port first (src/core/fleet/handover.ts). */
  after?: Promise<void>;
  /** The empty-key option and where device identities are kept. */
  trust?: FleetTrust;
}

export class EmbeddedFleet extends FleetBase {
  readonly mode = "embedded" as const;
  private readonly ready: Promise<MerossBroker>;
  private settings: EmbeddedSettings | undefined;
  private broker: MerossBroker | undefined;
  private conn: MqttConnection | undefined;
  private readonly offs: Array<() => void> = [];

  constructor(opts: EmbeddedFleetOptions) {
    super([], opts.trust);
    this.ready = this.start(opts);
    this.ready.catch((err: unknown) => {
      if (!this.closed) this.events.emit("stopped", { reason: err instanceof Error ? err.message : String(err) });
    });
  }

  private async start(opts: EmbeddedFleetOptions): Promise<MerossBroker> {
    // Yield first: certificate generation is CPU work and whoever creates the fleet should not wait on it.
    await new Promise((r) => setImmediate(r));
    await opts.after;
    const s = opts.settings();
    this.settings = s;
    const b = await MerossBroker.start({
      port: s.port,
      host: s.host,
      certs: opts.certs(s),
      // "Accept devices with no key" means the empty key is one of the keys, whoever else knows it.
      keys: () => (this.acceptEmptyKey ? [...this.keys.all(), ""] : this.keys.all()),
      namedKeys: (uuid) => this.keys.named(uuid),
      identities: this.identities,
      acceptEmptyKey: this.acceptEmptyKey,
      allowAnonymous: s.allowAnonymous,
      timeZone: s.timeZone,
    });
    if (this.closed) {
      await b.stop();
      throw new MerossError("UNREACHABLE", "The embedded MQTT broker was stopped (redeploy) before it finished starting.");
    }
    this.wire(b);
    this.broker = b;
    const conn = b.connection();
    this.conn = conn;
    const onPush = (ev: MqttPushEvent): void => {
      // Only a logged-in device may publish on its own topic, and each push is signed with the key it logged in with.
      if (!this.presence.has(ev.uuid)) return;
      const problem = this.pushProblem(ev.uuid, ev.envelope, b.loginKey(ev.uuid));
      if (problem === undefined) this.events.emit("push", { uuid: ev.uuid, envelope: ev.envelope });
      else this.turnAway({ uuid: ev.uuid, clientId: "", username: "", ip: "", reason: `ignored ${problem}` });
    };
    this.offs.push(conn.events.on("push", onPush));
    this.events.emit("running", { connection: conn });
    return b;
  }

  private wire(b: MerossBroker): void {
    const on: typeof b.events.on = (name, fn) => {
      const off = b.events.on(name, fn);
      this.offs.push(off);
      return off;
    };
    on("device-connected", (d) => {
      // A new login may come with a reset clock: its pushes are judged afresh (messageIds too).
      this.freshness.forget(d.uuid);
      const key = b.loginKey(d.uuid);
      this.presence.bind(d.uuid, { mac: d.mac, keyOwner: key === undefined ? undefined : this.keys.ownerOf(key) });
      const fresh = { mac: d.mac, ip: d.ip, model: d.model, firmware: d.firmware, since: d.connectedAt, proven: d.proven };
      this.presence.upsert(d.uuid, { ...fresh, listening: b.isConnected(d.uuid) });
    });
    on("device-listening", (d) => this.presence.upsert(d.uuid, { mac: d.mac, ip: d.ip, listening: true, proven: d.proven }));
    on("device-bound", (d) => this.presence.upsert(d.uuid, { model: d.model, firmware: d.firmware }));
    on("device-disconnected", (d) => this.presence.drop(d.uuid));
    on("refused", (r) => this.turnAway({ ...r, ...this.claimedUuid(r.clientId) }));
  }

  private claimedUuid(clientId: string): { uuid?: string } {
    const m = /^fmware:([0-9A-Za-z]{32})_/.exec(clientId);
    return m ? { uuid: m[1] } : {};
  }

  /** The running broker (rejects when it could not start). */
  embedded(): Promise<MerossBroker> {
    return this.ready;
  }

  connection(): Promise<MqttConnection> {
    return this.ready.then(() => {
      if (!this.conn) throw new MerossError("UNREACHABLE", "The embedded MQTT broker is stopped.");
      return this.conn;
    });
  }

  currentConnection(): MqttConnection | undefined {
    return this.closed ? undefined : this.conn;
  }

  provenWith(uuid: string, key: string): boolean {
    return !this.closed && !!uuid && this.broker?.loginKey(uuid) === key;
  }

  protected override proofChanged(uuid: string): void {
    this.broker?.recheck(uuid);
  }

  isListening(uuid: string): boolean {
    return !this.closed && !!uuid && !!this.broker && this.broker.isConnected(uuid);
  }

  endpoint(): Promise<BrokerEndpoint> {
    return this.ready.then((b) => ({ host: this.settings?.certHost ?? "", port: b.port }));
  }

  online(): boolean {
    return !this.closed && !!this.broker;
  }

  async close(reason = "the embedded MQTT broker was stopped"): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.events.emit("stopped", { reason });
    const b = await this.ready.catch(() => undefined);
    for (const off of this.offs.splice(0)) off();
    this.broker = undefined;
    const c = this.conn;
    this.conn = undefined;
    await c?.close().catch(() => undefined);
    await b?.stop();
    this.presence.clear();
    // Bindings learnt in the last moments are written before the broker goes (they are batched).
    this.identities.flush();
  }
}
