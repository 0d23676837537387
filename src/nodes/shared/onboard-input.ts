/**
 * meross-onboard's inputs: the Wi-Fi target from the node's properties, optionally
 * replaced by a network object picked from a scan (msg.payload). The Wi-Fi password is
 * a credential only, so a flow cannot leak it through messages.
 */
import {
  MerossError,
  AP_ADDRESS,
  DEFAULT_MQTT_PORT,
  pairingKeys,
  scanWifi,
  type OnboardStep,
  MerossDevice,
  ARRIVAL_TIMEOUT_MS,
  type WifiNetwork,
  describeValue,
  isObject,
  badInput as bad,
} from "../../core";
import { isBlank } from "./inputs";

export interface WifiTarget {
  ssid: string;
  bssid?: string;
  channel?: number;
  encryption?: number;
  cipher?: number;
}

function optionalInt(v: unknown, name: string, max: number): number | undefined {
  if (isBlank(v)) return undefined;
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw bad(
      `The Wi-Fi ${name} ${describeValue(v)} is not valid: use a whole number from 0 to ${max}, or leave it empty to take it from the scan.`,
    );
  }
  return n;
}

function optionalText(v: unknown, name: string): string | undefined {
  if (isBlank(v)) return undefined;
  if (typeof v !== "string") throw bad(`The Wi-Fi ${name} ${describeValue(v)} must be text.`);
  return v.trim();
}

/** Builds the Wi-Fi target from a plain record (node properties or a scanned network). */
export function wifiTargetFrom(src: Record<string, unknown>): Partial<WifiTarget> {
  const out: Partial<WifiTarget> = {};
  if (!isBlank(src.ssid)) {
    if (typeof src.ssid !== "string") throw bad(`The Wi-Fi name (SSID) ${describeValue(src.ssid)} must be text.`);
    out.ssid = src.ssid;
  }
  const bssid = optionalText(src.bssid, "BSSID");
  if (bssid !== undefined) out.bssid = bssid;
  const channel = optionalInt(src.channel, "channel", 196);
  if (channel !== undefined) out.channel = channel;
  const encryption = optionalInt(src.encryption, "encryption", 255);
  if (encryption !== undefined) out.encryption = encryption;
  const cipher = optionalInt(src.cipher, "cipher", 255);
  if (cipher !== undefined) out.cipher = cipher;
  return out;
}

/** True when msg.payload asks for a scan instead of an onboarding. */
export function isScanRequest(payload: unknown): boolean {
  return typeof payload === "string" && payload.trim().toLowerCase() === "scan";
}

/**
 * The Wi-Fi target for one onboarding: a network object in msg.payload (as output by a
 * scan) replaces the configured network; anything else keeps the configured one.
 */
export function resolveWifiTarget(props: Record<string, unknown>, payload: unknown): WifiTarget {
  let target = wifiTargetFrom(props);
  if (isObject(payload)) {
    if ("password" in payload) {
      throw bad(
        "msg.payload.password is not accepted: the Wi-Fi password is a credential. Enter it in the meross-onboard node's settings.",
      );
    }
    if (!isBlank(payload.ssid)) {
      // A picked network replaces the whole target; mixing its SSID with another BSSID would never join.
      target = wifiTargetFrom(payload);
    }
  }
  if (!target.ssid) {
    throw bad(
      'The Wi-Fi network name (SSID) is missing. Use Scan in the node\'s settings, or send a network from a "scan" output as msg.payload.',
    );
  }
  return target as WifiTarget;
}

export function resolveMqttPort(v: unknown): number {
  if (isBlank(v)) return DEFAULT_MQTT_PORT;
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw bad(`The MQTT port ${describeValue(v)} is not valid: use a number from 1 to 65535 (8883 is usual for TLS).`);
  }
  return n;
}

/** The device's first broker connection must get its Bind answered before we stop caring (docs/protocol.md §3.9). */
export function arrivalTimeoutMs(v: unknown): number {
  if (isBlank(v)) return ARRIVAL_TIMEOUT_MS;
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : NaN;
  if (!Number.isFinite(n) || n < 1 || n > 3600) {
    throw bad(`The arrival timeout ${describeValue(v)} is not valid: use a number of seconds from 1 to 3600 (90 is usual).`);
  }
  return n * 1000;
}

/** The order onboard() runs its steps in, to announce the next one in the status. */
export const STEP_ORDER: OnboardStep["name"][] = [
  "read device",
  "read abilities",
  "set up encryption",
  "scan wifi",
  "set key",
  "set time",
  "set wifi",
];

export function addressOf(v: unknown): string {
  return typeof v === "string" && v.trim() ? v.trim() : AP_ADDRESS;
}

/**
 * Scans through a throwaway session: an access-point-mode device accepts any signature. Its
 * reply may be signed with `keys` (what this node set on an earlier attempt), else it is someone else's.
 */
export async function scanAt(address: string, keys: readonly string[] = []): Promise<WifiNetwork[]> {
  const device = new MerossDevice({ address, key: "", acceptKeys: pairingKeys("", keys) });
  try {
    return await scanWifi(device);
  } finally {
    await device.close().catch(() => undefined);
  }
}

export const BUSY = (): MerossError =>
  bad("An onboarding or scan is already running on this node. Wait for it to finish, then send again.");

export const BROKER_NOT_DEPLOYED = (): MerossError =>
  bad("The MQTT broker chosen in this meross-onboard node is not deployed. Open the node and pick a meross-broker again, then deploy.");
