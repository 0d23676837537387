/**
 * Fault injection for HTTP requests: what an unreliable network or a struggling firmware does to
 * a client (late, dropped, cut or garbled replies, a 500). Clients are tested against these.
 */
import type { Fault } from "./types";

export class FaultInjector {
  private fault: Fault | null = null;
  private remaining = Infinity;

  /** Applies `fault` to the next `count` requests (all, until cleared, by default); null clears it. */
  set(fault: Fault | null, opts: { count?: number } = {}): void {
    this.fault = fault;
    this.remaining = fault ? (opts.count ?? Infinity) : Infinity;
  }

  /** The fault for the request being served now, counting it down. */
  take(): Fault | null {
    if (!this.fault || this.remaining <= 0) return null;
    const f = this.fault;
    this.remaining -= 1;
    if (this.remaining <= 0) this.fault = null;
    return f;
  }
}

/** What a reply-damaging fault leaves of the reply text; other faults leave it alone. */
export function damageReply(text: string, fault: Fault | null, messageId: string): string {
  if (fault?.kind === "truncate") return text.slice(0, Math.max(1, Math.floor(text.length / 2)));
  if (fault?.kind === "invalid-json") return `{"header":{"messageId":"${messageId}",<html>firmware hiccup</html>`;
  return text;
}
