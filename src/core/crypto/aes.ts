/**
 * The one cipher Meross firmware uses: AES-256-CBC with an ASCII-zero IV and NUL
 * padding (docs/protocol.md §3.5, §4.2), plus the three ways its key is derived
 * (WifiX, the static LAN "mrskey", ECDHE). Pure functions over node:crypto.
 */
import { createCipheriv, createDecipheriv, createECDH, createHash } from "node:crypto";
import { MerossError } from "../errors";
import { md5Hex } from "../protocol/message";

/** The IV is the 16 ASCII characters "0", not 16 zero bytes (all sources agree, §4.2). */
const IV = Buffer.from("0000000000000000", "ascii");
const BLOCK = 16;
/** Every Meross key is 32 ASCII characters: the hex text of an md5, used as raw bytes. */
const KEY_LENGTH = 32;

function keyBytes(key: string): Buffer {
  const buf = typeof key === "string" ? Buffer.from(key, "utf8") : Buffer.alloc(0);
  if (buf.length !== KEY_LENGTH) {
    throw new MerossError(
      "BAD_INPUT",
      `The encryption key must be exactly ${KEY_LENGTH} characters (it is ${buf.length}). ` +
        `Derive it with wifiXKey, staticLanKey or ecdhSessionKey instead of typing it.`,
    );
  }
  return buf;
}

/**
 * Encrypts with NUL padding that always appends 1..16 bytes: a block-aligned message
 * without a terminating NUL is rejected by devices ([ML] fix f2dc2d0, §4.2).
 */
export function encryptAes256Cbc(plain: Buffer | string, key32ascii: string): Buffer {
  const data = typeof plain === "string" ? Buffer.from(plain, "utf8") : plain;
  if (!Buffer.isBuffer(data)) {
    throw new MerossError("BAD_INPUT", "Only text or a Buffer can be encrypted.");
  }
  const padded = Buffer.concat([data, Buffer.alloc(BLOCK - (data.length % BLOCK))]);
  const cipher = createCipheriv("aes-256-cbc", keyBytes(key32ascii), IV);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]);
}

/** Decrypts and strips the trailing NULs; a wrong length means a damaged or non-encrypted reply. */
export function decryptAes256Cbc(cipherText: Buffer, key: string): Buffer {
  if (!Buffer.isBuffer(cipherText) || cipherText.length === 0 || cipherText.length % BLOCK !== 0) {
    const len = Buffer.isBuffer(cipherText) ? cipherText.length : 0;
    throw new MerossError(
      "BAD_RESPONSE",
      `The encrypted reply is ${len} bytes long, which is not a whole number of 16-byte AES blocks: ` +
        `it is damaged or not encrypted at all. Check that encryption is really enabled on this device, then try again.`,
    );
  }
  let out: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-cbc", keyBytes(key), IV);
    decipher.setAutoPadding(false);
    out = Buffer.concat([decipher.update(cipherText), decipher.final()]);
  } catch (err) {
    if (err instanceof MerossError) throw err;
    throw new MerossError("BAD_RESPONSE", "The encrypted reply could not be decrypted. Check the device key and try again.", {
      cause: err,
    });
  }
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.subarray(0, end);
}

/** Encrypted HTTP bodies are the base64 of the ciphertext of the whole JSON message (§4.2). */
export function encryptMessageBase64(json: string, key: string): string {
  return encryptAes256Cbc(json, key).toString("base64");
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Inverse of encryptMessageBase64. A plaintext JSON reply (the device ignored
 * encryption) or anything that is not base64 is reported, not decrypted into garbage.
 */
export function decryptMessageBase64(b64: string, key: string): string {
  const text = typeof b64 === "string" ? b64.replace(/\s+/g, "") : "";
  if (text === "" || !BASE64.test(text)) {
    const hint = typeof b64 === "string" && b64.trim().startsWith("{") ? " (it looks like plain JSON)" : "";
    throw new MerossError(
      "BAD_RESPONSE",
      `The device's reply is not base64-encoded encrypted data${hint}. Check whether this device really uses LAN encryption.`,
    );
  }
  return decryptAes256Cbc(Buffer.from(text, "base64"), key).toString("utf8");
}

function requireText(name: string, v: unknown): string {
  if (typeof v !== "string") {
    throw new MerossError("BAD_INPUT", `The ${name} must be text (got ${v === null ? "null" : typeof v}).`);
  }
  return v;
}

/**
 * WifiX password key: md5 hex of hardware.type + uuid + macAddress (lowercase, with
 * colons), used as 32 ASCII bytes (§3.5, ✔ vector mss710).
 */
export function wifiXKey(type: string, uuid: string, mac: string): string {
  return md5Hex(requireText("device type", type) + requireText("device uuid", uuid) + requireText("MAC address", mac).toLowerCase());
}

/**
 * Static LAN key of configured encrypted devices, scheme (a) of §4.3:
 * md5hex(uuid[3:22] + key[1:9] + mac + key[10:28]) with Python-style slices.
 */
export function staticLanKey(uuid: string, key: string, mac: string): string {
  const u = requireText("device uuid", uuid);
  const k = requireText("device key", key);
  const m = requireText("MAC address", mac).toLowerCase();
  return md5Hex(u.slice(3, 22) + k.slice(1, 9) + m + k.slice(10, 28));
}

export interface EcdhKeyPair {
  privateKey: Buffer;
  /** 65-byte uncompressed point 04||X||Y, as sent in `ecdhe.pubkey`. */
  publicKey: Buffer;
  publicKeyBase64: string;
}

/**
 * A P-256 key pair for the AP-mode ECDHE exchange (§4.3 scheme b). Pass a private key
 * to reproduce [BS]'s "preshared" default (the 32 ASCII bytes of staticLanKey).
 */
export function ecdhKeyPair(privateKey?: Buffer): EcdhKeyPair {
  const ecdh = createECDH("prime256v1");
  if (privateKey === undefined) {
    ecdh.generateKeys();
  } else {
    try {
      ecdh.setPrivateKey(privateKey);
    } catch (err) {
      throw new MerossError("BAD_INPUT", "The ECDHE private key is not a valid P-256 private key (it must be 32 bytes, not zero).", {
        cause: err,
      });
    }
  }
  const publicKey = ecdh.getPublicKey();
  return { privateKey: ecdh.getPrivateKey(), publicKey, publicKeyBase64: publicKey.toString("base64") };
}

/** Session key = md5 hex of the shared x-coordinate, used as 32 ASCII bytes (§4.3 step 4). */
export function ecdhSessionKey(privateKey: Buffer, peerPubB64: string): string {
  const ecdh = createECDH("prime256v1");
  try {
    ecdh.setPrivateKey(privateKey);
  } catch (err) {
    throw new MerossError("BAD_INPUT", "The ECDHE private key is not a valid P-256 private key (it must be 32 bytes, not zero).", {
      cause: err,
    });
  }
  const peer = typeof peerPubB64 === "string" ? Buffer.from(peerPubB64, "base64") : Buffer.alloc(0);
  let shared: Buffer;
  try {
    shared = ecdh.computeSecret(peer);
  } catch (err) {
    throw new MerossError(
      "BAD_RESPONSE",
      "The device's ECDHE public key is not a valid P-256 point, so no shared key could be agreed. Try the setup again.",
      { cause: err },
    );
  }
  return createHash("md5").update(shared).digest("hex");
}
