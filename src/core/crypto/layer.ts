/**
 * LAN encryption as a layer between a device session and its transport (docs/protocol.md
 * §4): it decides whether a request goes encrypted and with which key, sets up the key
 * scheme (static §4.3 a, ECDHE exchange §4.3 b) and recovers from a refused plaintext
 * request (§4.2). The key reaches the wire one way only: per request, through the
 * sender the session gives it (SendOptions.encryptionKey on the transport).
 */
import { MerossError, explain } from "../errors";
import type { Envelope, Method } from "../protocol/message";
import { macFromUuid } from "../protocol/rules";
import { isDroppedConnection, isEmptyServerError } from "../transport/http";
import { ecdhKeyPair, ecdhSessionKey, staticLanKey } from "./aes";
import { NS_ENCRYPT_ECDHE, requiresEncryption, type EncryptionMode, type EncryptionScheme } from "./lan";

const NS_ABILITY = "Appliance.System.Ability";

type Abilities = Record<string, Record<string, unknown>>;

/**
 * One queued task's limits, handed down explicitly to every exchange it makes: the transport
 * timeout, and the queue's stop signal (a task the queue gave up on sends nothing more).
 */
export interface Call {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** What the layer needs from the session it serves. */
export interface EncryptionHost {
  readonly address: string;
  /** One signed exchange, encrypted with `encryptionKey` when given; returns the checked reply. */
  sendOnce(
    method: Method,
    namespace: string,
    payload: Record<string, unknown>,
    call: Call,
    encryptionKey: string | undefined,
  ): Promise<Envelope>;
  /** uuid and MAC known so far; the static key is derived from them. */
  identity(): { uuid?: string; mac?: string };
  abilities(): Abilities | undefined;
  /** A plaintext System.Ability reply read while setting up (it also names the uuid, §1.4). */
  learnAbility(reply: Envelope): void;
  deviceKey(): string;
  /** The session started encrypting with this scheme. */
  started(scheme: EncryptionScheme): void;
}

export class EncryptionLayer {
  readonly mode: EncryptionMode;
  private readonly host: EncryptionHost;
  private readonly accessPoint: boolean;
  private key: string | undefined;
  private schemeValue: EncryptionScheme | undefined;
  private ecdheTried = false;
  /** The static key was tried and refused: an exchange that fails has nothing to fall back to. */
  private staticRefused = false;

  constructor(host: EncryptionHost, mode: EncryptionMode, accessPoint: boolean) {
    this.host = host;
    this.mode = mode;
    this.accessPoint = accessPoint;
  }

  /** The key scheme in use once encrypting, undefined while plaintext. */
  get scheme(): EncryptionScheme | undefined {
    return this.key ? this.schemeValue : undefined;
  }

  private has(ns: string): boolean {
    const a = this.host.abilities();
    return !!a && ns in a;
  }

