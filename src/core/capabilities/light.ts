/**
 * Light capability, Appliance.Control.Light (docs/protocol.md §6.7): the device scales
 * (rgb integer, temperature 1..100, luminance 1..100, a capacity bitmask), the SET rules
 * per capacity, its commands and the reducer of its replies and pushes. Colour input
 * forms live in light-colour.ts.
 */
import { MerossError, explain } from "../errors";
import type { Envelope } from "../protocol/message";
import { checkColourInt, finiteNumber, intToHex } from "./light-colour";
import { sendSets, type MultipleItem } from "./multiple";
import { NS_TOGGLE, buildToggleSet, buildToggleXSet, hasToggle, isLegacyToggle, NS_TOGGLEX, noteToggle } from "./toggle";
import { modelOf, type Capability, type ChangeSource, type DeviceEvent, type DeviceSession } from "./types";
import type { MutableDeviceState, SystemDigest, Update } from "./types";
import { badInput, badReply, describeValue, isObject, singleObject, toNumber, type Json } from "./util";

export * from "./light-colour";

export const NS_LIGHT = "Appliance.Control.Light";
declare module "./types" {
  interface MutableDeviceState {
    light?: LightState;
  }
  interface CapabilityEvents {
    light: { light: LightState; source?: ChangeSource };
  }
}

/** Capacity bits: in the ability they are what the bulb can do, in GET/digest its current mode. */
export const LIGHT_CAPACITY = { RGB: 1, TEMPERATURE: 2, LUMINANCE: 4, EFFECT: 8 } as const;

/** The range [ML] maps device temperature 1..100 onto (light.py MSL_KELVIN_*); approximate per model. */
export const KELVIN_MIN = 2700,
  KELVIN_MAX = 6500;

/** Device temperature and luminance are 1..100; 0 is not a valid level on devices (§6.7). */
const LEVEL_MIN = 1;
const LEVEL_MAX = 100;
/** Plausible colour temperatures a person might type; outside this is a typo, not a wish. */
const KELVIN_INPUT_MIN = 1000;
const KELVIN_INPUT_MAX = 10000;

/** Linear like [ML]: 2700 K → 1 (warmest), 6500 K → 100 (coolest); out-of-range input is clamped. */
export function kelvinToDevice(k: number): number {
  const kk = finiteNumber(k, "The colour temperature");
  const t = Math.round(LEVEL_MIN + ((kk - KELVIN_MIN) * (LEVEL_MAX - LEVEL_MIN)) / (KELVIN_MAX - KELVIN_MIN));
  return Math.min(LEVEL_MAX, Math.max(LEVEL_MIN, t));
}

/** Rounded to 10 K: one device step is ~38 K, so this loses nothing and reads better. */
export function deviceToKelvin(t: number): number {
  const tt = Math.min(LEVEL_MAX, Math.max(LEVEL_MIN, finiteNumber(t, "The device temperature")));
  const k = KELVIN_MIN + ((tt - LEVEL_MIN) * (KELVIN_MAX - KELVIN_MIN)) / (LEVEL_MAX - LEVEL_MIN);
  return Math.round(k / 10) * 10;
}

/** Mired is what Zigbee/HomeKit-style flows use for white; Kelvin = 1e6 / mired. */
export function miredToKelvin(m: number): number {
  const mm = finiteNumber(m, "The mired value");
  if (mm <= 0) throw badInput(`The mired value ${mm} must be above 0 (e.g. 370 mired ≈ 2700 K).`);
  return Math.round(1_000_000 / mm);
}

const TEMPERATURE_FORMS =
  'give it in Kelvin as a number from 1000 to 10000 (2700 = warm white, 6500 = cool daylight), a string like "2700K", ' +
  'a string like "370 mired", or one of "warm", "neutral", "cool"';

const NAMED_TEMPERATURES: Record<string, number> = {
  warm: 2700,
  warmwhite: 2700,
  neutral: 4000,
  cool: 6500,
  coolwhite: 6500,
  daylight: 6500,
};

