/**
 * Reading devices that never push: HTTP (docs/protocol.md §2) carries only answers, pushes travel over MQTT (§5.1),
 * so a change made with its button or app is only seen by asking again.
 */
import { NS, type MerossDevice } from "../session/device";
import { isMerossError } from "../errors";

export interface PollerOptions {
  intervalMs: number;
  /** The session to read (may reject while the device is unreachable). */
  device: () => Promise<MerossDevice>;
  /** True while pushes cover the device (it listens on a broker): polling would only add load. */
  skip?: () => boolean;
  /** After each poll: did the device answer? */
  online: (online: boolean) => void;
  /** A failure that is not the device being away (bad reply, wrong key). */
  failed: (err: unknown) => void;
  /** Reads of other parts (doors, thermostat…) after toggles and light, by the poller's owner. */
  more?: (device: MerossDevice) => Promise<void>;
}

export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly opts: PollerOptions) {}

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

  /** One read of every toggle channel and the light; never rejects. Skipped while another runs. */
  async pollOnce(): Promise<void> {
    if (this.running || this.opts.skip?.()) return;
    this.running = true;
    try {
      const d = await this.opts.device();
      if (d.has(NS.TOGGLEX) || d.has(NS.TOGGLE)) {
        const channels = d.toggles.size > 0 ? [...d.toggles.keys()] : [0];
        for (const ch of channels) await d.getToggle(ch);
      }
      if (d.has(NS.LIGHT)) await d.getLight();
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
