/**
 * One Meross device session: a serial queue, a transport, the signing key and what the
 * device told us about itself (System.All + System.Ability). Nodes, the CLI and the
 * benchmarks all go through this class, so every face of the product behaves the same.
 */
import { EventEmitter } from "node:events";
import { MerossError, explain } from "./errors";
import { buildMessage, checkReply, type Envelope, type Method } from "./protocol/message";
import { HttpTransport, isDroppedConnection, type HttpTransportOptions } from "./transport/http";
import { HTTP_TIMEOUT_MS, type Transport } from "./transport/types";
import { SerialQueue } from "./queue";
import { macFromUuid, parseAbility, parseSystemAll, type DeviceInfo } from "./codecs/system";
import { ecdhKeyPair, ecdhSessionKey, staticLanKey } from "./crypto/aes";
import {
  NS_ENCRYPT_ECDHE,
  checkEncryptionMode,
  requiresEncryption,
  type EncryptionMode,
  type EncryptionScheme,
} from "./crypto/lan";
import {
  buildToggleSet,
  buildToggleXSet,
  parseTogglePayload,
  parseToggleXPayload,
  type ChannelState,
} from "./codecs/toggle";
import { LIGHT_CAPACITY, buildLightSet, parseLightPayload, type LightCommand, type LightState } from "./codecs/light";
import { parseConsumptionX, parseElectricity } from "./codecs/electricity";

export const NS = {
  ALL: "Appliance.System.All",
  ABILITY: "Appliance.System.Ability",
  TOGGLEX: "Appliance.Control.ToggleX",
  TOGGLE: "Appliance.Control.Toggle",
  LIGHT: "Appliance.Control.Light",
  ELECTRICITY: "Appliance.Control.Electricity",
  CONSUMPTIONX: "Appliance.Control.ConsumptionX",
  WIFILIST: "Appliance.Config.WifiList",
  WIFI: "Appliance.Config.Wifi",
  WIFIX: "Appliance.Config.WifiX",
  KEY: "Appliance.Config.Key",
  TIME: "Appliance.System.Time",
  MULTIPLE: "Appliance.Control.Multiple",
} as const;

/** Namespaces every firmware answers even before we know its ability list. */
const ALWAYS_ALLOWED = new Set<string>([NS.ALL, NS.ABILITY]);

export interface DeviceOptions {
  /** `host`, `host:port` or a URL; used when no transport is given. */
  address?: string;
  transport?: Transport;
  key?: string;
  /** Default per-request timeout. */
  timeoutMs?: number;
  http?: HttpTransportOptions;
  /** `from` header; any non-empty string works over HTTP (protocol.md §1.4). */
  from?: string;
  /**
   * LAN encryption (protocol.md §4). "auto" (default) sends plaintext until the ability list
   * shows Encrypt.ECDHE / Encrypt.Suite, or a plaintext request is dropped, then encrypts
   * everything; "static" / "ecdhe" force a key scheme; "off" never encrypts.
   */
  encryption?: EncryptionMode;
  /**
   * The device is in access-point (pairing) mode: "auto" then prefers the ECDHE exchange,
   * which is what setup tools do there (§4.3 b); configured devices get the static key (a).
   */
  accessPoint?: boolean;
}

/** Payload of the "encryption" event: the device session started encrypting. */
export interface EncryptionEvent {
  scheme: EncryptionScheme;
}

export interface RequestOptions {
  timeoutMs?: number;
  /** Refuse namespaces missing from the ability list before sending (default true once known). */
  checkAbility?: boolean;
}

/** What changed; `source` says whether it came from our own command or the device's PUSH. */
export type DeviceEvent =
  | { type: "toggle"; channel: number; on: boolean; source?: "push" | "reply" }
  | { type: "light"; light: LightState; source?: "push" | "reply" }
  | { type: "info"; info: DeviceInfo }
  | { type: "online"; online: boolean; source?: "push" | "broker" };

