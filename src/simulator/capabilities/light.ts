/**
 * Bulbs and lamps (docs/protocol.md §6.7): Control.Light with the capacity bits of the model's
 * ability list (1 rgb, 2 temperature, 4 luminance; 8 effects is listed but not simulated).
 * Owns the light state, its digest entry, its pushes, and the msl120 quirk that any SET lights the bulb.
 */
import { MerossError } from "../../core/errors";
import { clamp, isObject, toInt, type Json } from "../../core/protocol/rules";
import type { DeviceSnapshot, LightChange, SimDeviceState, SimLightState } from "../types";
import { getAck, setAck, unsupported } from "./types";
import type { Capability, CapabilitySpec, Outcome, SimContext, SimPush, SimRequest } from "./types";

const CAP_RGB = 1;
const CAP_TEMPERATURE = 2;
const CAP_LUMINANCE = 4;

function hex6(rgb: number): string {
  return `#${rgb.toString(16).padStart(6, "0")}`;
}

/** Warm (≈2700 K) to cool (≈6500 K) white for the status page. */
function whiteFor(temperature: number): string {
  const t = (clamp(temperature, 1, 100) - 1) / 99;
  const warm = [255, 180, 107];
  const cool = [214, 225, 255];
  const c = warm.map((w, i) => Math.round(w + (cool[i] - w) * t));
  return hex6((c[0] << 16) | (c[1] << 8) | c[2]);
}

export class LightCapability implements Capability {
  private readonly light: SimLightState = { rgb: 0xff8c1a, temperature: 55, luminance: 80, capacity: CAP_TEMPERATURE | CAP_LUMINANCE };
  /** What the model can do: the capacity its ability list declares. */
  private readonly supported: number;
  private reported: string;

  constructor(private readonly ctx: SimContext) {
    this.supported = ctx.model.lightCapacity ?? 0;
    this.reported = JSON.stringify(this.payload());
  }

  handle(req: SimRequest): Outcome | undefined {
    if (req.method === "GET") return getAck({ light: this.payload() });
    if (req.method === "SET") return this.setFromWire(req.payload);
    return undefined;
  }

  all(): Json {
    return { digest: { light: this.payload() } };
  }

  pushes(): SimPush[] {
    const now = JSON.stringify(this.payload());
    if (now === this.reported) return [];
    this.reported = now;
    return [{ namespace: "Appliance.Control.Light", payload: { light: this.payload() } }];
  }

  state(state: SimDeviceState): void {
    state.light = { ...this.light };
  }

  snapshot(snap: DeviceSnapshot): void {
    const l = this.light;
    const colour = (l.capacity & CAP_RGB) !== 0;
    snap.light = {
      on: this.ctx.switches.get(0).on,
      rgb: hex6(l.rgb),
      temperature: Math.round(2700 + ((l.temperature - 1) / 99) * 3800),
      brightness: l.luminance,
      mode: colour ? "colour" : "white",
      display: colour ? hex6(l.rgb) : whiteFor(l.temperature),
    };
  }

  /** Changes the light as the Meross app would; rgb switches to colour mode, temperature to white. */
  set(change: LightChange): void {
    let rgb: number | undefined;
    if (typeof change.rgb === "string") {
      const m = /^#?([0-9a-fA-F]{6})$/.exec(change.rgb.trim());
      if (!m) throw new MerossError("BAD_INPUT", `Colour "${change.rgb}" is not a #rrggbb value, e.g. "#ff0000" for red.`);
      rgb = parseInt(m[1], 16);
    } else if (change.rgb !== undefined) {
      if (!Number.isInteger(change.rgb) || change.rgb < 0 || change.rgb > 0xffffff) {
        throw new MerossError("BAD_INPUT", `Colour ${String(change.rgb)} is out of range: use an integer 0..16777215 or "#rrggbb".`);
      }
      rgb = change.rgb;
    }
    for (const field of ["temperature", "luminance"] as const) {
      const v = change[field];
      if (v !== undefined && (!Number.isFinite(v) || v < 1 || v > 100)) {
        throw new MerossError("BAD_INPUT", `Light ${field} ${String(v)} is out of range: use 1..100.`);
      }
    }
    if (rgb !== undefined && this.supported & CAP_RGB) {
      this.light.rgb = rgb;
      this.light.capacity = CAP_RGB | CAP_LUMINANCE;
    }
    if (change.temperature !== undefined) {
      this.light.temperature = Math.round(change.temperature);
      this.light.capacity = CAP_TEMPERATURE | CAP_LUMINANCE;
    }
    if (change.luminance !== undefined) this.light.luminance = Math.round(change.luminance);
    if (change.on !== undefined) this.ctx.switches.set(0, change.on);
    this.ctx.changed();
  }

  private payload(): Json {
    const l = this.light;
    return { capacity: l.capacity, channel: 0, rgb: l.rgb, temperature: l.temperature, luminance: l.luminance, transform: 0 };
  }

  /**
   * Applies only the fields selected by the SET capacity bits, and only those the model
   * supports. Like msl120j fw 3.1.4 (docs/protocol.md §6.7), any Light SET also turns the bulb on.
   */
  private setFromWire(payload: Json): Outcome {
    const l = this.light;
    const body = isObject(payload.light) ? payload.light : undefined;
    if (!body) return unsupported();
    const cap = (toInt(body.capacity) ?? 0) & this.supported;
    const rgb = toInt(body.rgb);
    const temperature = toInt(body.temperature);
    const luminance = toInt(body.luminance);
    if (cap & CAP_RGB && rgb !== undefined) {
      l.rgb = clamp(rgb, 0, 0xffffff);
      l.capacity = CAP_RGB | CAP_LUMINANCE;
    } else if (cap & CAP_TEMPERATURE && temperature !== undefined) {
      l.temperature = clamp(temperature, 1, 100);
      l.capacity = CAP_TEMPERATURE | CAP_LUMINANCE;
    }
    if (cap & CAP_LUMINANCE && luminance !== undefined) l.luminance = clamp(luminance, 1, 100);
    this.ctx.switches.set(0, true);
    this.ctx.changed();
    return setAck();
  }
}

/** Control.Light; the capacity comes from the model's ability list, as the trace shows it. */
export function light(): CapabilitySpec {
  return { name: "light", namespaces: ["Appliance.Control.Light"], create: (ctx) => new LightCapability(ctx) };
}