/** Kelvin from what people type; clamping into the bulb's 2700..6500 is kelvinToDevice's job. */
export function parseTemperature(input: unknown): number {
  let k: number | undefined;
  if (typeof input === "number" && Number.isFinite(input)) {
    k = input;
  } else if (typeof input === "string") {
    const text = input.trim().toLowerCase();
    const m = /^(\d+(?:\.\d+)?)\s*(k|kelvin|mired|mireds|mirek)?$/.exec(text);
    if (m) {
      const n = Number(m[1]);
      k = m[2] && m[2].startsWith("mi") ? (n > 0 ? 1_000_000 / n : undefined) : n;
    } else if (Object.prototype.hasOwnProperty.call(NAMED_TEMPERATURES, text.replace(/[\s_-]+/g, ""))) {
      k = NAMED_TEMPERATURES[text.replace(/[\s_-]+/g, "")];
    }
  }
  if (k === undefined || !Number.isFinite(k) || k < KELVIN_INPUT_MIN || k > KELVIN_INPUT_MAX) {
    throw badInput(`The colour temperature ${describeValue(input)} is not understood: ${TEMPERATURE_FORMS}.`);
  }
  return Math.round(k);
}

/** A light reading in device units; mode comes from the capacity bits of GET/digest. */
export interface LightState {
  on?: boolean;
  capacity: number;
  channel: number;
  rgb: number;
  temperature: number;
  luminance: number;
  mode: "rgb" | "temperature" | "effect" | "luminance";
  /** Position in the Light.Effect list while an effect plays (docs/protocol-devices.md §16.2). */
  effect?: number;
  /** The firmware reports `onoff` inside Light (mfc100, msxh0, msl120b), so it also reads it (§6.7). */
  onoffField?: boolean;
}

/** Effect first: an effect is reported as 13 = effect + rgb + luminance (msl320cpr trace). */
function modeOf(capacity: number): LightState["mode"] {
  if (capacity & LIGHT_CAPACITY.EFFECT) return "effect";
  if (capacity & LIGHT_CAPACITY.RGB) return "rgb";
  if (capacity & LIGHT_CAPACITY.TEMPERATURE) return "temperature";
  return "luminance";
}

function intField(o: Json, key: string): number | undefined {
  const n = toNumber(o[key]);
  return n === undefined ? undefined : Math.round(n);
}

/**
 * Reads `{light: {...}}` from GET, PUSH, SETACK echoes or the System.All digest. Fields
 * not applied may be -1 (msl430 echo, ML#66) or missing: they fall back to neutral values.
 */
export function parseLightPayload(payload: unknown): LightState {
  const light = isObject(payload) ? singleObject(payload.light) : undefined;
  if (!light) throw badReply("Control.Light", 'it has no "light" object', payload);
  const capacity = intField(light, "capacity") ?? 0;
  const rgb = intField(light, "rgb");
  const temperature = intField(light, "temperature");
  const luminance = intField(light, "luminance");
  const state: LightState = {
    capacity: capacity >= 0 ? capacity : 0,
    channel: Math.max(0, intField(light, "channel") ?? 0),
    rgb: rgb !== undefined && rgb >= 0 && rgb <= 0xffffff ? rgb : 0,
    temperature: temperature !== undefined ? Math.min(LEVEL_MAX, Math.max(0, temperature)) : 0,
    luminance: luminance !== undefined ? Math.min(LEVEL_MAX, Math.max(0, luminance)) : 0,
    mode: modeOf(capacity >= 0 ? capacity : 0),
  };
  const onoff = toNumber(light.onoff);
  if (onoff !== undefined) {
    state.on = onoff !== 0;
    state.onoffField = true;
  }
  const effect = intField(light, "effect");
  if (state.mode === "effect" && effect !== undefined && effect >= 0) state.effect = effect;
  return state;
}

/** Device units (temperature and luminance 1..100, rgb integer), as buildLightSet sends them. */
export interface LightCommand {
  channel?: number;
  rgb?: number;
  temperature?: number;
  luminance?: number;
  onoff?: 0 | 1;
  transform?: number;
}

/** Capacity bits in words, so UNSUPPORTED errors explain what the bulb can do. */
export function describeCapacity(capacity: number): string {
  const parts: string[] = [];
  if (capacity & LIGHT_CAPACITY.RGB) parts.push("colour");
  if (capacity & LIGHT_CAPACITY.TEMPERATURE) parts.push("white");
  if (capacity & LIGHT_CAPACITY.LUMINANCE) parts.push("brightness");
  if (capacity & LIGHT_CAPACITY.EFFECT) parts.push("effects");
  return parts.length ? parts.join(" + ") : "no light controls";
}

