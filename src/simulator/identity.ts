/**
 * Device identities and the WifiX password cipher, kept local to the simulator so it never
 * depends on the client-side codecs it is meant to test.
 */
import { createDecipheriv, createCipheriv } from "node:crypto";
import { md5Hex } from "../core/protocol/message";
import { macFromUuid, normalizeMac } from "../core/protocol/rules";

/** Meross OUI (docs/protocol.md §7); the simulator only hands out MACs in it. */
export const MEROSS_OUI = "48:e1:e9";

export interface Identity {
  uuid: string;
  mac: string;
}

/** A MAC in the Meross OUI, its last three bytes taken from `text`. */
function merossMac(text: string): string {
  return normalizeMac(`48e1e9${md5Hex(text).slice(0, 6)}`)!;
}

/** 20 decimal digits like the serial part of real uuids (`2308283569760958070148e1e9d7c243`). */
function serialDigits(seed: string): string {
  const h = md5Hex(`serial:${seed}`);
  let out = "";
  for (let i = 0; out.length < 20; i++) out += (parseInt(h[i % h.length], 16) % 10).toString();
  return out;
}

/**
 * The last 12 uuid characters are the MAC without colons on every real device (docs/protocol.md
 * §7), so whichever of uuid/mac is given fixes the other; otherwise both come from `seed`.
 */
export function deriveIdentity(seed: string, uuid?: string, mac?: string): Identity {
  if (uuid) {
    const m = mac ? (normalizeMac(mac) ?? mac.toLowerCase()) : (macFromUuid(uuid) ?? merossMac(uuid));
    return { uuid, mac: m };
  }
  if (mac) {
    const normal = normalizeMac(mac) ?? mac.toLowerCase();
    return { uuid: serialDigits(normal) + normal.replace(/[:-]/g, ""), mac: normal };
  }
  const m = merossMac(`mac:${seed}`);
  return { uuid: serialDigits(seed) + m.replace(/:/g, ""), mac: m };
}

/** AES key of Config.WifiX: the 32 ASCII chars of md5hex(type + uuid + mac) (docs/protocol.md §3.5). */
function wifiXKey(type: string, uuid: string, mac: string): Buffer {
  return Buffer.from(md5Hex(type + uuid + mac), "ascii");
}

const WIFIX_IV = Buffer.from("0000000000000000", "ascii");

/**
 * Decrypts a WifiX password (AES-256-CBC, ASCII-zero IV, NUL padding). Returns undefined when
 * the ciphertext cannot be a WifiX password: firmware would then fail to join the network.
 */
export function decryptWifiXPassword(b64: string, type: string, uuid: string, mac: string): string | undefined {
  const data = Buffer.from(b64, "base64");
  if (data.length === 0 || data.length % 16 !== 0) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-cbc", wifiXKey(type, uuid, mac), WIFIX_IV);
    decipher.setAutoPadding(false);
    const plain = Buffer.concat([decipher.update(data), decipher.final()]);
    let end = plain.length;
    while (end > 0 && plain[end - 1] === 0) end--;
    return plain.subarray(0, end).toString("utf8");
  } catch {
    return undefined;
  }
}

/** The inverse, for the simulator's own tests only (always appends 1–16 NULs). */
export function encryptWifiXPassword(password: string, type: string, uuid: string, mac: string): string {
  const plain = Buffer.from(password, "utf8");
  const padded = Buffer.concat([plain, Buffer.alloc(16 - (plain.length % 16))]);
  const cipher = createCipheriv("aes-256-cbc", wifiXKey(type, uuid, mac), WIFIX_IV);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString("base64");
}
