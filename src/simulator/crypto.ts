/**
 * The device side of LAN encryption (docs/protocol.md §4): which keys an encrypted request may
 * use, the ECDHE session of this boot, and which plaintext an encrypted model still reads.
 * The AES and ECDH primitives are in lancrypt.ts.
 */
import type { Envelope, Header } from "../core/protocol/message";
import { isObject } from "../core/protocol/rules";
import { deviceEcdhe, deviceStaticKey, openMessage, sealMessage } from "./lancrypt";
import type { SimSetup } from "./state";

/**
 * What an encrypted model still reads in plaintext: Ability ([ML] emulator, docs/protocol.md §4.2)
 * and the key exchange, which cannot be encrypted; Encrypt.Suite is exempt in [BS] too.
 * System.All is dropped, as ML#456 reports for mss110 7.3.x, so clients must recover from that.
 */
const PLAINTEXT_ALLOWED = new Set(["GET Appliance.System.Ability", "SET Appliance.Encrypt.ECDHE", "GET Appliance.Encrypt.Suite"]);

/** A request body as the firmware reads it. */
export type ReadRequest =
  | { kind: "plain"; envelope: Envelope }
  | { kind: "encrypted"; envelope: Envelope; key: string }
  /** Ciphertext no accepted key opens. */
  | { kind: "unreadable" }
  /** Neither JSON with a header nor ciphertext. */
  | { kind: "malformed" };

function asRequest(value: unknown): Envelope | undefined {
  if (!isObject(value) || !isObject(value.header)) return undefined;
  if (typeof value.header.namespace !== "string" || typeof value.header.method !== "string") return undefined;
  return { header: value.header as Header, payload: isObject(value.payload) ? value.payload : {} };
}

/** A plaintext envelope with a namespace and a method, or undefined. */
export function parseRequestText(text: string): Envelope | undefined {
  try {
    return asRequest(JSON.parse(text));
  } catch {
    return undefined;
  }
}

export interface CryptoOwner {
  readonly uuid: string;
  readonly mac: string;
  readonly setup: SimSetup;
}

export class SimCrypto {
  /** ECDHE session key; firmware forgets it when it reboots. */
  private sessionKey: string | undefined;

  constructor(
    private readonly owner: CryptoOwner,
    /** The model lists Encrypt.ECDHE or Suite: it requires encryption on the LAN. */
    readonly required: boolean,
    /** It performs the ECDHE exchange; without it, pairing mode reads the static key of key "". */
    private readonly ecdhe = true,
  ) {}

  /** Scheme (a) key of this device as configured now (docs/protocol.md §4.3). */
  staticKey(): string {
    return deviceStaticKey(this.owner.uuid, this.owner.setup.key, this.owner.mac);
  }

  /**
   * Keys an encrypted request may use: the ECDHE session key of this boot, and in normal
   * mode the static key. ⚠ Whether pairing mode also takes the static key is unresolved
   * (docs/protocol.md §4.3); the simulator requires the exchange there, as the [BS] setup tool does.
   */
  private acceptedKeys(): string[] {
    const keys: string[] = [];
    if (this.sessionKey) keys.push(this.sessionKey);
    if (this.owner.setup.mode === "normal" || !this.ecdhe) keys.push(this.staticKey());
    return keys;
  }

  read(text: string): ReadRequest {
    if (this.required && !text.trimStart().startsWith("{")) {
      for (const key of this.acceptedKeys()) {
        const envelope = asRequest(openMessage(text, key));
        if (envelope) return { kind: "encrypted", envelope, key };
      }
      return { kind: "unreadable" };
    }
    const envelope = parseRequestText(text);
    return envelope ? { kind: "plain", envelope } : { kind: "malformed" };
  }

  /** Encrypted firmware closes the connection on plaintext it does not exempt (docs/protocol.md §2.2). */
  refusesPlaintext(request: Envelope): boolean {
    return this.required && !PLAINTEXT_ALLOWED.has(`${String(request.header.method)} ${request.header.namespace}`);
  }

  seal(text: string, key: string): string {
    return sealMessage(text, key);
  }

  /** Device side of docs/protocol.md §4.3 (b): our public key, or undefined for a bad client key. */
  exchange(clientPubB64: string): string | undefined {
    const result = deviceEcdhe(clientPubB64);
    if (!result) return undefined;
    this.sessionKey = result.sessionKey;
    return result.publicKeyBase64;
  }

  /** A reboot or a factory reset ends the session. */
  forgetSession(): void {
    this.sessionKey = undefined;
  }
}
