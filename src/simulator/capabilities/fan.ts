/**
 * Control.Fan (docs/protocol-devices.md §16.1): a speed per fan channel, 0..maxSpeed. GET must
 * name the channel (`{"fan": [{"channel": 2}]}`); `{"fan": {}}` answers an empty list as map100
 * does. A SET out of range is refused with ERROR 5000 ⚠ (no capture shows what firmware does).
 * On/off stays with ToggleX, whose channel this shares; no push is known, so none is sent.
 */
import { isObject, toInt, type Json } from "../../core/protocol/rules";
import { getAck, setAck, unsupported } from "./types";
import type { Capability, CapabilitySpec, Outcome, SimContext, SimRequest } from "./types";
import type { SimDeviceState } from "../types";

export interface FanSettings {
  /** The fan's channel (mfc100: 2, its light on 1). */
  channel: number;
  /** 3 on the traced mfc100; some units have 4 ([HB]). */
  maxSpeed: number;
}

export class FanCapability implements Capability {
  private speed = 1;

  constructor(
    private readonly ctx: SimContext,
    private readonly settings: FanSettings,
  ) {}

  handle(req: SimRequest): Outcome | undefined {
    const items = Array.isArray(req.payload.fan) ? req.payload.fan : [];
    if (req.method === "GET") {
      const asked = items.filter(isObject).map((f) => toInt(f.channel));
      return getAck({ fan: asked.includes(this.settings.channel) ? [this.entry()] : [] });
    }
    if (req.method !== "SET") return undefined;
    for (const f of items) {
      if (!isObject(f) || toInt(f.channel) !== this.settings.channel) return unsupported("no fan on that channel");
      const speed = toInt(f.speed);
      if (speed === undefined || speed < 0 || speed > this.settings.maxSpeed) return unsupported("speed out of range");
      this.speed = speed;
    }
    this.ctx.changed();
    return setAck();
  }

  state(state: SimDeviceState): void {
    state.fans = [this.entry() as { channel: number; speed: number; maxSpeed: number }];
  }

  private entry(): Json {
    return { channel: this.settings.channel, speed: this.speed, maxSpeed: this.settings.maxSpeed };
  }
}

export function fan(settings: FanSettings): CapabilitySpec {
  return { name: "fan", namespaces: ["Appliance.Control.Fan"], settings, create: (ctx) => new FanCapability(ctx, settings) };
}
