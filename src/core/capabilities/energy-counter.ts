/**
 * A total energy counter that only rises, built from counters that do not: the daily values of
 * ConsumptionX (they restart at local midnight, after a reboot, and the list forgets days older
 * than about 30) or any other period counter (an energy meter's monthly `mConsume`). The rule:
 *
 * - a period seen before that grew adds the difference;
 * - a period whose value went down was restarted (reboot, or a firmware reset of today): the
 *   new value is what was used since, so it is added and nothing is subtracted;
 * - a period not seen before, newer than the newest seen, adds its whole value, so a gap of
 *   several days adds every day the device still lists;
 * - a known firmware bug opens a new day with the day before's total (docs/protocol-devices.md
 *   §17.1, ML#264 ⚠). It is not guessed at: a day with the same Wh as the day before is common
 *   for steady loads, and counting it away would lose real energy.
 * - periods older than the newest seen that were never seen (history before the first reading)
 *   add nothing after the first reading, which counts the whole list it gets.
 *
 * The state is plain JSON so a caller can keep it anywhere (Node-RED context) and pass it back.
 */
import { badInput } from "./util";
import { isObject, toNumber } from "./util";

/** One period's counter value: a day (YYYY-MM-DD) or any key that sorts in time order. */
export interface PeriodValue {
  period: string;
  wh: number;
}

export interface EnergyCounterState {
  /** Wh counted so far; never goes down. */
  totalWh: number;
  /** Last value seen per period (kept for the periods the device may still report). */
  seen: Record<string, number>;
}

/** Periods kept in `seen`: the device lists about 30 days, so twice that is plenty. */
const KEEP_PERIODS = 62;

export function emptyCounter(): EnergyCounterState {
  return { totalWh: 0, seen: {} };
}

/**
 * A counter state read back from storage; anything that is not one (first run, a flow that
 * wrote something else there) starts a fresh counter instead of failing.
 */
export function restoreCounter(stored: unknown): EnergyCounterState | undefined {
  if (!isObject(stored) || !isObject(stored.seen)) return undefined;
  const total = toNumber(stored.totalWh);
  if (total === undefined || total < 0) return undefined;
  const seen: Record<string, number> = {};
  for (const [k, v] of Object.entries(stored.seen)) {
    const n = toNumber(v);
    if (n !== undefined && n >= 0) seen[k] = n;
  }
  return { totalWh: total, seen };
}

/** The counter after one more reading of the periods; `prev` undefined = first reading. */
export function countEnergy(prev: EnergyCounterState | undefined, periods: readonly PeriodValue[]): EnergyCounterState {
  if (!Array.isArray(periods)) throw badInput("The energy periods must be a list of {period, wh}.");
  const first = prev === undefined;
  const state: EnergyCounterState = { totalWh: prev?.totalWh ?? 0, seen: { ...(prev?.seen ?? {}) } };
  const sorted = periods
    .filter((p) => typeof p.period === "string" && typeof p.wh === "number" && Number.isFinite(p.wh) && p.wh >= 0)
    .sort((a, b) => (a.period < b.period ? -1 : a.period > b.period ? 1 : 0));
  for (const { period, wh } of sorted) {
    const keys = Object.keys(state.seen).sort();
    const newest = keys[keys.length - 1];
    const before = state.seen[period];
    if (before !== undefined) {
      state.totalWh += wh >= before ? wh - before : wh;
    } else if (first || newest === undefined || period > newest) {
      state.totalWh += wh;
    } else {
      // Older than what we know and never seen: history from before the first reading.
      continue;
    }
    state.seen[period] = wh;
  }
  const keys = Object.keys(state.seen).sort();
  for (const k of keys.slice(0, Math.max(0, keys.length - KEEP_PERIODS))) delete state.seen[k];
  state.totalWh = Math.round(state.totalWh * 1000) / 1000;
  return state;
}