export interface DeviceStatus {
  state: "idle" | "busy" | "ok" | "error";
  error?: MerossError;
}

export class MerossDevice extends EventEmitter {
  readonly address: string;
  private transportImpl: Transport;
  private keyValue: string;
  private readonly timeoutMs: number;
  private readonly from: string;
  private readonly queue = new SerialQueue();
  private readyPromise: Promise<DeviceInfo> | undefined;
  private readonly encryptionModeValue: EncryptionMode;
  private readonly accessPoint: boolean;
  private encryptionKey: string | undefined;
  private scheme: EncryptionScheme | undefined;
  private ecdheTried = false;
  /** uuid learnt from a reply header before System.All could be read (encrypted firmware). */
  private uuidHint: string | undefined;
  private readonly onPush = (env: Envelope): void => {
    try {
      this.handlePush(env);
    } catch {
      // A malformed PUSH is the device's problem, never a crash of ours.
    }
  };

  info: DeviceInfo | undefined;
  abilities: Record<string, Record<string, unknown>> | undefined;
  /** Last known on/off per channel, from replies we got or commands that succeeded. */
  readonly toggles = new Map<number, boolean>();
  light: LightState | undefined;

  constructor(opts: DeviceOptions) {
    super();
    if (!opts.transport && !opts.address) {
      throw new MerossError("BAD_INPUT", "No device address was given. Enter the device's IP address or host name, optionally with :port.");
    }
    this.transportImpl = opts.transport ?? new HttpTransport(opts.address as string, { timeoutMs: opts.timeoutMs, ...opts.http });
    this.address = opts.address ?? this.transportImpl.address;
    this.keyValue = opts.key ?? "";
    this.timeoutMs = opts.timeoutMs ?? HTTP_TIMEOUT_MS;
    this.from = opts.from ?? "MerossLocal";
    this.encryptionModeValue = checkEncryptionMode(opts.encryption);
    this.accessPoint = opts.accessPoint === true;
    this.transportImpl.on?.("push", this.onPush);
  }

  /** The encryption setting this session was created with. */
  get encryptionMode(): EncryptionMode {
    return this.encryptionModeValue;
  }

  /** The key scheme in use once the session encrypts (protocol.md §4.3), undefined while plaintext. */
  get encryptionScheme(): EncryptionScheme | undefined {
    return this.encryptionKey ? this.scheme : undefined;
  }

  get transport(): Transport {
    return this.transportImpl;
  }

  /** Swaps the carrier (HTTP ↔ MQTT) without losing the queue or what we learnt. */
  setTransport(t: Transport): void {
    this.transportImpl.off?.("push", this.onPush);
    this.transportImpl = t;
    t.on?.("push", this.onPush);
    this.shareKeyWithTransport();
  }

  /**
   * The key changes after onboarding (Config.Key); later requests are signed with it. The
   * static LAN key is derived from it, so that follows; an ECDHE session key does not.
   */
  setKey(key: string): void {
    this.keyValue = key;
    if (this.encryptionKey && this.scheme === "static") this.deriveStaticKey();
  }

  /** Requests queued or in flight. */
  get pending(): number {
    return this.queue.size;
  }

  /** Sends one signed request and returns the checked reply (errors become MerossErrors). */
  request(method: Method, namespace: string, payload: Record<string, unknown> = {}, opts: RequestOptions = {}): Promise<Envelope> {
    if (typeof namespace !== "string" || !/^Appliance(\.[A-Za-z0-9]+)+$/.test(namespace)) {
      return Promise.reject(
        new MerossError("BAD_INPUT", `"${String(namespace)}" is not a Meross namespace. Namespaces look like Appliance.Control.ToggleX.`),
      );
    }
    if ((opts.checkAbility ?? true) && this.abilities && !ALWAYS_ALLOWED.has(namespace) && !(namespace in this.abilities)) {
      return Promise.reject(
        new MerossError(
          "UNSUPPORTED",
          explain.unsupported(this.address, method, namespace, `it is not in the ability list of this ${this.info?.model ?? "device"}`),
          { host: this.address, namespace, method },
        ),
      );
    }
    return this.queue.run(async () => {
      this.emit("busy", true);
      try {
        return await this.exchange(method, namespace, payload, opts.timeoutMs ?? this.timeoutMs);
      } finally {
        this.emit("busy", false);
      }
    });
  }

