/**
 * One device as every user of it sees it: a single MerossDevice session (one request queue,
 * because devices serve one request at a time, docs/protocol.md §2.3) over the carrier the user
 * chose, kept in step with what the fleet reports about the device.
 *
 * The link chooses the carrier (HTTP, the fleet's MQTT, or "auto": MQTT while the device
 * listens on the broker, HTTP otherwise), learns the uuid from the device when none was
 * configured, follows the device's IP when the fleet sees it connect from a new one,
 * forwards pushes the broker carries while requests go over HTTP, retries a failed first
 * read while someone still wants the device, and reports its state as typed events.
 */
import { MerossDevice, type DeviceEvent } from "../session/device";
import { MerossError, asMerossError, redactError } from "../errors";
import { TypedEvents, listenerFailed, warnListenerError, type Unsubscribe } from "../events";
import { checkEncryptionMode } from "../crypto/lan";
import { deviceDisplayName } from "../naming";
import type { Envelope } from "../protocol/message";
import { UUID_RULE, isUuid } from "../protocol/rules";
import { AutoTransport } from "../transport/auto";
import type { Transport } from "../transport/types";
import { BrokerTransport, FollowingHttpTransport, followAddress } from "./transports";
import type { BrokerPresence, Fleet } from "../fleet/types";
import { watchPresence, type PresenceWatch } from "../fleet/presence";
import { pacerFor } from "../fleet/pacing";
import {
  LINK_CLOSE_BOUND_MS,
  LINK_RETRY_MS,
  type Carrier,
  type DeviceLinkEvents,
  type DeviceLinkOptions,
  type LinkStatus,
} from "./link-types";

export * from "./link-types";

const asSetupError = (err: unknown): MerossError =>
  err instanceof MerossError ? err : new MerossError("BAD_CONFIG", `These device settings cannot be used (${String(err)}).`);
export class DeviceLink {
  /** A listener's throw (a node's bug) goes to this link's log, and the link goes on. */
  readonly events = new TypedEvents<DeviceLinkEvents>((err, ev) =>
    this.opts.log ? this.opts.log(listenerFailed(err, ev)) : warnListenerError(err, ev),
  );
  readonly carrier: Carrier;
  readonly host: string;
  /** The session (undefined when the settings are unusable: see setupError). */
  readonly device: MerossDevice | undefined;
  readonly setupError: MerossError | undefined;
  /** Exactly the transports this link created; close() closes each of them once. */
  readonly created: { http?: FollowingHttpTransport; mqtt?: BrokerTransport; auto?: AutoTransport } = {};
  private readonly fleet: Fleet | undefined;
  private readonly opts: DeviceLinkOptions;
  private uuidValue: string;
  private current: LinkStatus = { state: "connecting", text: "connecting" };
  private followed: { ip: string } | undefined;
  private wanted = false;
  private closed = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** A read started by connect() is under way (arrival and retries must not start a second one). */
  private reading = false;
  private readonly offs: Unsubscribe[] = [];
  private presence: PresenceWatch = { rewatch: () => undefined, close: () => undefined };

  constructor(opts: DeviceLinkOptions) {
    this.opts = opts;
    this.carrier = opts.carrier ?? "http";
    this.host = (opts.host ?? "").trim();
    this.uuidValue = (opts.uuid ?? "").trim();
    this.fleet = opts.fleet;
    let device: MerossDevice | undefined;
    try {
      device = this.build();
    } catch (err) {
      const e = redactError(asSetupError(err), [opts.key]);
      this.setupError = e;
      this.current = { state: "error", text: e.code, error: e };
    }
    this.device = device;
    if (device) this.wire(device);
  }

