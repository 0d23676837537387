/**
 * One Meross device session: a transport, the encryption layer, a serial queue and the
 * state the capability reducers keep (read-only from outside). Nodes, the CLI and the
 * benchmarks all go through this class, so every face of the product behaves the same;
 * what a device can do lives in src/core/capabilities, one module per namespace family.
 */
import { MerossError, explain } from "../errors";
import { TypedEvents, type Unsubscribe } from "../events";
import { buildMessage, checkReply, verifySign, type Envelope, type Method } from "../protocol/message";
import { isNamespace, uuidFromPublishTopic } from "../protocol/rules";
import { PushFreshness } from "../protocol/freshness";
import { SerialQueue } from "../queue";
import { HttpTransport } from "../transport/http";
import { HTTP_TIMEOUT_MS, type Transport } from "../transport/types";
import { EncryptionLayer, type Call } from "../crypto/layer";
import { checkEncryptionMode, type EncryptionMode, type EncryptionScheme } from "../crypto/lan";
import { composeCapabilities, reduceEnvelope } from "../capabilities/registry";
import { applySystem, learnIdentity, parseAbility, readDigest, readSystem, type DeviceInfo } from "../capabilities/system";
import { getToggle, isLegacyToggle, setToggle, type ChannelState } from "../capabilities/toggle";
import { getLight, lightCapacity, setLight, type LightCommand, type LightState } from "../capabilities/light";
import type { Abilities, DeviceSession, DeviceState, MutableDeviceState, RequestOptions, Update } from "../capabilities/types";
import { scopedSession } from "./scoped";
import {
  ALWAYS_ALLOWED,
  DEADLINE_GRACE_MS,
  DEADLINE_TIMEOUTS,
  MAX_PUSH_EVENTS,
  NO_ANSWER,
  NS,
  type CommandOptions,
  type DeviceEventMap,
  type DeviceOptions,
} from "./types";

export type { DeviceEvent, RequestOptions } from "../capabilities/types";
export * from "./types";

export class MerossDevice implements DeviceSession {
  readonly address: string;
  readonly events = new TypedEvents<DeviceEventMap>();
  private ignored = 0;
  private readonly freshness = new PushFreshness();
  private duringRead?: Envelope[]; // pushes applied while refresh() reads: replayed over that older read
  private transportImpl: Transport;
  /** The transport this session created (from an address), the only one it closes. */
  private owned: Transport | undefined;
  private keyValue: string;
  private readonly timeoutMs: number;
  private readonly from: string;
  private readonly queue: SerialQueue;
  private readyPromise: Promise<DeviceInfo> | undefined;
  private readonly crypto: EncryptionLayer;
  private readonly accessPoint: boolean;
  private readonly acceptKeys: readonly string[];
  private readonly verifyPushes: boolean;
  private readonly verifyReplies: boolean;
  private readonly stateValue: MutableDeviceState = { toggles: new Map() };
  /** uuid learnt from a reply header before System.All could be read (encrypted firmware). */
  private uuidHint: string | undefined;
  private unsubscribePush: Unsubscribe | undefined;
  private closed = false; // by close(): nothing new is accepted after it

  constructor(opts: DeviceOptions) {
    if (!opts.transport && !opts.address) {
      throw new MerossError("BAD_INPUT", "No device address was given. Enter the device's IP address or host name, optionally with :port.");
    }
    if (!opts.transport) this.owned = new HttpTransport(opts.address as string, { timeoutMs: opts.timeoutMs, ...opts.http });
    this.transportImpl = opts.transport ?? (this.owned as Transport);
    this.address = opts.address ?? this.transportImpl.address;
    this.queue = new SerialQueue({ host: this.address });
    this.keyValue = opts.key ?? "";
    this.timeoutMs = opts.timeoutMs ?? HTTP_TIMEOUT_MS;
    this.from = opts.from ?? "MerossLocal";
    this.accessPoint = opts.accessPoint === true;
    this.acceptKeys = (opts.acceptKeys ?? []).filter((k) => typeof k === "string");
    this.verifyPushes = opts.verifyPushes !== false;
    this.verifyReplies = opts.verifyReplies !== false;
    this.crypto = new EncryptionLayer(this.encryptionHost(), checkEncryptionMode(opts.encryption), this.accessPoint);
    this.listenTo(this.transportImpl);
  }

