/**
 * Burst-safe command scheduler for one device channel. A dashboard slider can emit a
 * hundred messages a second while a bulb answers a few requests a second and some
 * firmwares hang when flooded (docs/protocol.md §2.3), so instead of queueing every command
 * we keep at most one waiting command and merge newer ones into it.
 */

/** How a submitted command ended: it ran (with its result) or a newer one absorbed it. */
export type CoalescedOutcome<R> = { status: "done"; result: R } | { status: "superseded" } | { status: "cancelled" };

export interface CoalescerOptions<C, R> {
  /**
   * Runs one (possibly merged) command; only one runs at a time. `signal` aborts once every
   * submitter whose settings it carries has gone (undefined when one of them gave no signal).
   */
  execute: (command: C, signal?: AbortSignal) => Promise<R>;
  /** Folds a newer command over an older pending one; newer fields win. */
  merge: (older: C, newer: C) => C;
  /** The floor between the starts of two executions (default 55 ms); never shortened. */
  minIntervalMs?: number;
}

/**
 * A floor of 55 ms between two requests, so at most about 18 a second: with bulbs that take
 * ~30 ms per request this keeps a 100 msg/s slider burst to about one request per 55 ms, and
 * the last setting lands at most one gap after the burst ends (see `npm run bench`, light-burst).
 */
export const DEFAULT_MIN_INTERVAL_MS = 55;

interface Waiting<C, R> {
  command: C;
  resolve: (outcome: CoalescedOutcome<R>) => void;
  reject: (err: unknown) => void;
  /** Everyone whose settings live in `command` and who can still go away (their node closes). */
  wanters: Set<AbortSignal>;
  /** True when one submitter gave no signal: nothing can withdraw the command then. */
  pinned: boolean;
  /** Aborts once every wanter has aborted: what the running command is handed. */
  gone: AbortController;
  offs: Array<() => void>;
}

/**
 * At most one command runs and at most one waits. A command submitted while another
 * waits replaces it (merged); the replaced caller settles at once as "superseded",
 * because its settings live on in the merged command, which keeps every submitter's signal
 * and runs while any of them still wants it. Every submit() settles once.
 */
export class Coalescer<C, R> {
  private readonly execute: (command: C, signal?: AbortSignal) => Promise<R>;
  private readonly merge: (older: C, newer: C) => C;
  private readonly minIntervalMs: number;
  private waiting: Waiting<C, R> | undefined;
  private running = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastStart = Number.NEGATIVE_INFINITY;
  private executions = 0;

  constructor(opts: CoalescerOptions<C, R>) {
    this.execute = opts.execute;
    this.merge = opts.merge;
    const gap = opts.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS;
    this.minIntervalMs = Number.isFinite(gap) && gap > 0 ? gap : 0;
  }

  /** Commands actually executed so far (merged ones count once). */
  get executed(): number {
    return this.executions;
  }

  /** True while a command runs or waits. */
  get busy(): boolean {
    return this.running || this.waiting !== undefined;
  }

  /**
   * Queues `command` (merged into the waiting one, if any). Once the signals of everyone whose
   * settings the waiting command carries have aborted, it settles as "cancelled" and nothing
   * is executed for it.
   */
  submit(command: C, opts: { signal?: AbortSignal } = {}): Promise<CoalescedOutcome<R>> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.resolve({ status: "cancelled" });
    return new Promise<CoalescedOutcome<R>>((resolve, reject) => {
      const older = this.waiting;
      let merged = command;
      if (older) {
        try {
          merged = this.merge(older.command, command);
        } catch (err) {
          // A merge that fails must not lose the older command: refuse only the newer one.
          reject(err);
          return;
        }
      }
      const entry: Waiting<C, R> = {
        command: merged,
        resolve,
        reject,
        wanters: new Set(older?.wanters),
        pinned: older?.pinned === true || !signal,
        gone: older?.gone ?? new AbortController(),
        offs: [],
      };
      if (older) {
        this.detach(older);
        older.resolve({ status: "superseded" });
      }
      if (signal) entry.wanters.add(signal);
      for (const s of entry.wanters) {
        const onAbort = (): void => this.withdraw(entry, s);
        s.addEventListener("abort", onAbort, { once: true });
        entry.offs.push(() => s.removeEventListener("abort", onAbort));
      }
      this.waiting = entry;
      this.pump();
    });
  }

  /**
   * Settles a waiting command as "cancelled" (its light is going away); a running one finishes.
   * With `match`, only a waiting command it accepts is dropped: a fade step must not leave its
   * in-between colour in the command that interrupts the fade (merging would keep it).
   */
  cancel(match?: (command: C) => boolean): void {
    if (match && !(this.waiting && match(this.waiting.command))) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const w = this.waiting;
    this.waiting = undefined;
    if (w) this.detach(w);
    w?.resolve({ status: "cancelled" });
  }

  /** One submitter went away: the command goes only when nobody is left who wants it. */
  private withdraw(entry: Waiting<C, R>, signal: AbortSignal): void {
    entry.wanters.delete(signal);
    if (entry.pinned || entry.wanters.size > 0) return;
    entry.gone.abort();
    if (this.waiting !== entry) return;
    this.waiting = undefined;
    this.detach(entry);
    entry.resolve({ status: "cancelled" });
  }

  private detach(w: Waiting<C, R>): void {
    for (const off of w.offs.splice(0)) off();
  }

  private pump(): void {
    if (this.running || this.timer || !this.waiting) return;
    // A monotonic clock: a wall clock set back (NTP at boot) must not hold the next command for the difference.
    const wait = this.lastStart + this.minIntervalMs - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
      return;
    }
    const job = this.waiting;
    this.waiting = undefined;
    this.running = true;
    this.lastStart = performance.now();
    this.executions++;
    // While it runs, a wanter that goes away still counts: the request is aborted only when all have.
    let result: Promise<R>;
    try {
      result = Promise.resolve(this.execute(job.command, job.pinned ? undefined : job.gone.signal));
    } catch (err) {
      result = Promise.reject(err);
    }
    result
      .then(
        (r) => job.resolve({ status: "done", result: r }),
        (err: unknown) => job.reject(err),
      )
      .finally(() => {
        this.detach(job);
        this.running = false;
        this.pump();
      });
  }
}