  private build(): MerossDevice {
    const { carrier, host, fleet } = this;
    const where = this.opts.name ? `open "${this.opts.name}"` : "open this Meross device (meross-config)";
    if (this.uuidValue && !isUuid(this.uuidValue)) {
      const hint = "Or leave it empty to read it from the device.";
      throw new MerossError("BAD_CONFIG", `The uuid "${this.uuidValue}" is not valid: ${UUID_RULE}. ${hint}`);
    }
    if (carrier !== "http" && !fleet) {
      const fix = `${where} and pick (or add) a meross-broker, or choose the HTTP transport.`;
      throw new MerossError(
        "BAD_CONFIG",
        `Transport "${carrier}" needs an MQTT broker and this device has none (was it deleted?): ${fix}`,
        {
          status: "broker configuration missing: pick one",
        },
      );
    }
    if (carrier === "mqtt" && !this.uuidValue && !host) {
      throw new MerossError(
        "BAD_CONFIG",
        "Over MQTT the device is known by its uuid: enter it (pick the device from the broker's list), " +
          "or enter its address so the uuid can be read once over HTTP.",
        { status: "no address or key yet" },
      );
    }
    // Nothing to contact yet (an example before its device is filled in): no request goes anywhere.
    if (!host && !(fleet && this.uuidValue)) {
      throw new MerossError(
        "BAD_CONFIG",
        `This device has no address yet: ${where} and enter its IP address and key (or pick it from "Devices on the broker").`,
        { status: "no address or key yet" },
      );
    }
    // "auto" finds encrypted firmware by itself (ability list); the others force a scheme for odd devices.
    const encryption = checkEncryptionMode(this.opts.encryption === "" ? undefined : this.opts.encryption);
    const c = this.created;
    if (host) c.http = new FollowingHttpTransport(host);
    if (fleet) c.mqtt = new BrokerTransport(fleet, () => this.uuidValue, this.opts.fleetLabel);
    let first: Transport | undefined;
    if (carrier === "auto" && c.http && c.mqtt && fleet) {
      // Only a session made with this config's key: commands signed with it never go to a squatter.
      const mqttAvailable = (): boolean =>
        !!this.uuidValue && fleet.isListening(this.uuidValue) && fleet.provenWith(this.uuidValue, this.opts.key ?? "");
      c.auto = new AutoTransport({ http: c.http, mqtt: c.mqtt, mqttAvailable });
      first = c.auto;
    } else if ((carrier === "mqtt" || !c.http) && this.uuidValue) {
      first = c.mqtt;
    } else {
      first = c.http;
    }
    return new MerossDevice({ address: host || undefined, transport: first, key: this.opts.key ?? "", encryption });
  }

  private wire(device: MerossDevice): void {
    const onEvent = (ev: DeviceEvent): void => this.events.emit("event", ev);
    this.offs.push(device.events.on("event", onEvent));
    const { fleet } = this;
    const { mqtt, auto } = this.created;
    if (!fleet || !mqtt) return;
    const key = this.opts.key ?? "";
    // This device's presence only (by uuid): it arrived (read it now, not at the next retry), moved, or left.
    this.presence = watchPresence(
      fleet,
      () => this.uuidValue,
      (p) => {
        if (p) this.follow(p);
        auto?.presenceChanged();
        this.refreshReady();
        if (p?.listening && this.wanted && this.current.state !== "ready") this.connect();
      },
    );
    // With its uuid the key is that device's own: the broker then lets no other key log in under that uuid.
    this.offs.push(
      fleet.useKeys(
        this.opts.owner,
        () => (key ? [key] : []),
        () => this.uuidValue,
      ),
    );
    this.offs.push(
      this.presence.close,
      fleet.events.on("running", () => mqtt.attach()),
      // Over plain HTTP the broker still carries the device's pushes: the session follows them too.
      mqtt.events.on("push", (env) => this.forwardPush(env)),
    );
    if (auto) {
      this.offs.push(auto.switches.on("switch", () => this.refreshReady()));
    }
    if (this.uuidValue) mqtt.attach();
  }

  private forwardPush(env: Envelope): void {
    const d = this.device;
    // Over MQTT (or auto) the session hears the carrier's pushes itself; applying them twice would repeat events.
    if (!d || this.closed || d.transport === this.created.mqtt || d.transport === this.created.auto) return;
    try {
      d.handlePush(env);
    } catch {
      // A malformed push must not take the session down.
    }
  }

  get status(): LinkStatus {
    return this.current;
  }

  /** The device uuid: configured, else learnt from the device ("" until then). */
  uuid(): string {
    return this.uuidValue;
  }

  /** The path the last request took (or would take now). */
  path(): "http" | "mqtt" {
    const { auto } = this.created;
    if (auto) return auto.kind;
    return this.device?.transport.kind ?? (this.carrier === "mqtt" ? "mqtt" : "http");
  }

  /** What a person calls the device: its configured name, else model and uuid end, else its address. */
  displayName(): string {
    const info = this.device?.info;
    const uuid = this.uuidValue || info?.uuid;
    return deviceDisplayName({ name: this.opts.name, model: info?.model, uuid, address: this.currentAddress() });
  }

  /** The path requests take ("" without a fleet, where it is always HTTP), and the IP followed. */
  routeText(): string {
    if (!this.fleet) return "";
    return this.followed ? `${this.path()} · at ${this.followed.ip}` : this.path();
  }

  /** The HTTP address in use: the configured one, or where the fleet last saw the device. */
  currentAddress(): string {
    return this.created.http?.address ?? this.host;
  }

  /** The IP the fleet moved the HTTP address to, if it did. */
  followedIp(): string | undefined {
    return this.followed?.ip;
  }