  // ---- state (read-only from outside) ------------------------------------------------

  get state(): DeviceState {
    return this.stateValue;
  }

  get info(): DeviceInfo | undefined {
    return this.stateValue.info;
  }

  get abilities(): Readonly<Abilities> | undefined {
    return this.stateValue.abilities;
  }

  /** Last known on/off per channel, from replies we got or commands that succeeded. */
  get toggles(): ReadonlyMap<number, boolean> {
    return this.stateValue.toggles;
  }

  get light(): Readonly<LightState> | undefined {
    return this.stateValue.light;
  }

  /** Pushes dropped because their sign did not match the device key. */
  get ignoredPushes(): number {
    return this.ignored;
  }

  /** The device uuid: from System.All, else a reply header, else the transport it is bound to. */
  get uuid(): string | undefined {
    return this.stateValue.info?.uuid || this.uuidHint || this.transportImpl.uuid || undefined;
  }

  commit(update: Update): void {
    for (const ev of update(this.stateValue)) this.events.emit("event", ev);
  }

  /** Identity and abilities read outside refresh() (onboarding reads them step by step). */
  learn(info: DeviceInfo | undefined, abilities?: Abilities): void {
    this.commit(learnIdentity(info, abilities));
  }

  // ---- transport and keys ------------------------------------------------------------

  /** The encryption setting this session was created with. */
  get encryptionMode(): EncryptionMode {
    return this.crypto.mode;
  }

  /** The key scheme in use once the session encrypts (§4.3), undefined while plaintext. */
  get encryptionScheme(): EncryptionScheme | undefined {
    return this.crypto.scheme;
  }

  get transport(): Transport {
    return this.transportImpl;
  }

  private listenTo(t: Transport): void {
    this.unsubscribePush?.();
    this.unsubscribePush = t.events.on("push", (env) => {
      try {
        this.handlePush(env);
      } catch {
        // A malformed PUSH is the device's problem, never a crash of ours.
      }
    });
  }

  /**
   * Swaps the carrier (HTTP ↔ MQTT) without losing the queue or what we learnt. The new
   * transport stays the caller's; one this session created is closed once it is dropped.
   */
  setTransport(t: Transport): void {
    if (t === this.transportImpl) return;
    const dropped = this.owned;
    this.owned = undefined;
    this.transportImpl = t;
    this.listenTo(t);
    void dropped?.close().catch(() => undefined);
  }

  /**
   * The key changes after onboarding (Config.Key); later requests are signed with it. The
   * static LAN key is derived from it, so that follows; an ECDHE session key does not.
   */
  setKey(key: string): void {
    this.keyValue = key;
    this.crypto.deviceKeyChanged();
  }

  /** Requests queued or in flight. */
  get pending(): number {
    return this.queue.size;
  }

  /**
   * Sends one signed request and returns the checked reply (errors become MerossErrors).
   * `opts.timeoutMs` bounds the whole request, waiting in the queue included (default
   * DEADLINE_TIMEOUTS × the session timeout); `opts.signal` drops it while it waits.
   */
  request(method: Method, namespace: string, payload: Record<string, unknown> = {}, opts: RequestOptions = {}): Promise<Envelope> {
    if (typeof namespace !== "string" || !isNamespace(namespace)) {
      return Promise.reject(
        new MerossError("BAD_INPUT", `"${String(namespace)}" is not a Meross namespace. Namespaces look like Appliance.Control.ToggleX.`),
      );
    }
    const where = { host: this.address, namespace, method };
    if (this.closed)
      return Promise.reject(new MerossError("CANCELLED", explain.sessionClosed(this.address, `${method} ${namespace}`), where));
    const abilities = this.stateValue.abilities;
    if ((opts.checkAbility ?? true) && abilities && !ALWAYS_ALLOWED.has(namespace) && !(namespace in abilities)) {
      return Promise.reject(
        new MerossError(
          "UNSUPPORTED",
          explain.unsupported(this.address, method, namespace, `it is not in the ability list of this ${this.info?.model ?? "device"}`),
          { host: this.address, namespace, method },
        ),
      );
    }
    const deadlineMs = opts.timeoutMs ?? this.timeoutMs * DEADLINE_TIMEOUTS;
    const queuedAt = performance.now();
    return this.queue.run(
      async (signal) => {
        this.events.emit("busy", true);
        // The transport's own timeout never outlasts what is left of the deadline.
        const left = Math.max(1, deadlineMs - (performance.now() - queuedAt));
        const timeoutMs = Math.min(opts.timeoutMs ?? this.timeoutMs, left);
        try {
          return await this.crypto.send(method, namespace, payload, { timeoutMs, signal });
        } catch (err) {
          // No answer at all: the requests behind this one are not each sent into the same silence.
          if (err instanceof MerossError && NO_ANSWER.has(err.code)) this.queue.failFast(err);
          throw err;
        } finally {
          this.events.emit("busy", false);
        }
      },
      { signal: opts.signal, deadlineMs: deadlineMs + DEADLINE_GRACE_MS, label: `${method} ${namespace}` },
    );
  }

