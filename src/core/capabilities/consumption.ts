/**
 * Daily energy (Control.ConsumptionX, docs/protocol.md §6.9 and docs/protocol-devices.md §17.1):
 * about 30 items `{date, time, value}`, unsorted, `date` the device's **local** day (its zone
 * comes from System.Time), `value` the Wh of that day, `time` the epoch of the item's last
 * update. Today is the item updated last, not the largest date: a device whose clock or zone
 * is off still names its own day.
 */
import type { ChangeSource, DeviceSession, Update } from "./types";
import { badReply, isObject, toNumber } from "./util";

declare module "./types" {
  interface MutableDeviceState {
    /** Last daily energy list (ConsumptionX). */
    consumption?: DailyConsumption[];
  }
  interface CapabilityEvents {
    consumption: { days: DailyConsumption[]; source?: ChangeSource };
  }
}

export const NS_CONSUMPTIONX = "Appliance.Control.ConsumptionX";

/** One day of energy: date as the device reports it (its local day), time its epoch, wh the total. */
export interface DailyConsumption {
  date: string;
  time: number;
  wh: number;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Sorted oldest first (the device sends today first, then the rest: mss310r trace). */
export function parseConsumptionX(payload: unknown): DailyConsumption[] {
  const list = isObject(payload) ? payload.consumptionx : undefined;
  if (!Array.isArray(list)) throw badReply("Control.ConsumptionX", 'it has no "consumptionx" list', payload);
  const out: DailyConsumption[] = [];
  for (const e of list) {
    if (!isObject(e) || typeof e.date !== "string" || !ISO_DATE.test(e.date)) continue;
    const wh = toNumber(e.value);
    if (wh === undefined || wh < 0) continue;
    out.push({ date: e.date, time: toNumber(e.time) ?? 0, wh });
  }
  return out.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.time - b.time));
}

/** The device's today (the item updated last) and the day before it, if listed. */
export function todayOf(days: readonly DailyConsumption[]): { today?: DailyConsumption; yesterday?: DailyConsumption } {
  if (days.length === 0) return {};
  const today = days.reduce((a, b) => (b.time > a.time || (b.time === a.time && b.date > a.date) ? b : a));
  const before = days.filter((d) => d.date < today.date);
  return { today, yesterday: before[before.length - 1] };
}

/**
 * The offset (seconds east of UTC) a System.Time `timeRule` list gives at `epochSec`: the last
 * rule whose start is not after it (docs/protocol.md §3.8). No rule in force means UTC.
 */
export function offsetAt(timeRule: readonly (readonly number[])[], epochSec: number): number {
  let offset = 0;
  let start = -Infinity;
  for (const r of timeRule) {
    const at = r[0];
    const off = r[1];
    if (typeof at === "number" && typeof off === "number" && at <= epochSec && at >= start) {
      start = at;
      offset = off;
    }
  }
  return offset;
}

/** The device-local day (YYYY-MM-DD) of `epochSec` under its `timeRule`. */
export function localDate(epochSec: number, timeRule: readonly (readonly number[])[] = []): string {
  return new Date((epochSec + offsetAt(timeRule, epochSec)) * 1000).toISOString().slice(0, 10);
}

/** The state update a ConsumptionX reply or push means: listeners hear the whole list. */
export function reduceConsumption(days: DailyConsumption[], source: ChangeSource = "reply"): Update {
  return (state) => {
    state.consumption = days;
    return [{ type: "consumption", days, source }];
  };
}

export async function getConsumption(s: DeviceSession): Promise<DailyConsumption[]> {
  await s.ready();
  const days = parseConsumptionX((await s.request("GET", NS_CONSUMPTIONX, { consumptionx: [] })).payload);
  s.commit(reduceConsumption(days));
  return days;
}
