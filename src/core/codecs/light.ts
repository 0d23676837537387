/**
 * Appliance.Control.Light (protocol.md §6.7): colour maths between what people type
 * (CSS colours, Kelvin) and what bulbs speak (rgb integer, temperature 1..100,
 * luminance 1..100, a capacity bitmask).
 */
import { MerossError } from "../errors";
import { CSS_COLOURS } from "./css-colours";
import { badInput, badReply, describeValue, isObject, singleObject, toNumber, type Json } from "./util";

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

export type Rgb = [number, number, number];

const COLOUR_FORMS =
  'use "#ff0000", "#f00", "rgb(255,0,0)", "hsv(0,100,100)", a CSS colour name such as "orange", ' +
  "[255,0,0], {r:255,g:0,b:0}, {h:0,s:100,v:100} or an integer from 0 to 16777215";

function isChannel(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 255;
}

function checkRgb(rgb: unknown, what: string): Rgb {
  if (!Array.isArray(rgb) || rgb.length !== 3 || !rgb.every(isChannel)) {
    throw badInput(`${what} ${describeValue(rgb)} is not a colour: give three whole numbers from 0 to 255, e.g. [255, 128, 0].`);
  }
  return [rgb[0], rgb[1], rgb[2]];
}

/** Devices carry colour as one integer R<<16 | G<<8 | B (§6.7). */
export function rgbToInt(rgb: Rgb): number {
  const [r, g, b] = checkRgb(rgb, "The colour");
  return (r << 16) | (g << 8) | b;
}

function checkInt(n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 0xffffff) {
    throw badInput(`The colour number ${describeValue(n)} is out of range: it must be a whole number from 0 to 16777215 (0xFFFFFF).`);
  }
  return n;
}