  /** Someone uses the device: read it now unless ready (and retry after a failure while wanted). */
  start(): void {
    const first = !this.wanted;
    this.wanted = true;
    if (first && this.current.state !== "ready") this.connect();
  }

  /** Nobody uses the device any more: no further retries. */
  idle(): void {
    this.wanted = false;
    this.clearRetry();
  }

  /** The session after System.All/Ability have been read (read once, again after a failure). */
  async getDevice(): Promise<MerossDevice> {
    const d = this.device;
    if (!d) throw this.setupError ?? new MerossError("BAD_CONFIG", "This device has no address. Enter its IP address or host name.");
    try {
      await d.ready();
    } catch (err) {
      this.markError(err);
      throw err;
    }
    this.learnUuid(d);
    if (this.current.state !== "ready") this.markReady(d);
    return d;
  }

  private connect(): void {
    const d = this.device;
    if (this.closed || !d || this.reading) return;
    this.clearRetry();
    this.reading = true;
    // A crowd arriving at once is read a few at a time per broker (pacing.ts).
    (this.fleet ? pacerFor(this.fleet).run(() => d.ready()) : d.ready()).then(
      () => {
        this.reading = false;
        if (this.closed) return;
        this.learnUuid(d);
        this.markReady(d);
      },
      (err: unknown) => {
        this.reading = false;
        this.markError(err);
        if (this.closed || !this.wanted) return;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          if (this.wanted) this.connect();
        }, this.opts.retryMs ?? LINK_RETRY_MS);
      },
    );
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /**
   * Once the uuid is known: MQTT-only sessions leave HTTP, pushes start flowing, the IP is
   * followed. The uuid is learnt only from System.All, a reply the device signed with this
   * config's key (checkReply), so it is proof for the fleet: that uuid is this key's device.
   */
  private learnUuid(d: MerossDevice): void {
    const seen = d.info?.uuid ?? "";
    if (!this.uuidValue && isUuid(seen)) this.uuidValue = seen;
    this.presence.rewatch();
    const { mqtt } = this.created;
    if (!this.uuidValue || !mqtt || this.closed) return;
    if (seen === this.uuidValue && this.opts.key) this.fleet?.prove(seen, d.info?.mac, this.opts.key);
    if (this.carrier === "mqtt" && d.transport !== mqtt) d.setTransport(mqtt);
    mqtt.attach();
    const p = this.fleet?.device(this.uuidValue);
    if (p) this.follow(p);
  }

  /**
   * Only presence the fleet reports moves the HTTP address, and only for a session made with
   * this config's key: a client that logged in under the uuid with another key is not followed.
   */
  private follow(p: BrokerPresence): void {
    const { http } = this.created;
    if (this.closed || !this.uuidValue || p.uuid !== this.uuidValue || !p.ip || !http) return;
    if (!this.fleet?.provenWith(this.uuidValue, this.opts.key ?? "")) return;
    let moved: boolean;
    try {
      moved = http.moveTo(followAddress(this.host, p.ip));
    } catch {
      return;
    }
    if (!moved) return;
    this.followed = { ip: p.ip };
    this.opts.log?.(`device ${this.uuidValue} is now at ${p.ip} (seen by the MQTT broker); HTTP requests go there`);
    this.refreshReady();
  }

  private readyText(d: MerossDevice): string {
    const model = d.info?.model || "connected";
    const route = this.routeText();
    return route ? `${model} · ${route}` : model;
  }

  private refreshReady(): void {
    if (this.device && this.current.state === "ready") this.markReady(this.device);
  }

  private markReady(d: MerossDevice): void {
    this.setStatus({ state: "ready", text: this.readyText(d) });
  }

  private markError(err: unknown): void {
    const e = asMerossError(err);
    this.setStatus({ state: "error", text: e.code, error: e });
  }

  private setStatus(s: LinkStatus): void {
    if (this.closed) return;
    this.current = s;
    this.events.emit("state", s);
  }

  /**
   * Stops the session and closes each transport this link created exactly once: the creator of
   * a connection closes it (the session and AutoTransport close nothing they were given).
   * Resolves within the close bound.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wanted = false;
    this.clearRetry();
    for (const off of this.offs.splice(0)) off();
    this.events.clear();
    const d = this.device;
    const { http, mqtt, auto } = this.created;
    const mine = [auto, http, mqtt].filter((t): t is NonNullable<typeof t> => !!t);
    const all = Promise.all([d?.close(), ...mine.map((t) => t.close())]).then(
      () => undefined,
      () => undefined,
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((r) => {
      timer = setTimeout(r, this.opts.closeBoundMs ?? LINK_CLOSE_BOUND_MS);
    });
    await Promise.race([all, bound]);
    clearTimeout(timer);
  }
}
