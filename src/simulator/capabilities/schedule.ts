/**
 * Timers and triggers (docs/protocol.md §6.10): the simulated device has none, but answers the
 * lists and digests as empty, like a device nobody has programmed, so clients can read them.
 */
import { payloadKeyFor } from "../../core/protocol/message";
import type { Json } from "../../core/protocol/rules";
import { getAck, type Capability, type CapabilitySpec, type Outcome, type SimContext, type SimRequest } from "./types";

const NAMESPACES = [
  "Appliance.Control.TimerX",
  "Appliance.Control.TriggerX",
  "Appliance.Control.Timer",
  "Appliance.Control.Trigger",
  "Appliance.Digest.TimerX",
  "Appliance.Digest.TriggerX",
] as const;

export interface ScheduleSettings {
  /** The System.All digest lists triggerx/timerx (false on the mss305 8.3.15 trace, whose digest has togglex only). */
  inDigest?: boolean;
}

export class ScheduleCapability implements Capability {
  constructor(
    private readonly ctx: SimContext,
    private readonly settings: ScheduleSettings,
  ) {}

  handle(req: SimRequest): Outcome | undefined {
    if (req.method !== "GET") return undefined;
    if (req.namespace.startsWith("Appliance.Digest.")) return getAck({ digest: [] });
    return getAck({ [payloadKeyFor(req.namespace)]: [] });
  }

  /** Legacy firmware (Timer/Trigger) lists them under `control`; current firmware in the digest. */
  all(): Json {
    const ability = this.ctx.model.ability;
    if ("Appliance.Control.TimerX" in ability) return this.settings.inDigest === false ? {} : { digest: { triggerx: [], timerx: [] } };
    if ("Appliance.Control.Timer" in ability) return { control: { trigger: [], timer: [] } };
    return {};
  }
}

export function schedule(settings: ScheduleSettings = {}): CapabilitySpec {
  return { name: "schedule", namespaces: NAMESPACES, settings, create: (ctx) => new ScheduleCapability(ctx, settings) };
}
