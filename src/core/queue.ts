/**
 * A strict FIFO that runs one task at a time. Real devices serve one HTTP request at a
 * time and some hang when requests overlap (protocol.md §2.3), so every device session
 * funnels its requests through one of these.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** Number of tasks queued or running. */
  get size(): number {
    return this.pending;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(task, task);
    this.tail = result.then(
      () => { this.pending--; },
      () => { this.pending--; },
    );
    return result;
  }
}