function level(v: unknown, name: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw badInput(`The ${name} ${describeValue(v)} is not a number: give a whole number from 1 to 100.`);
  }
  return Math.min(LEVEL_MAX, Math.max(LEVEL_MIN, Math.round(v)));
}

function unsupported(message: string): MerossError {
  return new MerossError("UNSUPPORTED", message);
}

/**
 * Every rule of a light command (channel, levels, colour or white, what this bulb can show), each
 * with a sentence a user can act on; throws, builds nothing. `abilityCapacity` (System.Ability)
 * is what the bulb can do; negative or non-finite means "unknown" and skips that check.
 */
export function checkLightLevels(cmd: LightCommand, abilityCapacity: number): void {
  if (!isObject(cmd)) throw badInput(`The light command ${describeValue(cmd)} must be an object such as {luminance: 50}.`);
  const known = Number.isFinite(abilityCapacity) && abilityCapacity >= 0;
  const can = (bit: number): boolean => !known || (abilityCapacity & bit) !== 0;
  const what = `capacity ${known ? abilityCapacity : "?"} = ${describeCapacity(known ? abilityCapacity : 0)}`;
  if (cmd.rgb !== undefined && cmd.temperature !== undefined) {
    throw badInput("A bulb shows either a colour or a white temperature, not both: send rgb or temperature, not both in one command.");
  }
  if (cmd.channel !== undefined && (typeof cmd.channel !== "number" || !Number.isInteger(cmd.channel) || cmd.channel < 0)) {
    throw badInput(`The channel ${describeValue(cmd.channel)} must be a whole number, 0 or more (0 for a single bulb).`);
  }
  if (cmd.rgb !== undefined) {
    const rgb = checkColourInt(cmd.rgb);
    if (!can(LIGHT_CAPACITY.RGB)) {
      const alt = can(LIGHT_CAPACITY.TEMPERATURE) ? "Use a colour temperature (e.g. 2700K) instead." : "Use brightness only.";
      throw unsupported(`This bulb has no colour LEDs (${what}): it cannot show ${intToHex(rgb)}. ${alt}`);
    }
  }
  if (cmd.temperature !== undefined) {
    const t = level(cmd.temperature, "colour temperature");
    if (!can(LIGHT_CAPACITY.TEMPERATURE)) {
      const alt = can(LIGHT_CAPACITY.RGB) ? "Use an RGB colour (e.g. #ffb46b for a warm white) instead." : "Use brightness only.";
      throw unsupported(`This light has no adjustable white (${what}): it cannot show ${deviceToKelvin(t)} K. ${alt}`);
    }
  }
  if (cmd.luminance !== undefined) {
    const l = level(cmd.luminance, "brightness");
    if (!can(LIGHT_CAPACITY.LUMINANCE)) {
      throw unsupported(`This light cannot be dimmed (${what}): brightness ${l} cannot be set. Send only on/off or a colour.`);
    }
  }
  if (cmd.onoff !== undefined && cmd.onoff !== 0 && cmd.onoff !== 1) {
    throw badInput(`onoff ${describeValue(cmd.onoff)} must be 0 (off) or 1 (on).`);
  }
  if (cmd.rgb === undefined && cmd.temperature === undefined && cmd.luminance === undefined && cmd.onoff === undefined) {
    throw badInput("The light command sets nothing: give at least one of rgb, temperature, luminance or onoff.");
  }
  if (cmd.transform !== undefined && (typeof cmd.transform !== "number" || !Number.isFinite(cmd.transform))) {
    throw badInput(`transform ${describeValue(cmd.transform)} must be a number (0 is the usual value).`);
  }
}

