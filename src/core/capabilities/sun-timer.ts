/**
 * Sunrise/sunset timers. How firmware stores a sun-relative TimerX is not known: every
 * capture and source has `sunOffset: 0` and no sun `type` code (docs/protocol-devices.md
 * §18.2 ⚠), and guessing would program real devices wrongly. So a sun timer is written as a
 * plain weekly timer at today's sun time plus the offset, and its rule is kept in the
 * timer's own name as a tag ("Porch @sunset-15"), on the device, where every tool of this
 * project finds it. `retimeSunTimers` (schedule.ts) moves such timers as the days lengthen
 * and shorten; between two re-timings the device keeps firing at the last time, so with
 * Node-RED stopped a timer drifts by the day-to-day change of the sun time (a few minutes a
 * week at most, away from the polar circles) instead of stopping.
 *
 * The sun times come from a place: the one the flow or the CLI gives, else the device's
 * own System.Position (set by the Meross app; 0/0 means never set). Device-local minutes
 * follow the device's own clock rules (System.Time `timeRule`), the ones it runs timers by.
 */
import { sunDay } from "../astro";
import { MerossError } from "../errors";
import { modelOf, type DeviceSession } from "./types";
import { badInput, describeValue, isObject, toNumber, type Json } from "./util";

export const NS_POSITION = "Appliance.System.Position";

export type SunEvent = "sunrise" | "sunset";

/** "`offsetMinutes` after (negative: before) sunrise or sunset". */
export interface SunRule {
  event: SunEvent;
  offsetMinutes: number;
}

/** Where the sun is watched from, in degrees (north and east positive). */
export interface Place {
  latitude: number;
  longitude: number;
}

/**
 * How often a running flow moves sunrise/sunset timers to the day's sun time. Sun times move
 * by at most a few minutes a day away from the polar circles; four times a day keeps a timer
 * within a minute or two of the sun.
 */
export const SUN_RETIME_INTERVAL_MS = 6 * 3600 * 1000;

/** Largest offset accepted: six hours either side of the sun time. */
export const MAX_SUN_OFFSET_MINUTES = 360;

const TAG = /(?:^|\s)@(sunrise|sunset)([+-]\d{1,3})?$/;
const TIME_WORD = /^\s*(sunrise|sunset)\s*(?:([+-])\s*(\d{1,3}))?\s*$/i;

function checkOffset(v: unknown, what: string): number {
  if (typeof v === "number" && Number.isInteger(v) && Math.abs(v) <= MAX_SUN_OFFSET_MINUTES) return v;
  throw badInput(
    `${what} ${describeValue(v)} must be whole minutes from -${MAX_SUN_OFFSET_MINUTES} to ${MAX_SUN_OFFSET_MINUTES} ` +
      `(negative: before), e.g. {"sunset": -15} for a quarter of an hour before sunset.`,
  );
}

/**
 * The sun rule a timer input asks for: `time: "sunset-15"` (also "sunrise", "sunrise+30"),
 * or `sunrise: 30` / `sunset: -15`; undefined for a fixed time.
 */
export function sunRuleOf(input: Json): SunRule | undefined {
  const given = (["sunrise", "sunset"] as const).filter((e) => input[e] !== undefined);
  const word = typeof input.time === "string" ? TIME_WORD.exec(input.time) : null;
  if (given.length + (word ? 1 : 0) + (input.time !== undefined && !word ? 1 : 0) > 1) {
    throw badInput('Give a timer one time only: "time" (like "07:30" or "sunset-15"), or "sunrise", or "sunset".');
  }
  if (word) {
    const offset = word[3] === undefined ? 0 : Number(word[3]) * (word[2] === "-" ? -1 : 1);
    return { event: word[1].toLowerCase() as SunEvent, offsetMinutes: checkOffset(offset, `The offset in ${describeValue(input.time)}`) };
  }
  if (given.length === 0) return undefined;
  const event = given[0];
  return { event, offsetMinutes: checkOffset(input[event], `"${event}"`) };
}

/** "@sunset-15": the tag kept at the end of the timer's name. */
export function sunTag(rule: SunRule): string {
  const o = rule.offsetMinutes;
  return `@${rule.event}${o === 0 ? "" : o > 0 ? `+${o}` : String(o)}`;
}

/** The rule a timer's name carries, if any. */
export function sunRuleFromAlias(alias: string): SunRule | undefined {
  const m = TAG.exec(alias);
  if (!m) return undefined;
  const offset = m[2] === undefined ? 0 : Number(m[2]);
  return Math.abs(offset) <= MAX_SUN_OFFSET_MINUTES ? { event: m[1] as SunEvent, offsetMinutes: offset } : undefined;
}

/** The name without its sun tag. */
export function withoutSunTag(alias: string): string {
  return TAG.test(alias) ? alias.replace(TAG, "") : alias;
}

export function withSunTag(name: string, rule: SunRule | undefined): string {
  const bare = withoutSunTag(name);
  if (!rule) return bare;
  return bare === "" ? sunTag(rule) : `${bare} ${sunTag(rule)}`;
}

/** "15 min before sunset". */
export function describeSunRule(rule: SunRule): string {
  const o = rule.offsetMinutes;
  if (o === 0) return `at ${rule.event}`;
  return `${Math.abs(o)} min ${o > 0 ? "after" : "before"} ${rule.event}`;
}

