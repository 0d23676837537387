/**
 * Energy a simulated load uses, kept per device-local day like ConsumptionX (docs/protocol-devices.md
 * §17.1): the day is taken in the zone System.Time gave the device, today's value restarts at local
 * midnight, each item's `time` is its last update, and about 30 days are kept. It integrates in
 * simulated time (SimClock), so advancing the clock by days fills those days in.
 */
import { localDate } from "../../core/capabilities/consumption";
import type { SimClock } from "../state";

export interface DayEntry {
  date: string;
  time: number;
  /** Wh, fractional while it accumulates; replies round it. */
  wh: number;
}

const DAY_S = 86_400;
/** A clock jump back, or ahead by more than the list (first NTP/Clock sync after boot), restarts the ledger. */
const MAX_GAP_S = 31 * DAY_S;
const KEEP_DAYS = 30;

export class EnergyDays {
  private readonly days = new Map<string, DayEntry>();
  private lastSec: number;

  /**
   * `watts(atSec)` is the load between two integration points (callers integrate before it
   * changes); `seed` fills the ~30 days before now when the ledger (re)starts.
   */
  constructor(
    private readonly clock: SimClock,
    private readonly watts: () => number,
    private readonly seed?: (dayStart: number, date: string) => number,
  ) {
    this.lastSec = clock.seconds();
    this.reseed();
  }

  /** Counts the energy used since the last call, splitting it at local midnights. */
  integrate(): void {
    const now = this.clock.seconds();
    if (now <= this.lastSec && now > this.lastSec - 60) return;
    if (now < this.lastSec || now - this.lastSec > MAX_GAP_S) {
      this.lastSec = now;
      this.reseed();
      return;
    }
    const w = this.watts();
    let t = this.lastSec;
    while (t < now) {
      const date = this.dateOf(t);
      let end = Math.min(now, t + DAY_S);
      // Find the first second of the next local day (rules change at most once a day).
      if (this.dateOf(end) !== date) {
        let lo = t;
        let hi = end;
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (this.dateOf(mid) === date) lo = mid;
          else hi = mid;
        }
        end = hi;
      }
      const entry = this.entry(date);
      entry.wh += (w * (end - t)) / 3600;
      entry.time = end === now ? now : end - 1;
      t = end;
    }
    if (!this.days.has(this.dateOf(now))) this.entry(this.dateOf(now)).time = now;
    this.lastSec = now;
    this.trim();
  }

  /** Today's Wh (after integrating). */
  today(): number {
    this.integrate();
    return this.days.get(this.dateOf(this.clock.seconds()))?.wh ?? 0;
  }

  /** Firmware that restarts today's counter when it reboots (the reason totals must not follow it). */
  resetToday(): void {
    this.integrate();
    const e = this.days.get(this.dateOf(this.clock.seconds()));
    if (e) e.wh = 0;
  }

  /** ConsumptionX items: today first, then the rest oldest first, as the mss310r trace lists them. */
  items(): { date: string; time: number; value: number }[] {
    this.integrate();
    const today = this.dateOf(this.clock.seconds());
    const list = [...this.days.values()].sort((a, b) => (a.date < b.date ? -1 : 1));
    const out = list.filter((d) => d.date !== today);
    const t = this.days.get(today);
    if (t) out.unshift(t);
    return out.map((d) => ({ date: d.date, time: d.time, value: Math.round(d.wh) }));
  }

  private dateOf(sec: number): string {
    return localDate(sec, this.clock.timeRule);
  }

  private entry(date: string): DayEntry {
    let e = this.days.get(date);
    if (!e) {
      e = { date, time: 0, wh: 0 };
      this.days.set(date, e);
    }
    return e;
  }

  private reseed(): void {
    this.days.clear();
    const now = this.clock.seconds();
    if (this.seed) {
      for (let d = KEEP_DAYS - 1; d >= 1; d--) {
        const at = now - d * DAY_S;
        const date = this.dateOf(at);
        this.days.set(date, { date, time: at, wh: this.seed(at, date) });
      }
    }
    this.entry(this.dateOf(now)).time = now;
  }

  private trim(): void {
    const dates = [...this.days.keys()].sort();
    for (const d of dates.slice(0, Math.max(0, dates.length - KEEP_DAYS))) this.days.delete(d);
  }
}