  /** This session for one owner: its requests carry `signal`, dropped while waiting when the owner closes (no signal: itself). */
  scoped(signal: AbortSignal | undefined): DeviceSession {
    return signal ? scopedSession(this, signal) : this;
  }

  /** Encrypts with `scheme` from now on ("off": plaintext again); onboarding calls it for ECDHE, "auto" sessions by themselves. */
  useEncryption(scheme: EncryptionScheme | "off"): Promise<void> {
    return this.queue.run(
      async (signal) => {
        if (scheme === "off") this.crypto.stop();
        else await this.crypto.use(scheme, { timeoutMs: this.timeoutMs, signal });
      },
      { label: `Setting up encryption (${scheme})` },
    );
  }

  /**
   * The keys a reply may be signed with: the session's; the new one answering a SET
   * Config.Key (the device may switch before replying, §3.2); "" while in access-point mode;
   * and the keys the caller said to accept (`acceptKeys`).
   */
  private replyKeys(request: Envelope): string[] | undefined {
    if (!this.verifyReplies) return undefined;
    const keys = [this.keyValue];
    const { method, namespace } = request.header;
    const next = (request.payload.key as { key?: unknown } | undefined)?.key;
    if (method === "SET" && namespace === NS.KEY && typeof next === "string") keys.push(next);
    if (this.accessPoint) keys.push("");
    keys.push(...this.acceptKeys);
    return [...new Set(keys)];
  }

  private async sendOnce(
    method: Method,
    namespace: string,
    payload: Record<string, unknown>,
    { timeoutMs, signal }: Call,
    encryptionKey: string | undefined,
  ): Promise<Envelope> {
    const sign = () => buildMessage({ method, namespace, payload, key: this.keyValue, from: this.from });
    let req = sign();
    const resend = () => (req = sign());
    // A task its queue gave up on sends nothing more (the encryption layer may try again).
    if (signal?.aborted)
      throw signal.reason instanceof MerossError ? signal.reason : new MerossError("CANCELLED", explain.cancelled(this.address, namespace));
    const reply = await this.transportImpl.send(req, { timeoutMs, resend, encryptionKey, signal });
    // Any answer, even a device ERROR, shows the device is there: queued requests go out again.
    this.queue.resume();
    return checkReply(req, reply, this.address, { keys: this.replyKeys(req) });
  }

  private encryptionHost(): ConstructorParameters<typeof EncryptionLayer>[0] {
    return {
      address: this.address,
      sendOnce: (m, ns, p, t, k) => this.sendOnce(m, ns, p, t, k),
      identity: () => ({ uuid: this.uuid, mac: this.info?.mac }),
      abilities: () => this.stateValue.abilities,
      learnAbility: (reply) => {
        this.noteUuid(reply);
        this.commit(learnIdentity(undefined, parseAbility(reply.payload)));
      },
      deviceKey: () => this.keyValue,
      started: (scheme) => this.events.emit("encryption", { scheme }),
    };
  }

  /** Devices sign every reply with `from: /appliance/<uuid>/publish` and often `uuid` (§1.4). */
  private noteUuid(reply: Envelope): void {
    const h = reply.header;
    const fromTopic = typeof h.from === "string" ? uuidFromPublishTopic(h.from) : undefined;
    const uuid = typeof h.uuid === "string" && h.uuid ? h.uuid : fromTopic;
    if (uuid) this.uuidHint = uuid;
  }

