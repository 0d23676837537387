/**
 * Control.Multiple (docs/protocol.md §6.8): several requests in one SET, each answered as if it
 * came alone (inner requests are not signed separately), and the firmware's small reply buffer
 * that cuts long HTTP replies (docs/protocol.md §2.2).
 */
import type { Envelope, Header } from "../../core/protocol/message";
import { isObject } from "../../core/protocol/rules";
import type { Capability, CapabilitySpec, Outcome, SimContext, SimRequest } from "./types";

export interface MultipleSettings {
  /** Reply bytes the firmware buffer holds (~2 KB msl120, ~2.9 KB mss310, docs/protocol.md §2.2). */
  maxReplyBytes?: number;
}

export class MultipleCapability implements Capability {
  constructor(
    private readonly ctx: SimContext,
    private readonly settings: MultipleSettings,
  ) {}

  handle(req: SimRequest): Outcome | undefined {
    if (req.method !== "SET" || req.inner) return undefined;
    const items = Array.isArray(req.payload.multiple) ? req.payload.multiple : [];
    const replies: Envelope[] = [];
    const afters: Array<() => void> = [];
    for (const item of items) {
      if (!isObject(item) || !isObject(item.header) || typeof item.header.namespace !== "string") continue;
      const inner: Envelope = { header: item.header as Header, payload: isObject(item.payload) ? item.payload : {} };
      const { reply, outcome } = this.ctx.process(inner, true);
      replies.push(reply);
      if (outcome.after) afters.push(outcome.after);
    }
    return {
      method: "SETACK",
      payload: { multiple: replies },
      after: afters.length ? () => afters.forEach((f) => f()) : undefined,
      replyLimit: this.settings.maxReplyBytes,
    };
  }
}

export function multiple(settings: MultipleSettings = {}): CapabilitySpec {
  return { name: "multiple", namespaces: ["Appliance.Control.Multiple"], settings, create: (ctx) => new MultipleCapability(ctx, settings) };
}
