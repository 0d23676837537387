/**
 * Reading devices that never push: HTTP (docs/protocol.md §2) carries only answers, pushes travel over MQTT (§5.1),
 * so a change made with its button or app is only seen by asking again. What one poll reads is each capability's
 * own `poll()` (capabilities/types.ts): toggles, light, doors and shutters, thermostats, hub sub-devices, energy…
 * One Poller per device serves every reader of it (meross-state, meross-energy): each subscribes with its own
 * interval and the families it wants; one timer ticks, and one read serves every subscriber due at that tick.
 */
import { composeCapabilities } from "../capabilities/registry";
import type { Capability, DeviceSession } from "../capabilities/types";
import { isMerossError } from "../errors";

/** One reader of a device, on its own interval. */
export interface PollSubscriber<D extends DeviceSession = DeviceSession> {
  intervalMs: number;
  /** The families this reader wants read (all with a `poll()` when absent). */
  which?: (c: Capability) => boolean;
  /** True while pushes cover the device (it listens on a broker): polling would only add load. */
  skip?: () => boolean;
  /** After each poll: did the device answer? Without it, an unreachable device is a failure too. */
  online?: (online: boolean) => void;
  /** A failure that is not the device being away (bad reply, wrong key). */
  failed: (err: unknown) => void;
  /** Further reads or uses of what the poll read, after every capability's own poll. */
  more?(device: D): Promise<void> | void;
}

export interface PollerOptions<D extends DeviceSession = DeviceSession> extends Partial<PollSubscriber<D>> {
  /** The session to read (may reject while the device is unreachable). */
  device: () => Promise<D>;
}

/**
 * One read of every capability the device has that can be polled (those with a `poll()`), in
 * registry order; `which` narrows them (e.g. all but toggle and light). Rejects on the first failure.
 */
export async function pollDevice(d: DeviceSession, which: (c: Capability) => boolean = () => true): Promise<void> {
  await d.ready();
  for (const c of composeCapabilities(d.state.abilities)) {
    if (c.poll && which(c)) await c.poll(d);
  }
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const all = (): boolean => true;

interface Entry<D extends DeviceSession> {
  sub: PollSubscriber<D>;
  /** ms until this subscriber's next read. */
  left: number;
}

export class Poller<D extends DeviceSession = DeviceSession> {
  private timer: NodeJS.Timeout | undefined;
  private period = 0;
  private running = false;
  private readonly entries = new Set<Entry<D>>();
  private own: (() => void) | undefined;

  /** `opts` names the device; its interval and callbacks, when given, are the owner's subscription (start/stop). */
  constructor(private readonly opts: PollerOptions<D>) {}

  /** True while a poll is reading the device: changes seen now come from polling. */
  get polling(): boolean {
    return this.running;
  }

  /** Starts the owner's own subscription (the options' interval and callbacks). */
  start(): void {
    if (this.own || !((this.opts.intervalMs ?? 0) > 0) || !this.opts.failed) return;
    this.own = this.subscribe(this.opts as PollSubscriber<D>);
  }

  stop(): void {
    this.own?.();
    this.own = undefined;
  }

  /** Adds a reader on its own interval (ms, > 0); the returned function removes it (its node's close). */
  subscribe(sub: PollSubscriber<D>): () => void {
    if (!(sub.intervalMs > 0)) return () => undefined;
    const entry: Entry<D> = { sub, left: sub.intervalMs };
    this.entries.add(entry);
    this.schedule();
    return () => {
      if (this.entries.delete(entry)) this.schedule();
    };
  }

  /** Stops every subscription (the config's close). */
  dispose(): void {
    this.entries.clear();
    this.own = undefined;
    this.schedule();
  }

  /** One timer, ticking at the largest step that meets every subscriber's interval. */
  private schedule(): void {
    const period = [...this.entries].reduce((p, e) => gcd(Math.round(e.sub.intervalMs), p), 0);
    if (period === this.period && (this.timer || period === 0)) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.period = period;
    if (period > 0) this.timer = setInterval(() => this.tick(), period);
  }

  private tick(): void {
    const due: PollSubscriber<D>[] = [];
    for (const e of this.entries) {
      e.left -= this.period;
      if (e.left > 0) continue;
      e.left += e.sub.intervalMs;
      due.push(e.sub);
    }
    // A slow device must not pile reads up: a tick while the last read still runs is skipped.
    if (due.length > 0) void this.run(due);
  }

  /** One read for the owner's subscription, or for every subscriber when the options name none; never rejects. */
  async pollOnce(): Promise<void> {
    await this.run(this.opts.failed ? [this.opts as PollSubscriber<D>] : [...this.entries].map((e) => e.sub));
  }

  /** One read of the families the given subscribers want, then each one's own follow-up. Skipped while another runs. */
  private async run(subs: PollSubscriber<D>[]): Promise<void> {
    if (this.running) return;
    const readers = subs.filter((s) => !s.skip?.());
    if (readers.length === 0) return;
    this.running = true;
    try {
      let d: D;
      try {
        d = await this.opts.device();
        await pollDevice(d, (c) => readers.some((s) => (s.which ?? all)(c)));
      } catch (err) {
        for (const s of readers) report(s, err);
        return;
      }
      for (const s of readers) {
        try {
          if (s.more) await s.more(d);
          s.online?.(true);
        } catch (err) {
          report(s, err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

function report(s: PollSubscriber<never>, err: unknown): void {
  if (s.online && isMerossError(err) && (err.code === "UNREACHABLE" || err.code === "TIMEOUT")) s.online(false);
  else s.failed(err);
}
