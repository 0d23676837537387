/**
 * Wi-Fi onboarding payloads: Config.WifiList (scan), Config.Wifi (plain base64
 * password) and Config.WifiX (AES-encrypted password), docs/protocol.md §3.3–§3.5.
 */
import { decryptAes256Cbc, encryptAes256Cbc, wifiXKey } from "../crypto/aes";
import { MerossError } from "../errors";
import { badInput, badReply, describeValue, isObject, toNumber } from "../capabilities/util";

/** Enum order from [BS] wifi.ts / [CMP] Encryption.java (§3.3). */
export const ENCRYPTION_NAMES: readonly string[] = [
  "OPEN",
  "SHARE",
  "WEPAUTO",
  "WPA1",
  "WPA1PSK",
  "WPA2",
  "WPA2PSK",
  "WPA1WPA2",
  "WPA1PSKWPA2PSK",
];

/** Cipher enum of §3.3 (3 = AES is the usual home network). */
export const CIPHER_NAMES: readonly string[] = ["NONE", "WEP", "TKIP", "AES", "TKIPAES"];

/** One scan entry with the ssid decoded; signal is a percentage. */
export interface WifiNetwork {
  ssid: string;
  bssid: string;
  channel: number;
  signal: number;
  encryption: number;
  cipher: number;
}

const SSID_MAX_BYTES = 32;
const PASSWORD_MIN = 8;
const PASSWORD_MAX = 64;
const ENCRYPTION_OPEN = 0;
/** WEP keys are 5/13 characters (or 10/26 hex), shorter than the WPA minimum of 8. */
const WEP_ENCRYPTIONS = new Set([1, 2]);

/** Decodes the base64 SSID; hidden networks come back as "". */
function decodeB64(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  return Buffer.from(v, "base64").toString("utf8");
}

/**
 * `{wifiList: [...]}` sorted strongest first. Numbers may arrive as strings; bssids
 * keep whatever separator the firmware used ('-' before ~6.1.8) because they are
 * sent back unchanged in Config.Wifi. Entries without an ssid are skipped.
 */
export function parseWifiList(payload: unknown): WifiNetwork[] {
  const list = isObject(payload) ? payload.wifiList : undefined;
  if (!Array.isArray(list)) throw badReply("Config.WifiList", 'it has no "wifiList" list', payload);
  const out: WifiNetwork[] = [];
  for (const e of list) {
    if (!isObject(e)) continue;
    const ssid = decodeB64(e.ssid);
    if (ssid === undefined) continue;
    out.push({
      ssid,
      bssid: typeof e.bssid === "string" ? e.bssid : "",
      channel: toNumber(e.channel) ?? 0,
      signal: toNumber(e.signal) ?? 0,
      encryption: toNumber(e.encryption) ?? 0,
      cipher: toNumber(e.cipher) ?? 0,
    });
  }
  return out.sort((a, b) => b.signal - a.signal);
}

/** One line per network for pickers and logs, e.g. "MyNet (WPA2PSK/AES, 80%)". */
export function describeNetwork(n: WifiNetwork): string {
  const enc = ENCRYPTION_NAMES[n.encryption] ?? `encryption ${n.encryption}`;
  const cip = CIPHER_NAMES[n.cipher] ?? `cipher ${n.cipher}`;
  const name = n.ssid === "" ? "(hidden network)" : n.ssid;
  return `${name} (${enc}/${cip}, ${n.signal}%)`;
}

type WifiTarget = Partial<WifiNetwork> & { ssid: string };

/** A network to join: name and password, plus what a scan tells (bssid, channel, security). */
export interface WifiSettings {
  ssid: string;
  password: string;
  bssid?: string;
  channel?: number;
  encryption?: number;
  cipher?: number;
}

