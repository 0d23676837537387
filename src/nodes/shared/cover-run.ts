/**
 * meross-cover's controller: what the flow was last told per device and channel ("config id:channel"),
 * the commands in flight (their reply carries the latest state, so pushes meanwhile are not repeated),
 * and the follow-up reads over HTTP once a move should be over; close() cancels those. The node keeps
 * its properties, status and msg.
 */
import { coverCommand, coverToOutput, type CoverCommand, type CoverResult, type CoverState, type DeviceSession } from "../../core";

/** A follow-up read never waits longer than this, whatever travel time a device reports. */
const MAX_FOLLOW_MS = 180_000;
/** Read a little after the move should have ended, so the end state is there. */
const FOLLOW_MARGIN_MS = 1000;

export class CoverRun {
  private readonly last = new Map<string, string>();
  private readonly busy = new Map<string, number>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private closed = false;

  /** `fixed`: the node's own channel (reports of others are ignored), undefined for any. */
  constructor(private readonly fixed: number | undefined) {}

  /** Records what the flow was last told about `key`; true when `c` differs. */
  remember(c: CoverState, key: string): boolean {
    const text = JSON.stringify(coverToOutput(c));
    if (this.last.get(key) === text) return false;
    this.last.set(key, text);
    return true;
  }

  /** A state the device reported by itself: true when the flow should hear of it (a change, no command in flight). */
  reported(c: CoverState, key: string): boolean {
    if (this.closed || this.busy.has(key) || (this.fixed !== undefined && c.channel !== this.fixed)) return false;
    return this.remember(c, key);
  }

  /** Runs a command on `key`'s channel; pushes meanwhile are held back, its result is remembered. */
  async run(s: DeviceSession, key: string, channel: number, command: CoverCommand): Promise<CoverResult> {
    this.busy.set(key, (this.busy.get(key) ?? 0) + 1);
    const result = await coverCommand(s, channel, command).finally(() => {
      const n = (this.busy.get(key) ?? 1) - 1;
      if (n > 0) this.busy.set(key, n);
      else this.busy.delete(key);
    });
    this.remember(result, key);
    return result;
  }

  /** Over HTTP nothing is pushed: reads the door or shutter again once its move should be over, then `then`. */
  follow(session: () => Promise<DeviceSession>, channel: number, ms: number, then: (c: CoverState) => void): void {
    if (this.closed) return;
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        session()
          .then((s) => coverCommand(s, channel, { action: "read" }))
          .then(then, () => undefined);
      },
      Math.min(ms + FOLLOW_MARGIN_MS, MAX_FOLLOW_MS),
    );
    this.timers.add(t);
  }

  /** The node's close: no follow-up read, no report any more. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
