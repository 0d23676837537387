/**
 * Bulbs and lamps (docs/protocol.md §6.7): Control.Light with the capacity bits of the model's
 * ability list (1 rgb, 2 temperature, 4 luminance, 8 effect), and Control.Light.Effect when the
 * model lists it (docs/protocol-devices.md §16.2). Owns the light state, its digest entry, its
 * pushes, the channel the light sits on (1 on a ceiling fan), and two firmware habits a setting
 * chooses: any Light SET lights the bulb (msl120j), and `onoff` read and reported inside Light (mfc100).
 */
import { MerossError } from "../../core/errors";
import { clamp, isObject, toInt, type Json } from "../../core/protocol/rules";
import type { DeviceSnapshot, LightChange, SimDeviceState, SimLightState } from "../types";
import { getAck, setAck, unsupported } from "./types";
import type { Capability, CapabilitySpec, Outcome, SimContext, SimPush, SimRequest } from "./types";

const CAP_RGB = 1;
const CAP_TEMPERATURE = 2;
const CAP_LUMINANCE = 4;
const CAP_EFFECT = 8;

export interface LightSettings {
  /** The channel of the light and of its ToggleX switch (a ceiling fan's light: 1). Default 0. */
  channel?: number;
  /** Any Light SET switches the light on, whatever it carries (msl120j fw 3.1.4, §6.7). Default true. */
  setTurnsOn?: boolean;
  /** The firmware reports `onoff` inside Light and obeys it in a SET (mfc100, msxh0). Default false. */
  onoffInLight?: boolean;
  /** Stored effects (Light.Effect entries as the device lists them); used when the model lists the namespace. */
  effects?: Json[];
}

/** The five built-in effects of the msl320cpr 4.3.1 capture (trace …03), as it lists them. */
export const MSL320_EFFECTS: Json[] = [
  ["0000000000000000", "Night", "night", 0, 10, [[16744192, 30]]],
  ["0000000000000001", "Reading", "read", 0, 10, [[16752706, 100]]],
  ["0000000000000002", "Working", "work", 0, 10, [[16756220, 100]]],
  ["0000000000000003", "Relaxing", "relax", 2, 50, [16711680, 65280, 255, 16757760, 65450, 16711786].map((rgb) => [rgb, 100])],
  ["0000000000000004", "Party", "party", 1, 90, [16711680, 65280, 255, 16757760, 65450, 16711786].map((rgb) => [rgb, 100])],
].map(([Id, effectName, icon, mode, speed, member]) => ({
  Id,
  effectName,
  iconName: `light_effect_icon_${String(icon)}`,
  enable: 0,
  mode,
  speed,
  member: (member as number[][]).map(([rgb, luminance]) => ({ rgb, luminance })),
}));

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
  private readonly channel: number;
  private readonly effects: Json[];
  /** Position of the playing effect in the list, -1 for none. */
  private effect = -1;
  private reported: string;

  constructor(
    private readonly ctx: SimContext,
    private readonly settings: LightSettings = {},
  ) {
    this.supported = ctx.model.lightCapacity ?? 0;
    this.channel = settings.channel ?? 0;
    // A dimmer without white tuning (mfc100: capacity 4) reports brightness-only mode.
    if (!(this.supported & CAP_TEMPERATURE) && this.supported !== 0) this.light.capacity = CAP_LUMINANCE;
    this.effects = (settings.effects ?? []).map((e) => ({ ...e }));
    this.reported = JSON.stringify(this.payload());
  }

  handle(req: SimRequest): Outcome | undefined {
    if (req.namespace === "Appliance.Control.Light.Effect") {
      if (req.method === "GET") return getAck({ effect: this.effects.map((e) => ({ ...e })) });
      if (req.method === "SET") return this.setEffect(req.payload);
      return undefined;
    }
    if (req.method === "GET") return getAck({ light: this.payload() });
    if (req.method === "SET") return this.setFromWire(req.payload);
    return undefined;
  }

  /** A SET overwrites the entry with the same Id; the one enabled plays, every other is disabled (§16.2). */
  private setEffect(payload: Json): Outcome {
    const list = Array.isArray(payload.effect) ? payload.effect : [];
    for (const item of list) {
      if (!isObject(item) || typeof item.Id !== "string") return unsupported("effect entries need an Id");
      const i = this.effects.findIndex((e) => e.Id === item.Id);
      if (i < 0) return unsupported(`no effect ${item.Id}`);
      this.effects[i] = { ...this.effects[i], ...item };
      if (item.enable === 1) {
        this.effects.forEach((e, j) => (e.enable = j === i ? 1 : 0));
        this.effect = i;
        this.light.capacity = CAP_EFFECT | CAP_RGB | CAP_LUMINANCE;
      }
    }
    this.ctx.changed();
    return setAck();
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
    state.light = this.effect >= 0 ? { ...this.light, effect: this.effect } : { ...this.light };
  }

  snapshot(snap: DeviceSnapshot): void {
    const l = this.light;
    const colour = (l.capacity & CAP_RGB) !== 0;
    snap.light = {
      on: this.ctx.switches.get(this.channel).on,
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
    if (rgb !== undefined || change.temperature !== undefined) this.stopEffect();
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
    if (change.on !== undefined) this.ctx.switches.set(this.channel, change.on);
    this.ctx.changed();
  }

  private payload(): Json {
    const l = this.light;
    const out: Json = { capacity: l.capacity, channel: this.channel, rgb: l.rgb, temperature: l.temperature, luminance: l.luminance };
    out.transform = 0;
    if (this.effect >= 0) out.effect = this.effect;
    if (this.settings.onoffInLight) out.onoff = this.ctx.switches.get(this.channel).on ? 1 : 0;
    return out;
  }

  private stopEffect(): void {
    this.effect = -1;
    this.effects.forEach((e) => (e.enable = 0));
  }

  /**
   * Applies only the fields selected by the SET capacity bits, and only those the model
   * supports. With `setTurnsOn` (msl120j fw 3.1.4, docs/protocol.md §6.7) any Light SET also
   * turns the bulb on; with `onoffInLight` the SET's `onoff` switches the light's channel.
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
      this.stopEffect();
    } else if (cap & CAP_TEMPERATURE && temperature !== undefined) {
      l.temperature = clamp(temperature, 1, 100);
      l.capacity = CAP_TEMPERATURE | CAP_LUMINANCE;
      this.stopEffect();
    }
    if (cap & CAP_LUMINANCE && luminance !== undefined) l.luminance = clamp(luminance, 1, 100);
    const onoff = toInt(body.onoff);
    if (this.settings.onoffInLight && (onoff === 0 || onoff === 1)) this.ctx.switches.set(this.channel, onoff === 1);
    else if (this.settings.setTurnsOn ?? true) this.ctx.switches.set(this.channel, true);
    this.ctx.changed();
    return setAck();
  }
}

/** Control.Light (+ Light.Effect); the capacity comes from the model's ability list, as the trace shows it. */
export function light(settings: LightSettings = {}): CapabilitySpec {
  return {
    name: "light",
    namespaces: ["Appliance.Control.Light", "Appliance.Control.Light.Effect"],
    settings,
    create: (ctx) => new LightCapability(ctx, settings),
  };
}