/** Shared validation; sentences name the field but never echo the password. */
function validate(net: WifiTarget, password: string): { ssid: string; optional: Omit<WifiSettings, "ssid" | "password"> } {
  if (!isObject(net)) throw badInput(`The Wi-Fi network ${describeValue(net)} must be an object with at least an ssid.`);
  if (typeof net.ssid !== "string") throw badInput(`The Wi-Fi SSID ${describeValue(net.ssid)} must be text (the network name).`);
  const ssidBytes = Buffer.byteLength(net.ssid, "utf8");
  if (ssidBytes < 1 || ssidBytes > SSID_MAX_BYTES) {
    throw badInput(`The Wi-Fi SSID ${describeValue(net.ssid)} is ${ssidBytes} bytes long: it must be 1 to ${SSID_MAX_BYTES} bytes.`);
  }
  const optional: Omit<WifiSettings, "ssid" | "password"> = {};
  if (net.bssid !== undefined && net.bssid !== "") {
    if (typeof net.bssid !== "string" || net.bssid.length > 17) {
      throw badInput(`The Wi-Fi BSSID ${describeValue(net.bssid)} must be a MAC address like "aa:bb:cc:dd:ee:ff".`);
    }
    optional.bssid = net.bssid;
  }
  for (const field of ["channel", "encryption", "cipher"] as const) {
    if (net[field] === undefined) continue;
    const n = toNumber(net[field]);
    if (n === undefined || !Number.isInteger(n) || n < 0) {
      throw badInput(`The Wi-Fi ${field} ${describeValue(net[field])} must be a whole number (copy it from the Wi-Fi scan).`);
    }
    optional[field] = n;
  }
  if (typeof password !== "string") throw badInput("The Wi-Fi password must be text.");
  const len = [...password].length;
  if (len === 0) {
    if (optional.encryption !== ENCRYPTION_OPEN) {
      throw badInput(
        `The Wi-Fi password is empty, but "${net.ssid}" is not known to be an open network. ` +
          `Give its password (${PASSWORD_MIN} to ${PASSWORD_MAX} characters), or pick it from the scan if it really is open.`,
      );
    }
  } else if (len > PASSWORD_MAX || (len < PASSWORD_MIN && !WEP_ENCRYPTIONS.has(optional.encryption ?? -1))) {
    throw badInput(`The Wi-Fi password has ${len} characters: it must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`);
  }
  return { ssid: net.ssid, optional };
}

function toB64(s: string): string {
  return Buffer.from(s, "utf8").toString("base64");
}

/**
 * Config.Wifi payload. Copies bssid/channel/encryption/cipher from the scan entry
 * when given: some firmware refuses ssid+password alone (§3.4).
 */
export function buildWifiPayload(net: WifiTarget, password: string): { wifi: Record<string, string | number> } {
  const { ssid, optional } = validate(net, password);
  return { wifi: { ssid: toB64(ssid), password: toB64(password), ...optional } };
}

function checkDevice(dev: unknown): { type: string; uuid: string; mac: string } {
  if (!isObject(dev)) throw badInput("The device details (type, uuid, mac from System.All) are needed to encrypt the Wi-Fi password.");
  for (const f of ["type", "uuid", "mac"] as const) {
    if (typeof dev[f] !== "string" || dev[f] === "") {
      throw badInput(
        `The device ${f} ${describeValue(dev[f])} is missing: read it from System.All (hardware.${f === "mac" ? "macAddress" : f}) first.`,
      );
    }
  }
  return { type: dev.type as string, uuid: dev.uuid as string, mac: dev.mac as string };
}

/** Config.WifiX payload: the password is AES-encrypted with the device-derived key (§3.5). */
export function buildWifiXPayload(
  net: WifiTarget,
  password: string,
  dev: { type: string; uuid: string; mac: string },
): { wifi: Record<string, string | number> } {
  const { ssid, optional } = validate(net, password);
  const d = checkDevice(dev);
  const cipher = encryptAes256Cbc(password, wifiXKey(d.type, d.uuid, d.mac));
  return { wifi: { ssid: toB64(ssid), password: cipher.toString("base64"), ...optional } };
}

/** What a device receives in Config.Wifi[X], decoded (simulator side). */
export type DecodedWifi = WifiSettings;

/**
 * Inverse of the two builders, for the simulator acting as a device. Pass `dev` for
 * a WifiX payload. Errors never include the payload: it carries the password.
 */
export function decodeWifiPayload(payload: unknown, dev?: { type: string; uuid: string; mac: string }): DecodedWifi {
  const wifi = isObject(payload) ? payload.wifi : undefined;
  if (!isObject(wifi) || typeof wifi.ssid !== "string" || typeof wifi.password !== "string") {
    throw badInput('The Wi-Fi payload must be {"wifi": {"ssid": base64, "password": base64, ...}}.');
  }
  const out: DecodedWifi = { ssid: Buffer.from(wifi.ssid, "base64").toString("utf8"), password: "" };
  const raw = Buffer.from(wifi.password, "base64");
  if (dev === undefined) {
    out.password = raw.toString("utf8");
  } else {
    const d = checkDevice(dev);
    try {
      out.password = decryptAes256Cbc(raw, wifiXKey(d.type, d.uuid, d.mac)).toString("utf8");
    } catch (err) {
      if (err instanceof MerossError) {
        throw badInput(
          "The WifiX password is not valid AES data for this device (wrong length): it must be base64 of whole 16-byte blocks.",
        );
      }
      throw err;
    }
  }
  if (typeof wifi.bssid === "string") out.bssid = wifi.bssid;
  for (const f of ["channel", "encryption", "cipher"] as const) {
    const n = toNumber(wifi[f]);
    if (n !== undefined) out[f] = n;
  }
  return out;
}
