/**
 * One place for every rule about the shape of a value: uuid, namespace, MAC, numbers,
 * JSON objects and how a bad value is quoted in an error. The core, the nodes, the CLI
 * and the simulator all import these; nothing restates a pattern of its own.
 */

export type Json = Record<string, unknown>;

/** Plain JSON object (not null, not an array): the only shape a payload field may have. */
export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A finite number from a number or a numeric string; devices send `port`, `userId`,
 * `channel` and similar fields either way (docs/protocol.md §3.2, §6.2).
 */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** toNumber, rounded to the nearest integer. */
export function toInt(v: unknown): number | undefined {
  const n = toNumber(v);
  return n === undefined ? undefined : Math.round(n);
}

/** Clamps `n` into [lo, hi]. */
export function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

/** Longest piece of a bad value quoted back in an error sentence (a hostile value can be megabytes). */
export const QUOTE_MAX_CHARS = 60;

/** A short, safe rendering of any value for an error sentence (never throws, never long). */
export function describeValue(v: unknown, max = QUOTE_MAX_CHARS): string {
  if (v === undefined) return "undefined";
  if (typeof v === "string") return JSON.stringify(v.length > max ? `${v.slice(0, max - 3)}...` : v);
  if (typeof v === "function") return "a function";
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = Object.prototype.toString.call(v);
  }
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/**
 * A device uuid (`hardware.uuid`): 32 letters and digits in every capture. Mostly hex, but
 * real ones contain other letters (`20091131118061251h5748e1e9334e2b`), so only the length
 * and the alphabet are checked; the last 12 characters are the MAC (docs/protocol.md §7).
 */
/** Deepest nesting a device message may have: real payloads stay under 10 levels. */
export const MAX_NESTING = 64;

/**
 * True when `value` nests objects or arrays deeper than `max` levels. Iterative: a hostile
 * reply 30,000 levels deep must not exhaust the stack here, nor anywhere after this check.
 */
export function nestedDeeperThan(value: unknown, max = MAX_NESTING): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== "object" || v === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

/** Channels one device may report (outlets, lights, doors); entries beyond come from a hostile list and are ignored. */
export const MAX_CHANNELS = 64;

export const UUID_PATTERN = /^[0-9A-Za-z]{32}$/;
/** What to tell a person whose uuid failed UUID_PATTERN. */
export const UUID_RULE = "a Meross uuid is 32 letters and digits (hardware.uuid in Appliance.System.All)";

export function isUuid(v: unknown): v is string {
  return typeof v === "string" && UUID_PATTERN.test(v);
}

/** `Appliance.Control.ToggleX`: "Appliance" and at least one more dotted segment of letters and digits. */
export const NAMESPACE_PATTERN = /^Appliance(\.[A-Za-z0-9]+)+$/;

export function isNamespace(v: unknown): v is string {
  return typeof v === "string" && NAMESPACE_PATTERN.test(v);
}

const MAC_SEPARATED = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i;
const MAC_BARE = /^[0-9a-f]{12}$/i;

/** `aa:bb:cc:dd:ee:ff` (lower case, colons) from any common spelling, or undefined. */
export function normalizeMac(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  const t = v.trim();
  if (MAC_SEPARATED.test(t)) return t.toLowerCase().replace(/-/g, ":");
  if (MAC_BARE.test(t)) return t.toLowerCase().match(/../g)!.join(":");
  return undefined;
}

/**
 * The last 12 characters of the uuid are the MAC on every real device (docs/protocol.md §7).
 * Only those 12 are checked for hex: the rest of a uuid may contain letters like "h".
 */
export function macFromUuid(uuid: string): string | undefined {
  if (typeof uuid !== "string" || uuid.length < 12) return undefined;
  const tail = uuid.slice(-12);
  return MAC_BARE.test(tail) ? normalizeMac(tail) : undefined;
}

/** Whether `mac` (any spelling) is the MAC the uuid ends with. */
export function macMatchesUuid(mac: string, uuid: string): boolean {
  const a = normalizeMac(mac);
  return !!a && a === macFromUuid(uuid);
}

/** `/appliance/<uuid>/publish` → uuid: where devices say a message comes from (docs/protocol.md §1.4). */
export function uuidFromPublishTopic(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  const m = /^\/appliance\/([^/+#]+)\/publish$/.exec(v);
  return m ? m[1] : undefined;
}

/** An e-mail address as an account sign-in takes it: one @, no spaces, at most 254 characters. */
export function isEmail(v: unknown): v is string {
  return typeof v === "string" && v.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(v);
}