/** The SET payload (checkLightLevels' rules first); its `capacity` names the fields to apply (§6.7). */
export function buildLightSet(cmd: LightCommand, abilityCapacity: number): { light: Record<string, number> } {
  checkLightLevels(cmd, abilityCapacity);
  const light: Record<string, number> = { channel: cmd.channel ?? 0 };
  if (cmd.rgb !== undefined) light.rgb = checkColourInt(cmd.rgb);
  if (cmd.temperature !== undefined) light.temperature = level(cmd.temperature, "colour temperature");
  if (cmd.luminance !== undefined) light.luminance = level(cmd.luminance, "brightness");
  if (cmd.onoff !== undefined) light.onoff = cmd.onoff;
  const { RGB, TEMPERATURE, LUMINANCE } = LIGHT_CAPACITY;
  const capacity =
    (cmd.rgb !== undefined ? RGB : 0) | (cmd.temperature !== undefined ? TEMPERATURE : 0) | (cmd.luminance !== undefined ? LUMINANCE : 0);
  if (capacity !== 0) light.capacity = capacity;
  if (cmd.transform !== undefined) light.transform = Math.round(cmd.transform);
  return { light };
}

/** What nodes put in msg.payload: human units (percent, #hex, Kelvin). */
export interface LightOutput {
  on?: boolean;
  brightness: number;
  mode: string;
  /** Absent on a bulb without colour (capacity known, no RGB bit): a white lamp has no rgb to report. */
  rgb?: string;
  /** Absent on a bulb without white temperature (capacity known, no temperature bit). */
  temperature?: number;
  effect?: number;
}

/** The light state as flows see it; `capacity` (the ability's, 0 = unknown) drops what the bulb cannot do. */
export function lightStateToOutput(s: LightState, capacity = 0): LightOutput {
  const out: LightOutput = { brightness: s.luminance, mode: s.mode };
  if (!capacity || capacity & LIGHT_CAPACITY.RGB) out.rgb = intToHex(s.rgb >= 0 && s.rgb <= 0xffffff ? Math.round(s.rgb) : 0);
  if (!capacity || capacity & LIGHT_CAPACITY.TEMPERATURE) out.temperature = deviceToKelvin(s.temperature);
  if (s.on !== undefined) out.on = s.on;
  if (s.effect !== undefined) out.effect = s.effect;
  return out;
}

// ---- reducer -------------------------------------------------------------------------

/** Records a light reading; on/off comes from the toggle state when the reading lacks it. */
export function noteLight(state: MutableDeviceState, light: LightState, source: ChangeSource = "reply"): DeviceEvent[] {
  const merged: LightState = { ...light, on: light.on ?? state.toggles.get(light.channel ?? 0) };
  const before = state.light;
  state.light = merged;
  return before && JSON.stringify(before) === JSON.stringify(merged) ? [] : [{ type: "light", light: merged, source }];
}

/** digest.light; on/off comes from the toggle digest (its hook runs first) when the light part lacks it. */
const readLight =
  (light: LightState): Update =>
  (state) =>
    noteLight(state, light);
/** Pushes carry only what changed (§6.7), so fields missing from one keep their value. */
function reduceLight(env: Envelope, source: ChangeSource): Update | undefined {
  const raw = Array.isArray(env.payload.light) ? env.payload.light[0] : env.payload.light;
  if (!isObject(raw)) return undefined;
  return (state) => {
    const full = parseLightPayload({ light: { ...(state.light ?? {}), ...raw } });
    if (full.on === undefined && typeof raw.onoff !== "number") full.on = state.light?.on;
    if (state.light?.onoffField) full.onoffField = true;
    return noteLight(state, full, source);
  };
}

export const lightCapability: Capability = {
  name: "light",
  namespaces: [NS_LIGHT],
  reduce: (env, source) => (env.header.namespace === NS_LIGHT ? reduceLight(env, source) : undefined),
  digest: (all: SystemDigest) => (all.digest.light === undefined ? undefined : readLight(parseLightPayload({ light: all.digest.light }))),
  poll: async (s) => void (s.has(NS_LIGHT) && (await getLight(s))),
};

// ---- commands ------------------------------------------------------------------------

/** Ability capacity of the light (1 RGB, 2 temperature, 4 luminance), 0 when not a light. */
export function lightCapacity(s: Pick<DeviceSession, "state" | "has">): number {
  const cap = s.state.abilities?.[NS_LIGHT]?.capacity;
  return typeof cap === "number" ? cap : s.has(NS_LIGHT) ? LIGHT_CAPACITY.LUMINANCE : 0;
}