/** Inverse of rgbToInt, for colours read back from GET/PUSH/digest. */
export function intToRgb(n: number): Rgb {
  const v = checkInt(n);
  return [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
}

/** "#rrggbb" lowercase: what Node-RED colour pickers and dashboards show. */
export function rgbToHex(rgb: Rgb): string {
  return intToHex(rgbToInt(rgb));
}

/** Same as rgbToHex, straight from the device integer. */
export function intToHex(n: number): string {
  return `#${checkInt(n).toString(16).padStart(6, "0")}`;
}

function finite(n: unknown, what: string): number {
  if (typeof n !== "number" || !Number.isFinite(n)) {
    throw badInput(`${what} ${describeValue(n)} is not a number.`);
  }
  return n;
}

/** h 0..360, s and v 0..100 (the units colour pickers use). */
export function hsvToRgb(h: number, s: number, v: number): Rgb {
  const hh = ((finite(h, "The hue") % 360) + 360) % 360;
  const ss = finite(s, "The saturation");
  const vv = finite(v, "The value (brightness)");
  if (ss < 0 || ss > 100 || vv < 0 || vv > 100) {
    throw badInput(`Saturation ${ss} and value ${vv} must both be between 0 and 100 (percent).`);
  }
  const sat = ss / 100;
  const val = vv / 100;
  const c = val * sat;
  const x = c * (1 - Math.abs(((hh / 60) % 2) - 1));
  const m = val - c;
  const sector = Math.floor(hh / 60);
  const [r, g, b] =
    sector === 0 ? [c, x, 0] : sector === 1 ? [x, c, 0] : sector === 2 ? [0, c, x] : sector === 3 ? [0, x, c] : sector === 4 ? [x, 0, c] : [c, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

/**
 * One decimal place: integer hue alone would move a saturated channel by up to 2,
 * and the round trip rgb → hsv → rgb must come back within 1.
 */
export function rgbToHsv(rgb: Rgb): { h: number; s: number; v: number } {
  const [r, g, b] = checkRgb(rgb, "The colour").map((c) => c / 255);
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  let h = 0;
  if (d > 0) {
    if (max === r) h = 60 * (((g - b) / d) % 6);
    else if (max === g) h = 60 * ((b - r) / d + 2);
    else h = 60 * ((r - g) / d + 4);
  }
  if (h < 0) h += 360;
  const round1 = (n: number): number => Math.round(n * 10) / 10;
  const hue = round1(h);
  return { h: hue >= 360 ? 0 : hue, s: round1(max === 0 ? 0 : (d / max) * 100), v: round1(max * 100) };
}

function hslToRgb(h: number, s: number, l: number): Rgb {
  const v = l + (s * Math.min(l, 100 - l)) / 100;
  const sv = v === 0 ? 0 : 200 * (1 - l / v);
  return hsvToRgb(h, sv, v);
}

function colourError(input: unknown, why?: string): MerossError {
  const reason = why ? ` (${why})` : "";
  return badInput(`The colour ${describeValue(input)} is not understood${reason}: ${COLOUR_FORMS}.`);
}

/** A CSS-style component: plain number or percentage of `full`. */
function component(text: string, full: number): number | undefined {
  const m = /^([+-]?\d+(?:\.\d+)?|[+-]?\.\d+)(%?)$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === "%" ? (n * full) / 100 : n;
}

function parseFunctional(input: string, name: string, args: string[]): Rgb {
  if (args.length !== 3 && args.length !== 4) throw colourError(input, `${name}() needs three values`);
  const parts = args.slice(0, 3);
  if (name === "rgb" || name === "rgba") {
    const labels = ["red", "green", "blue"];
    return parts.map((p, i) => {
      const n = component(p, 255);
      if (n === undefined) throw colourError(input, `${labels[i]} "${p}" is not a number`);
      const c = Math.round(n);
      if (c < 0 || c > 255) throw colourError(input, `${labels[i]} ${p} is out of range 0..255 (or 0%..100%)`);
      return c;
    }) as Rgb;
  }
  const h = component(parts[0].replace(/deg$/, ""), 360);
  const a = component(parts[1].replace(/%$/, ""), 100);
  const b = component(parts[2].replace(/%$/, ""), 100);
  if (h === undefined || a === undefined || b === undefined) throw colourError(input, `${name}() values must be numbers`);
  if (a < 0 || a > 100 || b < 0 || b > 100) throw colourError(input, `${name}() saturation and ${name === "hsl" ? "lightness" : "value"} must be 0..100`);
  return name === "hsl" || name === "hsla" ? hslToRgb(h, a, b) : hsvToRgb(h, a, b);
}

function parseColourString(input: string): Rgb {
  const text = input.trim().toLowerCase();
  let m = /^#([0-9a-f]{3})$/.exec(text);
  if (m) return [0, 1, 2].map((i) => parseInt(m![1][i] + m![1][i], 16)) as Rgb;
  m = /^#([0-9a-f]{6})$/.exec(text);
  if (m) return intToRgb(parseInt(m[1], 16));
  const fn = /^(rgba?|hsva?|hsla?)\s*\((.*)\)$/.exec(text);
  if (fn) {
    const args = fn[2]
      .trim()
      .split(/\s*[,/]\s*|\s+/)
      .filter((s) => s !== "");
    return parseFunctional(input, fn[1], args);
  }
  const name = text.replace(/[\s_-]+/g, "");
  if (Object.prototype.hasOwnProperty.call(CSS_COLOURS, name)) return intToRgb(CSS_COLOURS[name]);
  if (/^[0-9a-f]{6}$/.test(text)) throw colourError(input, 'hex colours need a leading "#"');
  throw colourError(input);
}

function numberIn(o: Json, keys: string[]): number | undefined {
  for (const k of keys) {
    if (o[k] !== undefined) {
      const n = toNumber(o[k]);
      if (n === undefined) throw colourError(o, `${k} is not a number`);
      return n;
    }
  }
  return undefined;
}

function parseColourObject(o: Json): Rgb {
  const r = numberIn(o, ["r", "red"]);
  const g = numberIn(o, ["g", "green"]);
  const b = numberIn(o, ["b", "blue"]);
  if (r !== undefined || g !== undefined || b !== undefined) {
    if (r === undefined || g === undefined || b === undefined) throw colourError(o, "r, g and b are all needed");
    const rgb = [r, g, b].map(Math.round);
    if (!rgb.every(isChannel)) throw colourError(o, "each of r, g, b must be 0..255");
    return rgb as Rgb;
  }
  const h = numberIn(o, ["h", "hue"]);
  const s = numberIn(o, ["s", "saturation", "sat"]);
  if (h !== undefined && s !== undefined) {
    const v = numberIn(o, ["v", "value", "brightness"]) ?? 100;
    if (s < 0 || s > 100 || v < 0 || v > 100) throw colourError(o, "saturation and value must be 0..100");
    return hsvToRgb(h, s, v);
  }
  throw colourError(o);
}

/** Accepts every colour form a flow author is likely to send; see COLOUR_FORMS. */
export function parseColour(input: unknown): Rgb {
  if (typeof input === "number") {
    if (!Number.isInteger(input) || input < 0 || input > 0xffffff) throw colourError(input, "numbers must be whole, 0..16777215");
    return intToRgb(input);
  }
  if (typeof input === "string") return parseColourString(input);
  if (Array.isArray(input)) {
    if (input.length !== 3 || !input.every((c) => typeof c === "number" && Number.isFinite(c))) {
      throw colourError(input, "an array needs exactly three numbers");
    }
    const rgb = input.map((c: number) => Math.round(c));
    if (!rgb.every(isChannel)) throw colourError(input, "each channel must be 0..255");
    return rgb as Rgb;
  }
  if (isObject(input)) return parseColourObject(input);
  throw colourError(input);
}

/** Linear like [ML]: 2700 K → 1 (warmest), 6500 K → 100 (coolest); out-of-range input is clamped. */
export function kelvinToDevice(k: number): number {
  const kk = finite(k, "The colour temperature");
  const t = Math.round(LEVEL_MIN + ((kk - KELVIN_MIN) * (LEVEL_MAX - LEVEL_MIN)) / (KELVIN_MAX - KELVIN_MIN));
  return Math.min(LEVEL_MAX, Math.max(LEVEL_MIN, t));
}

/** Rounded to 10 K: one device step is ~38 K, so this loses nothing and reads better. */
export function deviceToKelvin(t: number): number {
  const tt = Math.min(LEVEL_MAX, Math.max(LEVEL_MIN, finite(t, "The device temperature")));
  const k = KELVIN_MIN + ((tt - LEVEL_MIN) * (KELVIN_MAX - KELVIN_MIN)) / (LEVEL_MAX - LEVEL_MIN);
  return Math.round(k / 10) * 10;
}

/** Mired is what Zigbee/HomeKit-style flows use for white; Kelvin = 1e6 / mired. */
export function miredToKelvin(m: number): number {
  const mm = finite(m, "The mired value");
  if (mm <= 0) throw badInput(`The mired value ${mm} must be above 0 (e.g. 370 mired ≈ 2700 K).`);
  return Math.round(1_000_000 / mm);
}

const TEMPERATURE_FORMS =
  'give it in Kelvin as a number from 1000 to 10000 (2700 = warm white, 6500 = cool daylight), a string like "2700K", ' +
  'a string like "370 mired", or one of "warm", "neutral", "cool"';

const NAMED_TEMPERATURES: Record<string, number> = { warm: 2700, warmwhite: 2700, neutral: 4000, cool: 6500, coolwhite: 6500, daylight: 6500 };

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
  if (onoff !== undefined) state.on = onoff !== 0;
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
 * The SET payload. Its `capacity` names the fields to apply (§6.7); `abilityCapacity`
 * (from System.Ability) decides what the bulb can do. A negative or non-finite
 * ability capacity means "unknown" and skips that check.
 */
export function buildLightSet(cmd: LightCommand, abilityCapacity: number): { light: Record<string, number> } {
  if (!isObject(cmd)) throw badInput(`The light command ${describeValue(cmd)} must be an object such as {luminance: 50}.`);
  const known = Number.isFinite(abilityCapacity) && abilityCapacity >= 0;
  const can = (bit: number): boolean => !known || (abilityCapacity & bit) !== 0;
  const what = `capacity ${known ? abilityCapacity : "?"} = ${describeCapacity(known ? abilityCapacity : 0)}`;
  if (cmd.rgb !== undefined && cmd.temperature !== undefined) {
    throw badInput("A bulb shows either a colour or a white temperature, not both: send rgb or temperature, not both in one command.");
  }
  const light: Record<string, number> = {};
  let channel = 0;
  if (cmd.channel !== undefined) {
    if (typeof cmd.channel !== "number" || !Number.isInteger(cmd.channel) || cmd.channel < 0) {
      throw badInput(`The channel ${describeValue(cmd.channel)} must be a whole number, 0 or more (0 for a single bulb).`);
    }
    channel = cmd.channel;
  }
  light.channel = channel;
  let capacity = 0;
  if (cmd.rgb !== undefined) {
    const rgb = checkInt(cmd.rgb);
    if (!can(LIGHT_CAPACITY.RGB)) {
      const alt = can(LIGHT_CAPACITY.TEMPERATURE) ? "Use a colour temperature (e.g. 2700K) instead." : "Use brightness only.";
      throw unsupported(`This bulb has no colour LEDs (${what}): it cannot show ${intToHex(rgb)}. ${alt}`);
    }
    light.rgb = rgb;
    capacity |= LIGHT_CAPACITY.RGB;
  }
  if (cmd.temperature !== undefined) {
    const t = level(cmd.temperature, "colour temperature");
    if (!can(LIGHT_CAPACITY.TEMPERATURE)) {
      const alt = can(LIGHT_CAPACITY.RGB) ? "Use an RGB colour (e.g. #ffb46b for a warm white) instead." : "Use brightness only.";
      throw unsupported(`This light has no adjustable white (${what}): it cannot show ${deviceToKelvin(t)} K. ${alt}`);
    }
    light.temperature = t;
    capacity |= LIGHT_CAPACITY.TEMPERATURE;
  }
  if (cmd.luminance !== undefined) {
    const l = level(cmd.luminance, "brightness");
    if (!can(LIGHT_CAPACITY.LUMINANCE)) {
      throw unsupported(`This light cannot be dimmed (${what}): brightness ${l} cannot be set. Send only on/off or a colour.`);
    }
    light.luminance = l;
    capacity |= LIGHT_CAPACITY.LUMINANCE;
  }
  if (cmd.onoff !== undefined) {
    if (cmd.onoff !== 0 && cmd.onoff !== 1) throw badInput(`onoff ${describeValue(cmd.onoff)} must be 0 (off) or 1 (on).`);
    light.onoff = cmd.onoff;
  }
  if (capacity === 0 && light.onoff === undefined) {
    throw badInput("The light command sets nothing: give at least one of rgb, temperature, luminance or onoff.");
  }
  if (capacity !== 0) light.capacity = capacity;
  if (cmd.transform !== undefined) {
    if (typeof cmd.transform !== "number" || !Number.isFinite(cmd.transform)) {
      throw badInput(`transform ${describeValue(cmd.transform)} must be a number (0 is the usual value).`);
    }
    light.transform = Math.round(cmd.transform);
  }
  return { light };
}

/** What nodes put in msg.payload: human units (percent, #hex, Kelvin). */
export function lightStateToOutput(s: LightState): { on?: boolean; brightness: number; mode: string; rgb: string; temperature: number } {
  const out: { on?: boolean; brightness: number; mode: string; rgb: string; temperature: number } = {
    brightness: s.luminance,
    mode: s.mode,
    rgb: intToHex(s.rgb >= 0 && s.rgb <= 0xffffff ? Math.round(s.rgb) : 0),
    temperature: deviceToKelvin(s.temperature),
  };
  if (s.on !== undefined) out.on = s.on;
  return out;
}