  /**
   * Starts encrypting with the given scheme now ("off" goes back to plaintext). Onboarding
   * calls it for the ECDHE exchange; "auto" sessions get here by themselves.
   */
  useEncryption(scheme: EncryptionScheme | "off"): Promise<void> {
    return this.queue.run(async () => {
      if (scheme === "off") {
        this.encryptionKey = undefined;
        this.scheme = undefined;
        this.shareKeyWithTransport();
        return;
      }
      await this.setupScheme(scheme, this.timeoutMs);
    });
  }

  private async sendOnce(method: Method, namespace: string, payload: Record<string, unknown>, timeoutMs: number, encryptionKey: string | undefined): Promise<Envelope> {
    const sign = () => buildMessage({ method, namespace, payload, key: this.keyValue, from: this.from });
    let req = sign();
    const resend = () => (req = sign());
    const reply = await this.transportImpl.send(req, { timeoutMs, resend, encryptionKey });
    return checkReply(req, reply, this.address);
  }

  /** One request with the current encryption, recovering once per cause from a dropped connection. */
  private async exchange(method: Method, namespace: string, payload: Record<string, unknown>, timeoutMs: number): Promise<Envelope> {
    const mode = this.encryptionModeValue;
    if (!this.encryptionKey && (mode === "static" || mode === "ecdhe")) await this.setupScheme(mode, timeoutMs);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.sendOnce(method, namespace, payload, timeoutMs, this.encryptionKey);
      } catch (err) {
        if (attempt >= 2 || !(await this.recover(err, namespace, timeoutMs))) throw err;
      }
    }
  }

  /**
   * protocol.md §4.2 "safe approach": a plaintext request that gets a dropped connection is
   * followed by System.Ability in plaintext (answered by every firmware); when it lists
   * Encrypt.ECDHE/Suite the request is retried encrypted. A static key that is dropped too
   * falls back to the ECDHE exchange when the device offers it. Returns whether to retry.
   */
  private async recover(err: unknown, namespace: string, timeoutMs: number): Promise<boolean> {
    if (this.encryptionModeValue === "off" || !isDroppedConnection(err)) return false;
    if (!this.encryptionKey) {
      if (namespace === NS.ABILITY) return false;
      let ability: Envelope;
      try {
        ability = await this.sendOnce("GET", NS.ABILITY, {}, timeoutMs, undefined);
      } catch (abilityErr) {
        // A 5001 here explains the whole failure better than the dropped connection did.
        if (abilityErr instanceof MerossError && abilityErr.code === "WRONG_KEY") throw abilityErr;
        return false;
      }
      this.noteUuid(ability);
      this.abilities = parseAbility(ability.payload);
      if (!requiresEncryption(this.abilities)) return false;
      await this.setupScheme(this.autoScheme(), timeoutMs);
      return true;
    }
    if (this.encryptionModeValue === "auto" && this.scheme === "static" && !this.ecdheTried && this.has(NS_ENCRYPT_ECDHE)) {
      await this.setupScheme("ecdhe", timeoutMs);
      return true;
    }
    return false;
  }

  /**
   * What "auto" picks: the static key (a) for configured devices, as [ML] does with real
   * mss110 fw 7.3.x (§4.3); the ECDHE exchange (b) in access-point mode when offered.
   */
  private autoScheme(): EncryptionScheme {
    const forced = this.encryptionModeValue;
    if (forced === "static" || forced === "ecdhe") return forced;
    return this.accessPoint && this.has(NS_ENCRYPT_ECDHE) ? "ecdhe" : "static";
  }

  private async setupScheme(scheme: EncryptionScheme, timeoutMs: number): Promise<void> {
    if (scheme === "static") {
      if (!this.info?.uuid && !this.uuidHint) {
        // The static key needs the uuid; Ability is the one namespace answered in plaintext.
        const ability = await this.sendOnce("GET", NS.ABILITY, {}, timeoutMs, undefined);
        this.noteUuid(ability);
        this.abilities ??= parseAbility(ability.payload);
      }
      this.scheme = "static";
      this.deriveStaticKey();
    } else {
      this.ecdheTried = true;
      const pair = ecdhKeyPair();
      // Sent in plaintext: there is no key yet (§4.3 b, step 2).
      const reply = await this.sendOnce("SET", NS_ENCRYPT_ECDHE, { ecdhe: { step: 1, pubkey: pair.publicKeyBase64 } }, timeoutMs, undefined);
      const ecdhe = reply.payload.ecdhe as { pubkey?: unknown } | undefined;
      if (typeof ecdhe?.pubkey !== "string" || ecdhe.pubkey === "") {
        throw new MerossError(
          "BAD_RESPONSE",
          explain.badResponse(this.address, "the key exchange reply (Appliance.Encrypt.ECDHE) carries no public key"),
          { host: this.address, namespace: NS_ENCRYPT_ECDHE, reply },
        );
      }
      this.encryptionKey = ecdhSessionKey(pair.privateKey, ecdhe.pubkey);
      this.scheme = "ecdhe";
    }
    this.shareKeyWithTransport();
    this.emit("encryption", { scheme } satisfies EncryptionEvent);
  }

  private deriveStaticKey(): void {
    const uuid = this.info?.uuid || this.uuidHint || "";
    const mac = this.info?.mac || macFromUuid(uuid) || "";
    if (!uuid || !mac) {
      throw new MerossError(
        "BAD_RESPONSE",
        `The device at ${this.address} needs encrypted requests, but its uuid and MAC address could not be learnt, so no encryption key can be derived. ` +
          `Check that this is a Meross device, or set encryption to "ecdhe" for it.`,
        { host: this.address },
      );
    }
    this.encryptionKey = staticLanKey(uuid, this.keyValue, mac);
  }

  /** Devices sign every reply with `from: /appliance/<uuid>/publish` and often `uuid` (§1.4). */
  private noteUuid(reply: Envelope): void {
    const h = reply.header;
    const fromTopic = typeof h.from === "string" ? /^\/appliance\/([^/]+)\/publish$/.exec(h.from)?.[1] : undefined;
    const viaTransport = (this.transportImpl as Transport & { uuid?: unknown }).uuid;
    const uuid = typeof h.uuid === "string" && h.uuid ? h.uuid : fromTopic ?? (typeof viaTransport === "string" ? viaTransport : undefined);
    if (uuid) this.uuidHint = uuid;
  }

  /** MQTT must know the key before the first encrypted push arrives. */
  private shareKeyWithTransport(): void {
    const t = this.transportImpl as Transport & { setEncryptionKey?: (key: string | undefined) => void };
    t.setEncryptionKey?.(this.encryptionKey);
  }

  /** Reads System.All and System.Ability: identity, capabilities and current state. */
  async refresh(): Promise<DeviceInfo> {
    const all = await this.request("GET", NS.ALL, {}, { checkAbility: false });
    const parsed = parseSystemAll(all.payload);
    const ability = await this.request("GET", NS.ABILITY, {}, { checkAbility: false });
    this.abilities = parseAbility(ability.payload);
    this.info = parsed.info;
    if (!this.encryptionKey && this.encryptionModeValue === "auto" && requiresEncryption(this.abilities)) {
      // The device answered in plaintext but lists encryption: encrypt from now on (§4.2).
      await this.useEncryption(this.autoScheme());
    }
    for (const t of parsed.toggles) this.noteToggle(t.channel, t.on);
    if (parsed.light) this.noteLight(parsed.light);
    this.emit("event", { type: "info", info: parsed.info } satisfies DeviceEvent);
    return parsed.info;
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

  has(namespace: string): boolean {
    return !!this.abilities && namespace in this.abilities;
  }

  /** Ability capacity of the light (1 RGB, 2 temperature, 4 luminance), 0 when not a light. */
  get lightCapacity(): number {
    const cap = this.abilities?.[NS.LIGHT]?.capacity;
    return typeof cap === "number" ? cap : this.has(NS.LIGHT) ? LIGHT_CAPACITY.LUMINANCE : 0;
  }

  /** Whether on/off goes through legacy Control.Toggle (old MT7688 firmware) instead of ToggleX. */
  get legacyToggle(): boolean {
    return !this.has(NS.TOGGLEX) && this.has(NS.TOGGLE);
  }

  private requireToggle(): void {
    if (!this.has(NS.TOGGLEX) && !this.has(NS.TOGGLE)) {
      throw new MerossError(
        "UNSUPPORTED",
        explain.unsupported(this.address, "SET", NS.TOGGLEX, `this ${this.info?.model ?? "device"} has no on/off switch`),
        { host: this.address, namespace: NS.TOGGLEX },
      );
    }
  }

  async getToggle(channel = 0): Promise<ChannelState> {
    await this.ready();
    this.requireToggle();
    let states: ChannelState[];
    if (this.legacyToggle) {
      states = parseTogglePayload((await this.request("GET", NS.TOGGLE, {})).payload);
    } else {
      states = parseToggleXPayload((await this.request("GET", NS.TOGGLEX, { togglex: { channel } })).payload);
    }
    for (const s of states) this.noteToggle(s.channel, s.on);
    const mine = states.find((s) => s.channel === channel);
    if (!mine) {
      throw new MerossError(
        "BAD_INPUT",
        `Channel ${channel} does not exist on this ${this.info?.model ?? "device"}: it reports channels ${states.map((s) => s.channel).join(", ") || "none"}.`,
        { host: this.address },
      );
    }
    return mine;
  }

  /** Switches a channel; "toggle" reads the current state first when we do not know it. */
  async setToggle(channel: number, on: boolean | "toggle"): Promise<ChannelState> {
    await this.ready();
    this.requireToggle();
    let target: boolean;
    if (on === "toggle") {
      const known = this.toggles.get(channel);
      target = !(known ?? (await this.getToggle(channel)).on);
    } else {
      target = on;
    }
    if (this.legacyToggle) {
      await this.request("SET", NS.TOGGLE, buildToggleSet(channel, target));
    } else {
      await this.request("SET", NS.TOGGLEX, buildToggleXSet(channel, target));
    }
    this.noteToggle(channel, target);
    return { channel, on: target };
  }

  async getLight(): Promise<LightState> {
    await this.ready();
    if (!this.has(NS.LIGHT)) throw this.notALight();
    const light = parseLightPayload((await this.request("GET", NS.LIGHT, { light: {} })).payload);
    if (light.on === undefined) light.on = this.toggles.get(light.channel ?? 0);
    this.noteLight(light);
    return light;
  }

  /**
   * Applies a light command and returns the resulting state. On/off goes through
   * ToggleX (protocol.md §6.7: bulbs that expose togglex use it for power).
   */
  async setLight(cmd: LightCommand & { on?: boolean }): Promise<LightState> {
    await this.ready();
    if (!this.has(NS.LIGHT)) throw this.notALight();
    const channel = cmd.channel ?? 0;
    const { on, ...fields } = cmd;
    const hasFields = fields.rgb !== undefined || fields.temperature !== undefined || fields.luminance !== undefined;
    const base: LightState = this.light ?? (await this.getLight());
    let next: LightState = { ...base };
    if (hasFields) {
      const body = buildLightSet({ ...fields, channel }, this.lightCapacity);
      await this.request("SET", NS.LIGHT, body);
      const l = body.light;
      next = {
        ...next,
        capacity: l.capacity ?? next.capacity,
        rgb: l.rgb ?? next.rgb,
        temperature: l.temperature ?? next.temperature,
        luminance: l.luminance ?? next.luminance,
        mode: l.rgb !== undefined ? "rgb" : l.temperature !== undefined ? "temperature" : next.mode,
      };
    }
    const wantOn = on ?? (hasFields ? true : undefined);
    if (wantOn !== undefined && (this.has(NS.TOGGLEX) || this.has(NS.TOGGLE))) {
      if (on !== undefined || this.toggles.get(channel) !== true) {
        await this.setToggle(channel, wantOn);
      }
    }
    if (wantOn !== undefined) next.on = wantOn;
    else next.on = this.toggles.get(channel) ?? next.on;
    this.noteLight(next);
    return next;
  }

  async getElectricity(channel = 0): Promise<ReturnType<typeof parseElectricity>> {
    await this.ready();
    const reply = await this.request("GET", NS.ELECTRICITY, { electricity: { channel } });
    return parseElectricity(reply.payload);
  }

  async getConsumption(): Promise<ReturnType<typeof parseConsumptionX>> {
    await this.ready();
    const reply = await this.request("GET", NS.CONSUMPTIONX, { consumptionx: [] });
    return parseConsumptionX(reply.payload);
  }

  /**
   * Applies a PUSH the device sent (over MQTT): ToggleX / Toggle / Light / Online.
   * Pushes carry only what changed, so light fields missing from one keep their value.
   * Returns whether the push was understood.
   */
  handlePush(env: Envelope): boolean {
    if (env.header.method !== "PUSH") return false;
    const { namespace } = env.header;
    const payload = env.payload;
    if (namespace === NS.TOGGLEX) {
      for (const t of parseToggleXPayload(payload)) this.noteToggle(t.channel, t.on, "push");
      return true;
    }
    if (namespace === NS.TOGGLE) {
      for (const t of parseTogglePayload(payload)) this.noteToggle(t.channel, t.on, "push");
      return true;
    }
    if (namespace === NS.LIGHT) {
      const raw = Array.isArray(payload.light) ? payload.light[0] : payload.light;
      if (typeof raw !== "object" || raw === null) return false;
      const fields = raw as Record<string, unknown>;
      const full = parseLightPayload({ light: { ...(this.light ?? {}), ...fields } });
      if (full.on === undefined && typeof fields.onoff !== "number") full.on = this.light?.on;
      this.noteLight(full, "push");
      return true;
    }
    if (namespace === "Appliance.System.Online") {
      const online = payload.online as { status?: unknown } | undefined;
      if (online && typeof online.status === "number") {
        this.emit("event", { type: "online", online: online.status === 1, source: "push" } satisfies DeviceEvent);
        return true;
      }
    }
    return false;
  }

  /** Records a state change (ours or pushed) and tells listeners when it differs. */
  noteToggle(channel: number, on: boolean, source: "push" | "reply" = "reply"): void {
    const before = this.toggles.get(channel);
    this.toggles.set(channel, on);
    if (this.light && this.light.channel === channel) this.light = { ...this.light, on };
    if (before !== on) this.emit("event", { type: "toggle", channel, on, source } satisfies DeviceEvent);
  }

  noteLight(light: LightState, source: "push" | "reply" = "reply"): void {
    const merged: LightState = { ...light, on: light.on ?? this.toggles.get(light.channel ?? 0) };
    const before = this.light;
    this.light = merged;
    if (!before || JSON.stringify(before) !== JSON.stringify(merged)) {
      this.emit("event", { type: "light", light: merged, source } satisfies DeviceEvent);
    }
  }

  private notALight(): MerossError {
    return new MerossError(
      "UNSUPPORTED",
      explain.unsupported(this.address, "SET", NS.LIGHT, `this ${this.info?.model ?? "device"} is not a light`),
      { host: this.address, namespace: NS.LIGHT },
    );
  }

  async close(): Promise<void> {
    this.removeAllListeners();
    this.transportImpl.off?.("push", this.onPush);
    await this.transportImpl.close();
  }
}