/** A place from a node's or the CLI's settings; both blank is "none given". */
export function parsePlace(latitude: unknown, longitude: unknown): Place | undefined {
  const blank = (v: unknown): boolean => v === undefined || v === null || (typeof v === "string" && v.trim() === "");
  if (blank(latitude) && blank(longitude)) return undefined;
  const num = (v: unknown): unknown => (typeof v === "string" ? (v.trim() === "" ? NaN : Number(v)) : v);
  const lat = num(latitude);
  const lon = num(longitude);
  if (typeof lat !== "number" || !Number.isFinite(lat) || Math.abs(lat) > 90) {
    throw badInput(`The latitude ${describeValue(latitude)} must be degrees from -90 (south) to 90 (north), e.g. 51.5 for London.`);
  }
  if (typeof lon !== "number" || !Number.isFinite(lon) || Math.abs(lon) > 180) {
    throw badInput(`The longitude ${describeValue(longitude)} must be degrees from -180 (west) to 180 (east), e.g. -0.13 for London.`);
  }
  return { latitude: lat, longitude: lon };
}

/** Today's sun times on the device's clock, in minutes after its local midnight. */
export interface SunClock {
  sunrise: number;
  sunset: number;
  /** Where the place came from. */
  from: "settings" | "device";
}

/** Seconds east of UTC at `at` (epoch seconds): the last `[start, offset, …]` rule begun by then (§3.8). */
function utcOffsetAt(timeRule: unknown, at: number): number {
  let offset = 0;
  if (!Array.isArray(timeRule)) return offset;
  for (const r of timeRule) {
    const start = Array.isArray(r) ? toNumber(r[0]) : undefined;
    const o = Array.isArray(r) ? toNumber(r[1]) : undefined;
    if (start !== undefined && o !== undefined && start <= at && Math.abs(o) <= 14 * 3600) offset = o;
  }
  return offset;
}

/** Answers that mean "this device has no place to give" rather than "the device is not there". */
const NO_PLACE = new Set(["UNSUPPORTED", "DEVICE_ERROR", "BAD_RESPONSE"]);

async function devicePlace(s: DeviceSession): Promise<Place | undefined> {
  if (!s.has(NS_POSITION)) return undefined;
  let p: Json;
  try {
    p = (await s.request("GET", NS_POSITION, {})).payload;
  } catch (err) {
    if (err instanceof MerossError && NO_PLACE.has(err.code)) return undefined;
    throw err;
  }
  // `{"position": []}` (mrs100 capture) and `{0, 0}` (msl320 capture) both mean "never set".
  const pos = isObject(p.position) ? p.position : undefined;
  const lat = pos ? toNumber(pos.latitude) : undefined;
  const lon = pos ? toNumber(pos.longitude) : undefined;
  // Degrees × 1e6 (docs/protocol.md §6.4); 0/0 is what a device never given a place reports.
  if (lat === undefined || lon === undefined || (lat === 0 && lon === 0)) return undefined;
  if (Math.abs(lat) > 90e6 || Math.abs(lon) > 180e6) return undefined;
  return { latitude: lat / 1e6, longitude: lon / 1e6 };
}

/**
 * Today's sunrise and sunset on the device's clock. BAD_INPUT when no place is known, or
 * where the sun does not rise or set today.
 */
export async function sunClock(s: DeviceSession, place: Place | undefined, nowMs = Date.now()): Promise<SunClock> {
  const where = place ?? (await devicePlace(s));
  if (!where) {
    throw badInput(
      `This ${modelOf(s)} does not know where it is, so its sunrise and sunset cannot be worked out. ` +
        `Set Latitude and Longitude on the meross-schedule node (or give --lat and --lon to the meross CLI).`,
    );
  }
  // The device's DST rules come from the System.All digest read once per session (system.ts).
  await s.ready();
  const timeRule = s.state.clock?.timeRule;
  const now = Math.floor(nowMs / 1000);
  const localDay = Math.floor((now + utcOffsetAt(timeRule, now)) / 86_400);
  const day = sunDay(localDay, where.latitude, where.longitude);
  if (day.kind !== "normal") {
    throw badInput(
      `The sun ${day.kind === "polar-day" ? "does not set" : "does not rise"} today at latitude ${where.latitude}: ` +
        `a sunrise/sunset timer has nothing to follow there. Use a fixed "time" instead.`,
    );
  }
  const local = (ms: number): number => {
    const at = Math.floor(ms / 1000);
    const seconds = (((at + utcOffsetAt(timeRule, at)) % 86_400) + 86_400) % 86_400;
    return Math.round(seconds / 60) % 1440;
  };
  return { sunrise: local(day.sunrise), sunset: local(day.sunset), from: place ? "settings" : "device" };
}

/** The device-local minute a rule means today; BAD_INPUT when the offset leaves the day. */
export function sunMinutes(clock: SunClock, rule: SunRule): number {
  const at = clock[rule.event] + rule.offsetMinutes;
  if (at < 0 || at > 1439) {
    const base = clock[rule.event];
    throw badInput(
      `${describeSunRule(rule)} falls on another day today (${rule.event} is at ${String(Math.floor(base / 60)).padStart(2, "0")}:` +
        `${String(base % 60).padStart(2, "0")} on the device's clock): pick a smaller offset.`,
    );
  }
  return at;
}
