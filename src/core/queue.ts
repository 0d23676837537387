/**
 * A strict FIFO that runs one task at a time. Real devices serve one HTTP request at a
 * time and some hang when requests overlap (docs/protocol.md §2.3), so every device session
 * funnels its requests through one of these.
 *
 * Because a device may hang, vanish or be replaced by something hostile, the line always
 * ends: it holds at most `maxPending` waiting tasks (BUSY beyond), each task has a deadline
 * covering its wait and its run (TIMEOUT), a task whose owner closed is dropped before it is
 * sent (CANCELLED), and a device known to be unreachable is not sent one timeout after another.
 *
 * Fail-fast API for the device session:
 * - `failFast(err)` once a request found the device unreachable (TIMEOUT / UNREACHABLE).
 *   Every waiting task is rejected at once with UNREACHABLE ("was not sent"), except one
 *   probe; while a probe is waiting or running, new tasks are rejected at once too; when no
 *   probe exists, the next task becomes the probe. Calling it again while failing is harmless.
 * - `resume()` once the device answered anything (a reply, even a device ERROR). A probe
 *   that resolves resumes the queue by itself; one that rejects leaves it failing.
 * - `failing` tells whether the queue is in that state.
 */
import { MerossError, explain, type MerossErrorCode } from "./errors";

export interface QueueRunOptions {
  /** Aborting it drops the task if it has not started (the owner node closed or was redeployed). */
  signal?: AbortSignal;
  /** Longest time from run() to the task's end, waiting included. */
  deadlineMs?: number;
  /** What the task does, for error sentences (e.g. "SET Appliance.Control.ToggleX"). */
  label?: string;
}

export interface SerialQueueOptions {
  /** The device address, for error sentences. */
  host?: string;
  /** Most tasks waiting (not counting the running one); more are refused with BUSY. */
  maxPending?: number;
}

export const QUEUE_MAX_PENDING = 100;

/** A task receives a signal that aborts when its deadline passes; it should stop then. */
export type QueueTask<T> = (signal: AbortSignal) => Promise<T>;

interface Entry {
  task: QueueTask<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  label: string;
  deadlineMs?: number;
  timer?: ReturnType<typeof setTimeout>;
  signal?: AbortSignal;
  onAbort?: () => void;
  /** Set when the task starts: the queue's current controller. */
  controller?: AbortController;
  settled: boolean;
}

const FAILURE_REASON: Partial<Record<MerossErrorCode, string>> = {
  TIMEOUT: "an earlier request got no answer in time",
  UNREACHABLE: "an earlier request could not reach it",
};

export class SerialQueue {
  private readonly host: string;
  private readonly maxPending: number;
  private readonly waiting: Entry[] = [];
  private running: Entry | undefined;
  private scheduled = false;
  private failure: MerossError | undefined;
  private probe: Entry | undefined;
  /**
   * The stop signal handed to running tasks. One controller serves task after task until it is
   * aborted (a running task's deadline passed, or clear()); the next task then gets a new one. A
   * fresh AbortSignal per task, with the listeners the transport adds to it, cost every request
   * tens of microseconds (bench core-overhead), and only one task runs at a time anyway.
   */
  private controller: AbortController | undefined;

  constructor(opts: SerialQueueOptions = {}) {
    this.host = opts.host ?? "the device";
    this.maxPending = opts.maxPending ?? QUEUE_MAX_PENDING;
  }

  /** Number of tasks queued or running. */
  get size(): number {
    return this.waiting.length + (this.running ? 1 : 0);
  }

  /** True between failFast() and resume() (or a probe that succeeded). */
  get failing(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Runs `task` after every task queued before it. Rejects without running it when the line
   * is full (BUSY), when `opts.signal` aborts before it starts (CANCELLED), when its deadline
   * passes (TIMEOUT; a running task's signal is aborted and the line moves on), or when the
   * queue is failing fast and another task is already the probe (UNREACHABLE).
   */
  run<T>(task: QueueTask<T>, opts: QueueRunOptions = {}): Promise<T> {
    const label = opts.label ?? "A request";
    if (opts.signal?.aborted) return Promise.reject(new MerossError("CANCELLED", explain.cancelled(this.host, label), { host: this.host }));
    if (this.failure && this.probe) return Promise.reject(this.notSent(label));
    if (this.waiting.length >= this.maxPending) {
      return Promise.reject(new MerossError("BUSY", explain.busy(this.host, label, this.waiting.length), { host: this.host }));
    }
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = {
        task: task as QueueTask<unknown>,
        resolve: resolve as (v: unknown) => void,
        reject,
        label,
        deadlineMs: opts.deadlineMs,
        signal: opts.signal,
        settled: false,
      };
      if (this.failure) this.probe = entry;
      if (opts.deadlineMs !== undefined) {
        entry.timer = setTimeout(() => this.expire(entry), Math.max(0, opts.deadlineMs));
      }
      if (opts.signal) {
        entry.onAbort = () => this.cancel(entry);
        opts.signal.addEventListener("abort", entry.onAbort, { once: true });
      }
      this.waiting.push(entry);
      this.pump();
    });
  }

