/**
 * System.Time SET (docs/protocol.md §3.8): the clock, zone and DST rules a device gets when it
 * is onboarded, at every Bind and Clock push on our broker, and from syncTime. Transitions are
 * found with Node's built-in ICU (works offline) by scanning four years day by day and
 * bisecting to the second: about 15 ms of blocking work. A thousand devices binding at start-up,
 * or again after a Wi-Fi outage, would each pay that, so the zone's changes are kept per zone
 * and UTC day: the table of a day covers the window of every second of that day, so a second
 * gets the same answer as a scan of its own window would give (test/core/onboarding/system_time_spec.ts
 * compares them), and the next day builds a new table with the new window.
 */
import { badInput, describeValue } from "../capabilities/util";

/** [utcEpoch when it starts, UTC offset in seconds, 1 if daylight saving] as devices store it (§3.8). */
export type TimeRule = [number, number, 0 | 1];

export type SystemTimePayload = {
  time: { timestamp: number; timezone: string; timeRule: TimeRule[] };
};

const DAY_S = 86_400;
const YEAR_S = 366 * DAY_S;
/** Devices keep ~20 entries from the cloud; the current and next ~2 years is plenty (§3.8). */
const YEARS_AHEAD = 2;
/** Zones × days kept (a process uses one zone or two; the bound only guards against misuse). */
const TABLES_KEPT = 16;

function offsetFormatter(timeZone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" });
  } catch {
    throw badInput(`The time zone ${describeValue(timeZone)} is not known: use an IANA name such as "Europe/Berlin" or "UTC".`);
  }
}

/** UTC offset in seconds at `sec`, parsed from "GMT+01:00" (or "GMT" for zero). */
function offsetAt(fmt: Intl.DateTimeFormat, sec: number): number {
  const name = fmt.formatToParts(new Date(sec * 1000)).find((p) => p.type === "timeZoneName")?.value ?? "GMT";
  const m = /^GMT([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(name);
  if (!m) return 0;
  const s = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return m[1] === "-" ? -s : s;
}

/** The first second at which the offset differs from the one at `lo` (lo < hi, offsets differ). */
function bisect(fmt: Intl.DateTimeFormat, lo: number, hi: number): number {
  const before = offsetAt(fmt, lo);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(fmt, mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

interface Change {
  at: number;
  offset: number;
}

/** A zone's offset at `from` and its changes after it, up to the end of the scan. */
interface ZoneTable {
  base: number;
  changes: Change[];
}

/** Scans (from, to] day by day; a day whose offset differs from the day before is bisected to the second. */
function scan(fmt: Intl.DateTimeFormat, from: number, to: number): ZoneTable {
  const base = offsetAt(fmt, from);
  const changes: Change[] = [];
  let prevT = from;
  let prevOffset = base;
  for (let t = from + DAY_S; t <= to; t += DAY_S) {
    const off = offsetAt(fmt, t);
    if (off !== prevOffset) {
      const at = bisect(fmt, prevT, t);
      changes.push({ at, offset: offsetAt(fmt, at) });
      prevOffset = off;
    }
    prevT = t;
  }
  return { base, changes };
}

function offsetIn(table: ZoneTable, sec: number): number {
  let offset = table.base;
  for (const c of table.changes) {
    if (c.at > sec) break;
    offset = c.offset;
  }
  return offset;
}

/** The window a payload for `now` looks at: from a year back (the rule in force) to three years ahead. */
function windowOf(now: number): [number, number] {
  return [now - YEAR_S, now + (YEARS_AHEAD + 1) * YEAR_S];
}

/**
 * The list starts with the rule in force now, as real devices store it (trace timeRule lists).
 * isDst = offset above the zone's smallest offset in the window. A zone without DST gets one
 * rule with its fixed offset, or none for UTC+0. `table` must cover the window of `now`.
 */
function payloadFrom(table: ZoneTable, now: number, zone: string): SystemTimePayload {
  const [start, end] = windowOf(now);
  const inWindow = table.changes.filter((c) => c.at > start && c.at <= end);
  let timeRule: TimeRule[];
  if (inWindow.length === 0) {
    const offset = offsetIn(table, now);
    timeRule = offset === 0 ? [] : [[start, offset, 0]];
  } else {
    const atStart = offsetIn(table, start);
    const minOffset = Math.min(atStart, ...inWindow.map((c) => c.offset));
    const lastBefore = inWindow.filter((c) => c.at <= now).pop();
    const upcoming = inWindow.filter((c) => c.at > now && c.at <= now + YEARS_AHEAD * YEAR_S);
    const chosen = [lastBefore ?? { at: start, offset: atStart }, ...upcoming];
    timeRule = chosen.map((c) => [c.at, c.offset, c.offset > minOffset ? 1 : 0]);
  }
  return { time: { timestamp: now, timezone: zone, timeRule } };
}

let machineZone: { tz: string | undefined; zone: string } | undefined;

/**
 * This machine's zone, looked up again only when process.env.TZ changes (Node itself notices a
 * new zone only through TZ). A lookup builds an ICU formatter, some 20 KB of native memory freed
 * only at a later gc: one per device Bind made ICU the second-largest native allocator while a
 * fleet logs in (heaptrack, bench tls-memory variant=broker, 300 devices: ~7 MB at the peak,
 * none with this; the resident heap afterwards moves less than its run-to-run noise).
 */
function defaultZone(): string {
  const tz = process.env.TZ;
  if (!machineZone || machineZone.tz !== tz) {
    machineZone = { tz, zone: new Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC" };
  }
  return machineZone.zone;
}

function checkTime(nowSec: number, timeZone: string | undefined): { now: number; zone: string } {
  if (typeof nowSec !== "number" || !Number.isFinite(nowSec) || nowSec < 0) {
    throw badInput(`The time ${describeValue(nowSec)} must be Unix epoch seconds.`);
  }
  const zone = timeZone ?? defaultZone();
  if (typeof zone !== "string" || zone === "") throw badInput('The time zone must be an IANA name such as "Europe/Berlin".');
  return { now: Math.floor(nowSec), zone };
}

const tables = new Map<string, ZoneTable>();

/** System.Time SET for `nowSec` in `timeZone` (default: this machine's), from the zone's table for that UTC day. */
export function buildSystemTimePayload(nowSec: number, timeZone?: string): SystemTimePayload {
  const { now, zone } = checkTime(nowSec, timeZone);
  const day = Math.floor(now / DAY_S);
  const key = `${zone}|${day}`;
  let table = tables.get(key);
  if (!table) {
    // From the start of the first second's window to the end of the last second's; an unknown zone throws here, before it is kept.
    table = scan(offsetFormatter(zone), windowOf(day * DAY_S)[0], windowOf((day + 1) * DAY_S)[1]);
    if (tables.size >= TABLES_KEPT) tables.delete(tables.keys().next().value as string);
    tables.set(key, table);
  }
  return payloadFrom(table, now, zone);
}

/**
 * What buildSystemTimePayload answers, from a scan of exactly this second's window and with
 * nothing kept: the reference its tests compare the kept tables against.
 */
export function scanSystemTimePayload(nowSec: number, timeZone?: string): SystemTimePayload {
  const { now, zone } = checkTime(nowSec, timeZone);
  return payloadFrom(scan(offsetFormatter(zone), ...windowOf(now)), now, zone);
}

/** How many zone-day tables are kept (for tests: the cache must stay bounded). */
export function systemTimeTablesKept(): number {
  return tables.size;
}
