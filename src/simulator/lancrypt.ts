/**
 * The device side of LAN encryption (docs/protocol.md §4), written separately from the client's
 * src/core/crypto so that a mistake there cannot hide in a simulator sharing the same code.
 */
import { createCipheriv, createDecipheriv, createECDH, createHash } from "node:crypto";
import { md5Hex } from "../core/protocol/message";
import { isObject } from "../core/protocol/rules";

const IV = Buffer.from("0000000000000000", "ascii");

/** Scheme (a) of §4.3: md5hex(uuid[3:22] + key[1:9] + mac + key[10:28]) used as 32 ASCII bytes. */
export function deviceStaticKey(uuid: string, key: string, mac: string): string {
  return md5Hex(uuid.substring(3, 22) + key.substring(1, 9) + mac + key.substring(10, 28));
}

/** Whole-message encryption as firmware does it: always 1..16 NUL bytes of padding, base64 out. */
export function sealMessage(text: string, key: string): string {
  const plain = Buffer.from(text, "utf8");
  const padded = Buffer.concat([plain, Buffer.alloc(16 - (plain.length % 16))]);
  const cipher = createCipheriv("aes-256-cbc", Buffer.from(key, "ascii"), IV);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString("base64");
}

/**
 * Decrypts a base64 body and returns the JSON object inside, or undefined when this key
 * does not produce one (wrong key, not encrypted, damaged).
 */
export function openMessage(body: string, key: string): Record<string, unknown> | undefined {
  const data = Buffer.from(body.trim(), "base64");
  if (data.length === 0 || data.length % 16 !== 0) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-cbc", Buffer.from(key, "ascii"), IV);
    decipher.setAutoPadding(false);
    const plain = Buffer.concat([decipher.update(data), decipher.final()]);
    let end = plain.length;
    while (end > 0 && plain[end - 1] === 0) end--;
    const value: unknown = JSON.parse(plain.subarray(0, end).toString("utf8"));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The device half of the ECDHE exchange: a fresh P-256 pair per exchange, session key =
 * md5hex(shared x) (§4.3 b). Undefined when the client's public key is not a P-256 point.
 */
export function deviceEcdhe(clientPubB64: string): { publicKeyBase64: string; sessionKey: string } | undefined {
  try {
    const ecdh = createECDH("prime256v1");
    ecdh.generateKeys();
    const shared = ecdh.computeSecret(Buffer.from(clientPubB64, "base64"));
    return { publicKeyBase64: ecdh.getPublicKey().toString("base64"), sessionKey: createHash("md5").update(shared).digest("hex") };
  } catch {
    return undefined;
  }
}
