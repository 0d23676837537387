/**
 * On/off (docs/protocol.md §6.5, §6.6): Control.ToggleX on current firmware, Control.Toggle on
 * legacy MT7688 firmware. The relays themselves are shared state (SimSwitches): a light's SET
 * switches the bulb on too. This owns the wire forms, the toggle part of System.All and the pushes.
 */
import { isObject, toInt, type Json } from "../../core/protocol/rules";
import { getAck, setAck } from "./types";
import type { Capability, CapabilitySpec, Outcome, SimContext, SimPush, SimRequest } from "./types";

/** Outer channel of list-style ToggleX replies (0xFFFFFFFF, docs/protocol.md §6.5). */
const ALL_CHANNELS = 4294967295;

export interface ToggleSettings {
  /**
   * Legacy firmware (mss210 1.1.12 trace): Control.Toggle, and `control.toggle` in System.All
   * instead of a digest; pushes go out as Control.Toggle.
   */
  legacy?: boolean;
  /** ToggleX GET answers the list form with outer channel 4294967295 (mss305 8.3.15 trace). */
  listReplies?: boolean;
}

export class ToggleCapability implements Capability {
  /** State last reported, so each change pushes only the channels that actually changed. */
  private reported: boolean[];

  constructor(
    private readonly ctx: SimContext,
    private readonly settings: ToggleSettings,
  ) {
    this.reported = ctx.switches.all().map((c) => c.on);
  }

  handle(req: SimRequest): Outcome | undefined {
    switch (`${req.method} ${req.namespace}`) {
      case "GET Appliance.Control.ToggleX":
        return getAck(this.getToggleX(req.payload));
      case "SET Appliance.Control.ToggleX": {
        const items = Array.isArray(req.payload.togglex) ? req.payload.togglex : [req.payload.togglex];
        let changed = false;
        for (const item of items) {
          if (isObject(item) && this.apply(item.channel, item.onoff)) changed = true;
        }
        if (changed) this.ctx.changed();
        return setAck();
      }
      case "GET Appliance.Control.Toggle":
        return getAck({ toggle: this.legacyEntry() });
      case "SET Appliance.Control.Toggle": {
        const t = isObject(req.payload.toggle) ? req.payload.toggle : {};
        if (this.apply(req.payload.channel ?? 0, t.onoff)) this.ctx.changed();
        return setAck();
      }
      default:
        return undefined;
    }
  }

  all(): Json {
    if (this.settings.legacy) return { control: { toggle: this.legacyEntry() } };
    return { digest: { togglex: this.entries() } };
  }

  pushes(): SimPush[] {
    const channels = this.ctx.switches.all();
    const toggled = channels.filter((c, i) => this.reported[i] !== c.on);
    this.reported = channels.map((c) => c.on);
    if (toggled.length === 0) return [];
    if (this.settings.legacy) return [{ namespace: "Appliance.Control.Toggle", payload: { toggle: this.legacyEntry() } }];
    const togglex = toggled.map((c) => ({ channel: c.channel, onoff: c.on ? 1 : 0, lmTime: c.lmTime }));
    return [{ namespace: "Appliance.Control.ToggleX", payload: { togglex } }];
  }

  private entries(): Json[] {
    return this.ctx.switches.all().map((c) => ({ channel: c.channel, onoff: c.on ? 1 : 0, lmTime: c.lmTime }));
  }

  private legacyEntry(): Json {
    const c = this.ctx.switches.get(0);
    return { onoff: c.on ? 1 : 0, lmTime: c.lmTime };
  }

  private getToggleX(payload: Json): Json {
    const list = this.entries();
    // Newer firmware (and any multi-outlet strip, which cannot fit one object) answers the list form.
    if (this.settings.listReplies || list.length > 1) return { channel: ALL_CHANNELS, togglex: list };
    const wanted = isObject(payload.togglex) ? toInt(payload.togglex.channel) : undefined;
    const entry = list[wanted !== undefined && wanted >= 0 && wanted < list.length ? wanted : 0];
    return { channel: entry.channel, togglex: entry };
  }

  private apply(channelValue: unknown, onoffValue: unknown): boolean {
    const channel = toInt(channelValue) ?? 0;
    const onoff = onoffValue === true ? 1 : onoffValue === false ? 0 : toInt(onoffValue);
    // Out-of-range channels and onoff values other than 0/1 are ignored (⚠ firmware behaviour unverified).
    if (!this.ctx.switches.has(channel) || (onoff !== 0 && onoff !== 1)) return false;
    return this.ctx.switches.set(channel, onoff === 1);
  }
}

export function toggle(settings: ToggleSettings = {}): CapabilitySpec {
  return {
    name: "toggle",
    namespaces: ["Appliance.Control.ToggleX", "Appliance.Control.Toggle"],
    settings,
    create: (ctx) => new ToggleCapability(ctx, settings),
  };
}