function requireLight(s: DeviceSession): void {
  if (!s.has(NS_LIGHT)) {
    throw new MerossError("UNSUPPORTED", explain.unsupported(s.address, "SET", NS_LIGHT, `this ${modelOf(s)} is not a light`), {
      host: s.address,
      namespace: NS_LIGHT,
    });
  }
}

export async function getLight(s: DeviceSession): Promise<LightState> {
  await s.ready();
  requireLight(s);
  const light = parseLightPayload((await s.request("GET", NS_LIGHT, { light: {} })).payload);
  if (light.on === undefined) light.on = s.state.toggles.get(light.channel ?? 0);
  s.commit((state) => noteLight(state, light));
  return light;
}

/**
 * The light's channel as the device reports it: a ceiling fan (mfc100) has its light on
 * channel 1 and its fan on 2 (docs/protocol-devices.md §16.1); bulbs use 0.
 */
export function lightChannel(s: Pick<DeviceSession, "state">): number {
  return s.state.light?.channel ?? 0;
}

/** The on/off request of a channel: ToggleX, or Toggle on legacy firmware (§6.5, §6.6). */
function toggleItem(s: DeviceSession, channel: number, on: boolean): MultipleItem {
  return isLegacyToggle(s)
    ? { method: "SET", namespace: NS_TOGGLE, payload: buildToggleSet(channel, on) }
    : { method: "SET", namespace: NS_TOGGLEX, payload: buildToggleXSet(channel, on) };
}

/**
 * Applies a light command in ONE round trip whenever the device allows it (§6.7):
 * - levels to a light known to be on: the Light SET alone, never a ToggleX;
 * - levels to a light that is off or unknown: firmware that reports `onoff` inside Light reads
 *   it, so the Light SET carries `onoff: 1`; otherwise Light + ToggleX go in one Control.Multiple
 *   (within maxCmdNum, §6.8), and only a device without Multiple pays two round trips. Some
 *   firmware (msl120j) turns on with any Light SET, but nothing in the ability list says which,
 *   so that is never relied on;
 * - an explicit on/off without levels is always sent (ToggleX), so a stale state cannot swallow it.
 */
export async function setLight(s: DeviceSession, cmd: LightCommand & { on?: boolean }): Promise<LightState> {
  await s.ready();
  requireLight(s);
  const { on, ...fields } = cmd;
  const base: LightState = s.state.light ?? (await getLight(s));
  const channel = cmd.channel ?? lightChannel(s);
  const hasFields = fields.rgb !== undefined || fields.temperature !== undefined || fields.luminance !== undefined;
  const known = s.state.toggles.get(channel) ?? base.on;
  const wantOn = on ?? (hasFields ? true : undefined);
  const items: MultipleItem[] = [];
  let next: LightState = { ...base };
  let switched = false;
  if (hasFields) {
    const body = buildLightSet({ ...fields, channel }, lightCapacity(s));
    if (wantOn !== undefined && known !== wantOn && (base.onoffField || !hasToggle(s))) {
      body.light.onoff = wantOn ? 1 : 0;
      switched = true;
    }
    items.push({ method: "SET", namespace: NS_LIGHT, payload: body });
    const l = body.light;
    next = {
      ...next,
      capacity: l.capacity ?? next.capacity,
      rgb: l.rgb ?? next.rgb,
      temperature: l.temperature ?? next.temperature,
      luminance: l.luminance ?? next.luminance,
      mode: l.rgb !== undefined ? "rgb" : l.temperature !== undefined ? "temperature" : next.mode,
    };
    if (l.rgb !== undefined || l.temperature !== undefined) delete next.effect;
  }
  if (wantOn !== undefined && !switched && (!hasFields || known !== wantOn)) {
    const onoff: 0 | 1 = wantOn ? 1 : 0;
    const lightOnly: MultipleItem = { method: "SET", namespace: NS_LIGHT, payload: buildLightSet({ channel, onoff }, -1) };
    items.push(hasToggle(s) ? toggleItem(s, channel, wantOn) : lightOnly);
    switched = true;
  }
  if (items.length > 0) await sendSets(s, items);
  if (switched && wantOn !== undefined && hasToggle(s)) s.commit((state) => noteToggle(state, channel, wantOn));
  next.on = wantOn ?? known ?? next.on;
  s.commit((state) => noteLight(state, next));
  return next;
}
