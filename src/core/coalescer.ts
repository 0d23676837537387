/**
 * Burst-safe command scheduler for one device channel. A dashboard slider can emit a
 * hundred messages a second while a bulb answers a few requests a second and some
 * firmwares hang when flooded (docs/protocol.md §2.3), so instead of queueing every command
 * we keep at most one waiting command and merge newer ones into it.
 */

/** How a submitted command ended: it ran (with its result) or a newer one absorbed it. */
export type CoalescedOutcome<R> = { status: "done"; result: R } | { status: "superseded" } | { status: "cancelled" };

export interface CoalescerOptions<C, R> {
  /** Runs one (possibly merged) command; only one runs at a time. `signal` is its submitter's. */
  execute: (command: C, signal?: AbortSignal) => Promise<R>;
  /** Folds a newer command over an older pending one; newer fields win. */
  merge: (older: C, newer: C) => C;
  /** Minimum gap between the starts of two executions (default 55 ms). */
  minIntervalMs?: number;
  /**
   * A waiting command starts before the minimum gap is over once no new command has
   * arrived for this long (default 25 ms): the burst has ended, so the last setting
   * should land now rather than at the next interval tick.
   */
  quietMs?: number;
}

/**
 * About 20 commands a second at most: with bulbs that take ~30 ms per request this keeps a
 * 100 msg/s slider burst to ~40 requests while the last setting still lands within about
 * two round trips (see `npm run bench`, light-burst).
 */
export const DEFAULT_MIN_INTERVAL_MS = 55;
export const DEFAULT_QUIET_MS = 25;

interface Waiting<C, R> {
  command: C;
  resolve: (outcome: CoalescedOutcome<R>) => void;
  reject: (err: unknown) => void;
  /** The submitter's signal: aborting it drops the command while it waits (its node closed). */
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * At most one command runs and at most one waits. A command submitted while another
 * waits replaces it (merged); the replaced caller settles at once as "superseded",
 * because its settings live on in the merged command. Every submit() settles once.
 */
export class Coalescer<C, R> {
  private readonly execute: (command: C, signal?: AbortSignal) => Promise<R>;
  private readonly merge: (older: C, newer: C) => C;
  private readonly minIntervalMs: number;
  private readonly quietMs: number;
  private lastSubmit = Number.NEGATIVE_INFINITY;
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
    const quiet = opts.quietMs ?? DEFAULT_QUIET_MS;
    this.quietMs = Number.isFinite(quiet) && quiet > 0 ? quiet : 0;
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
   * Queues `command` (merged into the waiting one, if any). An abort of `opts.signal` while the
   * command waits settles it as "cancelled" and nothing is executed for it.
   */
  submit(command: C, opts: { signal?: AbortSignal } = {}): Promise<CoalescedOutcome<R>> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.resolve({ status: "cancelled" });
    this.lastSubmit = Date.now();
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
        this.detach(older);
        older.resolve({ status: "superseded" });
      }
      const entry: Waiting<C, R> = { command: merged, resolve, reject, signal };
      if (signal) {
        entry.onAbort = () => {
          if (this.waiting !== entry) return;
          this.waiting = undefined;
          entry.resolve({ status: "cancelled" });
        };
        signal.addEventListener("abort", entry.onAbort, { once: true });
      }
      this.waiting = entry;
      this.pump();
    });
  }

  /**
   * Settles a waiting command as "cancelled" (node closing); a running one finishes. With
   * `match`, only a waiting command it accepts is dropped: a fade step must not leave its
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

  private detach(w: Waiting<C, R>): void {
    if (w.signal && w.onAbort) w.signal.removeEventListener("abort", w.onAbort);
    w.onAbort = undefined;
  }

  private pump(): void {
    if (this.running || this.timer || !this.waiting) return;
    const now = Date.now();
    const gapLeft = this.lastStart + this.minIntervalMs - now;
    const quietLeft = this.lastSubmit + this.quietMs - now;
    const wait = this.quietMs > 0 ? Math.min(gapLeft, quietLeft) : gapLeft;
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
      return;
    }
    const job = this.waiting;
    this.waiting = undefined;
    this.detach(job);
    this.running = true;
    this.lastStart = Date.now();
    this.executions++;
    let result: Promise<R>;
    try {
      result = Promise.resolve(this.execute(job.command, job.signal));
    } catch (err) {
      result = Promise.reject(err);
    }
    result
      .then(
        (r) => job.resolve({ status: "done", result: r }),
        (err: unknown) => job.reject(err),
      )
      .finally(() => {
        this.running = false;
        this.pump();
      });
  }
}