  /** Marks the device unreachable: see the module comment. */
  failFast(err: MerossError): void {
    this.failure = err;
    if (!this.probe && this.waiting.length > 0) this.probe = this.waiting[0];
    for (const entry of this.waiting.filter((e) => e !== this.probe)) {
      this.remove(entry);
      this.settle(entry, this.notSent(entry.label));
    }
  }

  /** The device answers again: tasks are sent normally. */
  resume(): void {
    this.failure = undefined;
    this.probe = undefined;
  }

  /**
   * The owner closed: every waiting task is dropped (CANCELLED, never sent) and the running one
   * is told to stop, so nothing more goes out (no retry, no recovery request).
   */
  clear(): void {
    const running = this.running;
    if (running?.controller && !running.controller.signal.aborted) {
      const what = `${running.label} for the device at ${this.host} was stopped: its session was closed while it waited for the answer.`;
      this.stop(running.controller, new MerossError("CANCELLED", what, { host: this.host }));
    }
    for (const entry of this.waiting.slice()) {
      this.remove(entry);
      this.settle(entry, new MerossError("CANCELLED", explain.cancelled(this.host, entry.label), { host: this.host }));
    }
  }

  private notSent(label: string): MerossError {
    const code = this.failure?.code;
    const reason = (code && FAILURE_REASON[code]) ?? "an earlier request failed";
    return new MerossError("UNREACHABLE", explain.notSent(this.host, label, reason), { host: this.host, reason: "fail-fast" });
  }

  private pump(): void {
    if (this.running || this.scheduled || this.waiting.length === 0) return;
    // Started on a microtask, as a promise chain would: run() returns before the task begins.
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.startNext();
    });
  }

  private startNext(): void {
    if (this.running) return;
    const entry = this.waiting.shift();
    if (!entry) return;
    this.detachSignal(entry);
    this.running = entry;
    const controller = (this.controller ??= new AbortController());
    entry.controller = controller;
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(entry.task(controller.signal));
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (value) => {
        if (entry === this.probe) this.resume();
        this.finish(entry, () => entry.resolve(value));
      },
      (err: unknown) => {
        if (entry === this.probe) this.probe = undefined;
        this.finish(entry, () => entry.reject(err));
      },
    );
  }

  /** The running task ended: report it (unless its deadline already did) and start the next. */
  private finish(entry: Entry, report: () => void): void {
    if (!entry.settled) {
      entry.settled = true;
      if (entry.timer) clearTimeout(entry.timer);
      report();
    }
    if (this.running === entry) {
      this.running = undefined;
      this.pump();
    }
  }

  private expire(entry: Entry): void {
    if (entry.settled) return;
    const started = this.running === entry;
    const err = new MerossError("TIMEOUT", explain.deadline(this.host, entry.label, entry.deadlineMs ?? 0, started), {
      host: this.host,
      reason: started ? "deadline" : "waited",
    });
    if (!started) {
      this.remove(entry);
      this.settle(entry, err);
      return;
    }
    // A hung task must not hold the line: its signal tells it to stop, and the next task starts.
    if (entry.controller) this.stop(entry.controller, err);
    this.settle(entry, err);
    if (entry === this.probe) this.probe = undefined;
    this.running = undefined;
    this.pump();
  }

  /** Aborts a running task's signal; the tasks after it get a new controller. */
  private stop(controller: AbortController, reason: MerossError): void {
    if (this.controller === controller) this.controller = undefined;
    controller.abort(reason);
  }

  private cancel(entry: Entry): void {
    if (entry.settled || !this.waiting.includes(entry)) return;
    this.remove(entry);
    this.settle(entry, new MerossError("CANCELLED", explain.cancelled(this.host, entry.label), { host: this.host }));
  }

  private remove(entry: Entry): void {
    const i = this.waiting.indexOf(entry);
    if (i >= 0) this.waiting.splice(i, 1);
    if (entry === this.probe) this.probe = undefined;
    this.detachSignal(entry);
  }

  private detachSignal(entry: Entry): void {
    if (entry.signal && entry.onAbort) entry.signal.removeEventListener("abort", entry.onAbort);
    entry.onAbort = undefined;
  }

  private settle(entry: Entry, err: MerossError): void {
    if (entry.settled) return;
    entry.settled = true;
    if (entry.timer) clearTimeout(entry.timer);
    entry.reject(err);
  }
}
