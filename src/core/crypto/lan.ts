/**
 * LAN encryption of whole messages on newer firmware (docs/protocol.md §4): how to tell a device
 * needs it, which key scheme to use, and how an envelope goes on and comes off the wire.
 * Transports call encodeEnvelope/decodeEnvelopeText; the encryption layer (layer.ts) decides the key.
 */
import { MerossError } from "../errors";
import { asEnvelope, type Envelope } from "../protocol/message";
import { decryptMessageBase64, encryptMessageBase64 } from "./aes";

export const NS_ENCRYPT_ECDHE = "Appliance.Encrypt.ECDHE";
export const NS_ENCRYPT_SUITE = "Appliance.Encrypt.Suite";

/**
 * What the user may force in the config node: "auto" detects it from the ability list,
 * "static" = scheme (a) of §4.3, "ecdhe" = scheme (b), "off" = never encrypt.
 */
export type EncryptionMode = "auto" | "static" | "ecdhe" | "off";
export type EncryptionScheme = "static" | "ecdhe";

export const ENCRYPTION_MODES: readonly EncryptionMode[] = ["auto", "static", "ecdhe", "off"];

/** Validates a user-supplied mode so a typo in a flow is a sentence, not silent plaintext. */
export function checkEncryptionMode(v: unknown): EncryptionMode {
  if (v === undefined || v === null || v === "") return "auto";
  if (typeof v === "string" && (ENCRYPTION_MODES as readonly string[]).includes(v)) return v as EncryptionMode;
  throw new MerossError(
    "BAD_INPUT",
    `"${String(v)}" is not an encryption setting. Use auto (detect from the device), static, ecdhe or off.`,
  );
}

/**
 * Decided from the ability list only: Encrypt.ECDHE (usually with Encrypt.Suite) marks LAN
 * encryption; firmware.encrypt does not (it goes with WifiX, §4.5).
 */
export function requiresEncryption(abilities: Record<string, unknown> | undefined): boolean {
  return !!abilities && (NS_ENCRYPT_ECDHE in abilities || NS_ENCRYPT_SUITE in abilities);
}

/** The wire form of an encrypted message: base64 of the AES ciphertext of the whole JSON (§4.2). */
export function encodeEnvelope(env: Envelope, key: string): string {
  return encryptMessageBase64(JSON.stringify(env), key);
}

/** The sentence for a reply we could not decrypt: the AES key comes from the device key. */
export function undecryptableReply(host: string): string {
  return (
    `The reply from the device at ${host} could not be decrypted, so the key is probably wrong ` +
    `(encrypted firmware derives its encryption key from the device key). ` +
    `Use the key that was set when the device was onboarded (Appliance.Config.Key), or the key of your Meross account if the app set it up.`
  );
}

/**
 * Reads a reply to an encrypted request. Plain JSON is accepted as is (a device may answer
 * an error unencrypted, and MQTT payloads may be either); anything that does not decrypt into
 * an envelope is WRONG_KEY, never garbage.
 */
export function decodeEnvelopeText(text: string, key: string, host: string): Envelope {
  const body = typeof text === "string" ? text.trim() : "";
  if (body.startsWith("{")) {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      throw new MerossError(
        "BAD_RESPONSE",
        `The device at ${host} sent a reply that could not be used (invalid or truncated JSON, ${body.length} bytes). It may be busy: try again.`,
        { host },
      );
    }
    return asEnvelope(value, host);
  }
  if (body === "") {
    throw new MerossError(
      "BAD_RESPONSE",
      `The device at ${host} sent an empty reply. It may be busy: try again, and if it persists restart the device.`,
      { host },
    );
  }
  let plain: string;
  try {
    plain = decryptMessageBase64(body, key);
  } catch (err) {
    throw new MerossError("WRONG_KEY", undecryptableReply(host), { host, cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(plain);
  } catch (err) {
    throw new MerossError("WRONG_KEY", undecryptableReply(host), { host, cause: err });
  }
  try {
    return asEnvelope(value, host);
  } catch (err) {
    throw new MerossError("WRONG_KEY", undecryptableReply(host), { host, cause: err });
  }
}

/** Tries to read an incoming message with any of `keys`; undefined when none yields an envelope. */
export function tryDecodeEnvelope(text: string, keys: Iterable<string>, host: string): { envelope: Envelope; key: string } | undefined {
  for (const key of keys) {
    try {
      return { envelope: decodeEnvelopeText(text, key, host), key };
    } catch {
      continue;
    }
  }
  return undefined;
}