  /** Reads System.All (handed to every capability's digest hook) and System.Ability; ready() does it once. */
  async refresh(): Promise<DeviceInfo> {
    const during: Envelope[] = (this.duringRead = []);
    try {
      const { all, abilities } = await readSystem(this);
      // Identity first: the static LAN key is derived from the uuid and MAC.
      this.commit(learnIdentity(all.info, abilities));
      // The device answered in plaintext but lists encryption: encrypt from now on (§4.2).
      if (this.crypto.shouldUpgrade()) await this.useEncryption(this.crypto.autoScheme());
      this.commit(applySystem(all, abilities, composeCapabilities(abilities)));
      // A push applied meanwhile (a key exchange takes a while) is newer than that read: it wins.
      for (const env of during) this.commit(reduceEnvelope(composeCapabilities(abilities), env, "push") ?? (() => []));
      return all.info;
    } finally {
      // A failed or aborted read too: else every later push would be kept for a replay that never comes.
      if (this.duringRead === during) this.duringRead = undefined;
    }
  }

  /** refresh() once; later callers share the result. A failure is not cached. */
  ready(): Promise<DeviceInfo> {
    if (!this.readyPromise) {
      this.readyPromise = this.refresh().catch((err: unknown) => {
        this.readyPromise = undefined;
        throw err;
      });
    }
    return this.readyPromise;
  }

  /** DeviceSession.rereadDigest (after ready()): System.All again, through every capability's digest hook. */
  async rereadDigest(): Promise<void> {
    this.commit(await readDigest(this, composeCapabilities(this.stateValue.abilities)));
  }

  has(namespace: string): boolean {
    return !!this.stateValue.abilities && namespace in this.stateValue.abilities;
  }

  /** Ability capacity of the light (1 RGB, 2 temperature, 4 luminance), 0 when not a light. */
  get lightCapacity(): number {
    return lightCapacity(this);
  }

  /** Whether on/off goes through legacy Control.Toggle (old MT7688 firmware) instead of ToggleX. */
  get legacyToggle(): boolean {
    return isLegacyToggle(this);
  }

  getToggle(channel = 0, opts: CommandOptions = {}): Promise<ChannelState> {
    return getToggle(this.scoped(opts.signal), channel);
  }

  setToggle(channel: number, on: boolean | "toggle", opts: CommandOptions = {}): Promise<ChannelState> {
    return setToggle(this.scoped(opts.signal), channel, on);
  }

  getLight(opts: CommandOptions = {}): Promise<LightState> {
    return getLight(this.scoped(opts.signal));
  }

  setLight(cmd: LightCommand & { on?: boolean }, opts: CommandOptions = {}): Promise<LightState> {
    return setLight(this.scoped(opts.signal), cmd);
  }

  /**
   * Applies a PUSH the device sent (over MQTT) through the capability that owns its namespace.
   * Unsigned, stale or replayed (protocol/freshness.ts; a retained 2020 push included): counted
   * in ignoredPushes, never live state. Returns whether the push was understood.
   */
  handlePush(env: Envelope): boolean {
    if (env.header.method !== "PUSH") return false;
    const bad = this.verifyPushes && !verifySign(env.header, this.keyValue);
    if (bad || this.freshness.check(this.uuid ?? "", env.header) !== undefined) {
      this.ignored++;
      return false;
    }
    const update = reduceEnvelope(composeCapabilities(this.stateValue.abilities), env, "push");
    if (!update) return false;
    if (this.duringRead && this.duringRead.length < MAX_PUSH_EVENTS) this.duringRead.push(env);
    // One push changes at most MAX_PUSH_EVENTS items: a 64 KB list must not become thousands of messages.
    for (const ev of update(this.stateValue).slice(0, MAX_PUSH_EVENTS)) this.events.emit("event", ev);
    return true;
  }

  /**
   * Drops every request still waiting (CANCELLED: nothing more is sent), refuses new ones, stops listening and
   * closes the transport if this session created it (never one it was given).
   */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.clear();
    this.events.clear();
    this.unsubscribePush?.();
    this.unsubscribePush = undefined;
    const owned = this.owned;
    this.owned = undefined;
    await owned?.close();
  }
}