  /** One request with the current encryption, recovering once per cause from a dropped connection. */
  async send(method: Method, namespace: string, payload: Record<string, unknown>, call: Call): Promise<Envelope> {
    if (!this.key && (this.mode === "static" || this.mode === "ecdhe")) await this.use(this.mode, call);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.host.sendOnce(method, namespace, payload, call, this.key);
      } catch (err) {
        if (attempt >= 2 || !(await this.recover(err, namespace, call))) throw err;
      }
    }
  }

  /** Whether an "auto" session that answered in plaintext should encrypt from now on (§4.2). */
  shouldUpgrade(): boolean {
    return !this.key && this.mode === "auto" && requiresEncryption(this.host.abilities());
  }

  /** Back to plaintext. */
  stop(): void {
    this.key = undefined;
    this.schemeValue = undefined;
  }

  /** The device key changed: the static LAN key is derived from it, an ECDHE session key is not. */
  deviceKeyChanged(): void {
    if (this.key && this.schemeValue === "static") this.deriveStaticKey();
  }

  /**
   * What "auto" picks: the static key (a) for configured devices, as [ML] does with real
   * mss110 fw 7.3.x (§4.3); the ECDHE exchange (b) in access-point mode when offered.
   */
  autoScheme(): EncryptionScheme {
    if (this.mode === "static" || this.mode === "ecdhe") return this.mode;
    return this.accessPoint && this.has(NS_ENCRYPT_ECDHE) ? "ecdhe" : "static";
  }

  /**
   * §4.2 "safe approach": a plaintext request that is refused is followed by System.Ability in
   * plaintext (answered by every firmware); when it lists Encrypt.ECDHE or Suite the request is
   * retried encrypted. Firmware refuses plaintext three ways: it closes the connection, answers
   * HTTP 500 with an empty body, or answers ERROR. A static key that is dropped too falls back
   * to the ECDHE exchange when the device offers it. Returns whether to retry.
   */
  private async recover(err: unknown, namespace: string, call: Call): Promise<boolean> {
    if (this.mode === "off") return false;
    if (!this.key) {
      const refused = isRefusal(err);
      // An ERROR is an answer: only a device that lists encryption can mean "not in plaintext" by it.
      if (!refused && !(isErrorReply(err) && this.mayListEncryption())) return false;
      if (namespace === NS_ABILITY) return false;
      if (!requiresEncryption(this.host.abilities())) {
        let ability: Envelope;
        try {
          ability = await this.host.sendOnce("GET", NS_ABILITY, {}, call, undefined);
        } catch (abilityErr) {
          // A 5001 here explains the whole failure better than the refusal did.
          if (abilityErr instanceof MerossError && abilityErr.code === "WRONG_KEY") throw abilityErr;
          return false;
        }
        this.host.learnAbility(ability);
        if (!requiresEncryption(this.host.abilities())) return false;
      }
      await this.use(this.autoScheme(), call);
      return true;
    }
    if (!isDroppedConnection(err) && !isEmptyServerError(err)) return false;
    if (this.mode === "auto" && this.schemeValue === "static" && !this.ecdheTried && this.has(NS_ENCRYPT_ECDHE)) {
      this.staticRefused = true;
      await this.use("ecdhe", call);
      return true;
    }
    return false;
  }

  /** Unknown ability list, or one that lists encryption: worth asking after an ERROR. */
  private mayListEncryption(): boolean {
    return !this.host.abilities() || requiresEncryption(this.host.abilities());
  }

  /** Sets up a key scheme now; the caller runs it inside the session's queue. */
  async use(scheme: EncryptionScheme, call: Call): Promise<void> {
    if (scheme === "static") {
      const id = this.host.identity();
      if (!id.uuid) {
        // The static key needs the uuid; Ability is the one namespace answered in plaintext.
        this.host.learnAbility(await this.host.sendOnce("GET", NS_ABILITY, {}, call, undefined));
      }
      this.schemeValue = "static";
      this.deriveStaticKey();
    } else {
      this.ecdheTried = true;
      try {
        this.key = await this.exchange(call);
        this.schemeValue = "ecdhe";
      } catch (err) {
        // Some firmware lists Encrypt.ECDHE but answers the exchange with ERROR (or refuses it):
        // "auto" then uses the static key, which every encrypted firmware reads (§4.3 a).
        if (this.mode !== "auto" || this.staticRefused || !(isErrorReply(err) || isRefusal(err))) throw err;
        return this.use("static", call);
      }
    }
    this.host.started(scheme);
  }

  /** §4.3 b: our public key in plaintext (there is no key yet), the device's back; returns the session key. */
  private async exchange(call: Call): Promise<string> {
    const pair = ecdhKeyPair();
    const reply = await this.host.sendOnce("SET", NS_ENCRYPT_ECDHE, { ecdhe: { step: 1, pubkey: pair.publicKeyBase64 } }, call, undefined);
    const ecdhe = reply.payload.ecdhe as { pubkey?: unknown } | undefined;
    if (typeof ecdhe?.pubkey !== "string" || ecdhe.pubkey === "") {
      const address = this.host.address;
      throw new MerossError(
        "BAD_RESPONSE",
        explain.badResponse(address, "the key exchange reply (Appliance.Encrypt.ECDHE) carries no public key"),
        { host: address, namespace: NS_ENCRYPT_ECDHE, reply },
      );
    }
    return ecdhSessionKey(pair.privateKey, ecdhe.pubkey);
  }

  private deriveStaticKey(): void {
    const { uuid = "", mac: known } = this.host.identity();
    const mac = known || macFromUuid(uuid) || "";
    if (!uuid || !mac) {
      throw new MerossError(
        "BAD_RESPONSE",
        `The device at ${this.host.address} needs encrypted requests, ` +
          `but its uuid and MAC address could not be learnt, so no encryption key can be derived. ` +
          `Check that this is a Meross device, or set encryption to "ecdhe" for it.`,
        { host: this.host.address },
      );
    }
    this.key = staticLanKey(uuid, this.host.deviceKey(), mac);
  }
}

/** The transport saw the device refuse a request without an answer: a closed connection or an empty HTTP 500. */
function isRefusal(err: unknown): boolean {
  return isDroppedConnection(err) || isEmptyServerError(err);
}

/** The device answered ERROR (5000, 5001 or another code; signed or not). */
function isErrorReply(err: unknown): boolean {
  if (!(err instanceof MerossError)) return false;
  const reply = err.details.reply as { header?: { method?: unknown } } | undefined;
  return reply?.header?.method === "ERROR";
}
