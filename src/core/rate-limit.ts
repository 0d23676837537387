/**
 * How many reports of one kind (refused logins, ignored messages) reach a log: a flood of
 * clients must not become a flood of lines. One rule for the nodes and the CLI.
 */

/** Refused logins and ignored messages reported per minute; the rest are only counted. */
export const REPORTS_PER_MINUTE = 10;

export interface ReportTurn {
  /** Report this one. */
  report: boolean;
  /** How many were held back in the window that just closed (say so once, before this one). */
  held: number;
}

/** At most `perWindow` reports per window; the others are counted and summed up when the next window opens. */
export class ReportLimiter {
  private start = Number.NEGATIVE_INFINITY;
  private reported = 0;
  private silent = 0;

  constructor(
    readonly perWindow = REPORTS_PER_MINUTE,
    readonly windowMs = 60_000,
  ) {}

  take(now = Date.now()): ReportTurn {
    let held = 0;
    if (now - this.start >= this.windowMs) {
      held = this.silent;
      this.start = now;
      this.reported = 0;
      this.silent = 0;
    }
    if (this.reported >= this.perWindow) {
      this.silent++;
      return { report: false, held };
    }
    this.reported++;
    return { report: true, held };
  }

  /** Held back in the current window and not yet said (for a last line when stopping); resets the count. */
  drain(): number {
    const n = this.silent;
    this.silent = 0;
    return n;
  }
}
