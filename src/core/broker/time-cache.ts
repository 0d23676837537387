/**
 * The System.Time SET the broker sends at every device Bind (docs/protocol.md §3.8), from a
 * table of the zone's offset changes built once per zone and UTC day. Building it scans four
 * years day by day through ICU (about 15 ms); a thousand devices binding at start-up, or again
 * after a Wi-Fi outage, would each pay that and block the event loop. The result is the same as
 * buildSystemTimePayload's for the same second (test/core/broker/time_cache_spec.ts compares them).
 */
import {
  DAY_S,
  YEAR_S,
  YEARS_AHEAD,
  bisect,
  buildSystemTimePayload,
  offsetAt,
  offsetFormatter,
  type SystemTimePayload,
  type TimeRule,
} from "../onboarding/config";

interface Change {
  at: number;
  offset: number;
}

/** A zone's offset changes over every window a second of `day` can ask for. */
interface ZoneTable {
  from: number;
  /** The offset at `from`. */
  base: number;
  changes: Change[];
}

/** Zones × days kept (a broker uses one zone; the bound only guards against misuse). */
const TABLES_KEPT = 16;
const tables = new Map<string, ZoneTable>();

function buildTable(zone: string, day: number): ZoneTable {
  const fmt = offsetFormatter(zone);
  // Widest window any second of the day asks for: [now - 1 year, now + 3 years].
  const from = day * DAY_S - YEAR_S;
  const to = (day + 1) * DAY_S + (YEARS_AHEAD + 1) * YEAR_S;
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
  return { from, base, changes };
}

function tableFor(zone: string, day: number): ZoneTable {
  const key = `${zone}|${day}`;
  let table = tables.get(key);
  if (!table) {
    table = buildTable(zone, day);
    if (tables.size >= TABLES_KEPT) tables.delete(tables.keys().next().value as string);
    tables.set(key, table);
  }
  return table;
}

function offsetIn(table: ZoneTable, sec: number): number {
  let offset = table.base;
  for (const c of table.changes) {
    if (c.at > sec) break;
    offset = c.offset;
  }
  return offset;
}

/** buildSystemTimePayload(nowSec, timeZone), computed from the cached table of the zone and day. */
export function systemTimePayload(nowSec: number, timeZone?: string): SystemTimePayload {
  const zone = timeZone ?? new Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
  // Anything unusual (bad time, unknown or empty zone) takes the uncached path and its error sentence.
  if (typeof nowSec !== "number" || !Number.isFinite(nowSec) || nowSec < 0 || typeof zone !== "string" || zone === "") {
    return buildSystemTimePayload(nowSec, timeZone);
  }
  const now = Math.floor(nowSec);
  const table = tableFor(zone, Math.floor(now / DAY_S));
  const start = now - YEAR_S;
  const end = now + (YEARS_AHEAD + 1) * YEAR_S;
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
