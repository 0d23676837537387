/**
 * Reading devices that never push: HTTP (docs/protocol.md §2) carries only answers, pushes travel over MQTT (§5.1),
 * so a change made with its button or app is only seen by asking again. What one poll reads is each capability's
 * own `poll()` (capabilities/types.ts): toggles, light, doors and shutters, thermostats, hub sub-devices…
 */
import { composeCapabilities } from "../capabilities/registry";
import type { Capability, DeviceSession } from "../capabilities/types";
import { isMerossError } from "../errors";

export interface PollerOptions<D extends DeviceSession = DeviceSession> {
  intervalMs: number;
  /** The session to read (may reject while the device is unreachable). */
  device: () => Promise<D>;
  /** True while pushes cover the device (it listens on a broker): polling would only add load. */
  skip?: () => boolean;
  /** After each poll: did the device answer? */
  online: (online: boolean) => void;
  /** A failure that is not the device being away (bad reply, wrong key). */
  failed: (err: unknown) => void;
  /** Further reads by the poller's owner, after every capability's own poll. */
  more?(device: D): Promise<void>;
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

export class Poller<D extends DeviceSession = DeviceSession> {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly opts: PollerOptions<D>) {}

  /** True while a poll is reading the device: changes seen now come from polling. */
  get polling(): boolean {
    return this.running;
  }

  start(): void {
    if (this.timer || !(this.opts.intervalMs > 0)) return;
    this.timer = setInterval(() => void this.pollOnce(), this.opts.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One read of every pollable capability (pollDevice); never rejects. Skipped while another runs. */
  async pollOnce(): Promise<void> {
    if (this.running || this.opts.skip?.()) return;
    this.running = true;
    try {
      const d = await this.opts.device();
      await pollDevice(d);
      if (this.opts.more) await this.opts.more(d);
      this.opts.online(true);
    } catch (err) {
      if (isMerossError(err) && (err.code === "UNREACHABLE" || err.code === "TIMEOUT")) this.opts.online(false);
      else this.opts.failed(err);
    } finally {
      this.running = false;
    }
  }
}
