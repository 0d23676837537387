/**
 * What both fleet modes share: the typed events, the presence registry, the keys the
 * broker's users know, and the secrets that must never be shown.
 */
import { TypedEvents, type Unsubscribe } from "../events";
import { IdentityBook } from "../broker/identity";
import type { MqttConnection } from "../transport/mqtt";
import { verifySign, type Envelope } from "../protocol/message";
import { PushFreshness } from "../protocol/freshness";
import { isUuid, macFromUuid, macMatchesUuid } from "../protocol/rules";
import { ReportLimiter, REPORTS_PER_MINUTE } from "../rate-limit";
import { KeyRing } from "./keys";
import { PresenceRegistry, type IdentityBinding } from "./presence";
import type { BrokerEndpoint, BrokerPresence, BrokerRefusal, Fleet, FleetEvents } from "./types";

/** How far a fleet trusts what devices claim. */
export interface FleetTrust {
  /** Believe devices that use the empty key (logins, signatures). Default false: anyone can compute it. */
  acceptEmptyKey?: boolean;
  /** Where each uuid's MAC and key binding is kept across restarts (undefined: this run only). */
  identityFile?: string;
}

/** Refused logins and ignored messages reported as events per minute; the rest are only counted. */
export const REFUSALS_REPORTED_PER_MINUTE = REPORTS_PER_MINUTE;
const RECENT_REFUSALS = 20;

export abstract class FleetBase implements Fleet {
  abstract readonly mode: "embedded" | "existing";
  readonly events = new TypedEvents<FleetEvents>();
  protected readonly presence = new PresenceRegistry(this.events);
  protected readonly keys = new KeyRing();
  /** Per device: the newest push timestamp and recent messageIds, so stale or replayed pushes are dropped. */
  protected readonly freshness = new PushFreshness();
  protected readonly identities: IdentityBook;
  protected readonly acceptEmptyKey: boolean;
  protected closed = false;
  private turnedAway = 0;
  private readonly recent: BrokerRefusal[] = [];
  private readonly limiter = new ReportLimiter(REFUSALS_REPORTED_PER_MINUTE);

  constructor(
    protected readonly secretTexts: readonly string[] = [],
    trust: FleetTrust = {},
  ) {
    this.acceptEmptyKey = trust.acceptEmptyKey === true;
    this.identities = new IdentityBook(trust.identityFile);
  }

  /**
   * Counts a refused login or an ignored message and reports it as a "refused" event, at most
   * REFUSALS_REPORTED_PER_MINUTE a minute: a flood must not flood the log too.
   */
  protected turnAway(r: BrokerRefusal, now = Date.now()): void {
    this.turnedAway++;
    this.recent.push({ ...r });
    if (this.recent.length > RECENT_REFUSALS) this.recent.shift();
    const { report, held } = this.limiter.take(now);
    if (held > 0)
      this.events.emit("refused", { clientId: "", username: "", ip: "", reason: `${held} more were turned away without being logged` });
    if (report) this.events.emit("refused", { ...r });
  }

  /**
   * Why a PUSH from `uuid` must be ignored, or undefined to believe it: it must be signed with
   * `loginKey` (the key the device proved at login), else with a key known for that device, and
   * be fresh (protocol/freshness.ts). A System.Clock push only asks for the time, which a device
   * with a wrong clock needs most: its timestamp is not judged (nor that of a Bind), its messageId is.
   */
  protected pushProblem(uuid: string, env: Envelope, loginKey?: string): string | undefined {
    if (env.header.method === "PUSH") {
      // The login key when there is one (embedded broker: every push), without asking every user for its keys.
      const named = loginKey !== undefined ? [] : this.keys.named(uuid);
      const keys =
        loginKey !== undefined ? [loginKey] : named.length > 0 ? named : this.acceptEmptyKey ? [...this.keys.all(), ""] : this.keys.all();
      if (!keys.some((k) => verifySign(env.header, k))) return "a push not signed with that device's key";
    }
    const judged = env.header.method === "PUSH" && env.header.namespace !== "Appliance.System.Clock";
    const header = judged ? env.header : { messageId: env.header.messageId };
    const stale = this.freshness.check(uuid, header);
    return stale === undefined ? undefined : `a stale or replayed message: ${stale}`;
  }

  /** Logins refused and messages ignored since the start, with the latest few (never a key or password). */
  refusals(): { count: number; recent: BrokerRefusal[] } {
    return { count: this.turnedAway, recent: this.recent.map((r) => ({ ...r })) };
  }

  abstract connection(): Promise<MqttConnection>;
  abstract currentConnection(): MqttConnection | undefined;
  abstract isListening(uuid: string): boolean;
  abstract endpoint(): Promise<BrokerEndpoint>;
  /** True while the broker (embedded) or the connection to it (existing) is up. */
  abstract online(): boolean;
  /** Stops the broker or the connection; safe to call twice. */
  abstract close(reason?: string): Promise<void>;

  devices(): BrokerPresence[] {
    return this.presence.list();
  }

  device(uuid: string): BrokerPresence | undefined {
    return this.presence.get(uuid);
  }

  /** How many devices are present (without copying the list). */
  get deviceCount(): number {
    return this.presence.size;
  }

  watchDevice(uuid: string, listener: (p: BrokerPresence | undefined) => void): Unsubscribe {
    return this.presence.byUuid.on(uuid, listener);
  }

  /** Listeners following one device's presence (watchDevice); every uuid's when omitted. */
  watcherCount(uuid?: string): number {
    return this.presence.byUuid.listenerCount(uuid);
  }

  /** The identity a device last proved (MAC, whose key); kept across reconnections, forgotten on close. */
  binding(uuid: string): IdentityBinding | undefined {
    return this.presence.binding(uuid);
  }

  useKeys(owner: string, keys: () => readonly string[], uuid?: () => string): Unsubscribe {
    const off = this.keys.use(owner, keys, uuid);
    let named: string;
    try {
      named = uuid?.() ?? "";
    } catch {
      named = "";
    }
    // A node now names this uuid's key: a live unproven session made with another key goes.
    if (named) this.proofChanged(named);
    return off;
  }

  abstract provenWith(uuid: string, key: string): boolean;

  prove(uuid: string, mac: string | undefined, key: string): void {
    if (this.closed || !key || !isUuid(uuid)) return;
    // Firmware's uuid ends with its MAC (docs/protocol.md §7): a reply saying otherwise proves nothing.
    const m = macFromUuid(uuid);
    if (!m || (mac && !macMatchesUuid(mac, uuid))) return;
    this.identities.learn(uuid, m, key, "device");
    this.proofChanged(uuid);
  }

  /** A live session of `uuid` made with another key than the proven one is closed (embedded broker). */
  protected proofChanged(uuid: string): void {
    void uuid;
  }

  secrets(): string[] {
    return this.secretTexts.filter((s) => s !== "");
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
