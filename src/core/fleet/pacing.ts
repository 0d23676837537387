/**
 * Bounded work under a burst: when hundreds of devices arrive at once (Node-RED starts, the
 * broker restarts, the Wi-Fi comes back), their first reads (System.All, Ability) run a few at
 * a time per fleet instead of all at once, so the event loop keeps answering pushes and
 * commands meanwhile. A read waits for its turn before its own time limit starts, so no
 * device is refused or timed out for the crowd; a user's command never waits here.
 */

/** First reads in flight per fleet; each is a request or two of about a millisecond of our CPU. */
export const FIRST_READS_AT_ONCE = 16;

export class Pacer {
  private running = 0;
  /** At most one entry per device link (a link reads once at a time), so bounded by the fleet's size. */
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number = FIRST_READS_AT_ONCE) {}

  /** Runs `task` once fewer than `limit` others run; its result is passed through. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  get queued(): number {
    return this.waiting.length;
  }
}

const pacers = new WeakMap<object, Pacer>();

/** The pacer shared by every device link of `fleet`. */
export function pacerFor(fleet: object): Pacer {
  let p = pacers.get(fleet);
  if (!p) {
    p = new Pacer();
    pacers.set(fleet, p);
  }
  return p;
}
