/**
 * The account's device list as this package shows it, read from `/v1/Device/devList` and
 * `/v1/Hub/getSubDevices` replies (docs/protocol.md §10.4). Replies come from the network:
 * entries that do not fit are skipped, texts are cut short, lists are bounded.
 */
import { isObject, isUuid } from "../protocol/rules";

/** Longest device list read from one reply. */
export const MAX_CLOUD_DEVICES = 500;
/** Hubs whose sub-devices are asked for (one call each). */
export const MAX_HUBS = 16;
const MAX_SUBDEVICES = 64;
const TEXT_MAX = 80;

export interface CloudSubDevice {
  id: string;
  model: string;
  name: string;
}

export interface CloudDevice {
  uuid: string;
  name: string;
  /** deviceType, e.g. "mss310". */
  model: string;
  firmware: string;
  hardware: string;
  /** onlineStatus 1 → true, 2 → false, anything else → undefined (not known). */
  online: boolean | undefined;
  /** Present for hubs: their sub-devices (sensors, valves). */
  subDevices?: CloudSubDevice[];
}

/** A text from the service, printable and bounded; "" when absent. */
function text(v: unknown): string {
  if (typeof v !== "string" && typeof v !== "number") return "";
  const chars = [...String(v)].map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? " " : c));
  return chars.join("").trim().slice(0, TEXT_MAX);
}

export function parseDevList(data: unknown): CloudDevice[] | undefined {
  if (!Array.isArray(data)) return undefined;
  const out: CloudDevice[] = [];
  for (const d of data.slice(0, MAX_CLOUD_DEVICES)) {
    if (!isObject(d) || !isUuid(d.uuid)) continue;
    out.push({
      uuid: d.uuid.toLowerCase(),
      name: text(d.devName),
      model: text(d.deviceType),
      firmware: text(d.fmwareVersion),
      hardware: text(d.hdwareVersion),
      online: d.onlineStatus === 1 ? true : d.onlineStatus === 2 ? false : undefined,
    });
  }
  return out;
}

export function parseSubDevices(data: unknown): CloudSubDevice[] | undefined {
  if (!Array.isArray(data)) return undefined;
  return data
    .slice(0, MAX_SUBDEVICES)
    .filter(isObject)
    .map((s) => ({ id: text(s.subDeviceId), model: text(s.subDeviceType), name: text(s.subDeviceName) }))
    .filter((s) => s.id !== "");
}

/** Hubs carry sub-devices; the list says so only by model (msh300, msh400, msh450, …). ⚠ docs/protocol.md §10.4. */
export function isHub(d: CloudDevice): boolean {
  return /^msh\d/i.test(d.model);
}
