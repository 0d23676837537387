/**
 * Colours as people type them, turned into the one integer bulbs speak (docs/protocol.md
 * §6.7). Parsing CSS syntax, the CSS colour names and HSV/HSL conversion come from the
 * `colord` library; what stays here is what colord is lenient about and a bulb is not: it
 * clamps `rgb(300,0,0)` and accepts `#rgba` and "transparent", which a flow author means
 * as a typo, so those are refused first with a sentence that lists the accepted forms.
 */
import { colord, extend, type RgbColor } from "colord";
import namesPlugin from "colord/plugins/names";
import { MerossError } from "../errors";
import { badInput, describeValue, isObject, toNumber, type Json } from "./util";

extend([namesPlugin]);

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

export function checkColourInt(n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 0xffffff) {
    throw badInput(`The colour number ${describeValue(n)} is out of range: it must be a whole number from 0 to 16777215 (0xFFFFFF).`);
  }
  return n;
}

/** Devices carry colour as one integer R<<16 | G<<8 | B (§6.7). */
export function rgbToInt(rgb: Rgb): number {
  const [r, g, b] = checkRgb(rgb, "The colour");
  return (r << 16) | (g << 8) | b;
}

/** Inverse of rgbToInt, for colours read back from GET/PUSH/digest. */
export function intToRgb(n: number): Rgb {
  const v = checkColourInt(n);
  return [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
}

/** "#rrggbb" lowercase: what Node-RED colour pickers and dashboards show. */
export function rgbToHex(rgb: Rgb): string {
  return intToHex(rgbToInt(rgb));
}

export function intToHex(n: number): string {
  return `#${checkColourInt(n).toString(16).padStart(6, "0")}`;
}

export function finiteNumber(n: unknown, what: string): number {
  if (typeof n !== "number" || !Number.isFinite(n)) throw badInput(`${what} ${describeValue(n)} is not a number.`);
  return n;
}

function toTuple(c: RgbColor): Rgb {
  return [c.r, c.g, c.b];
}

/** h 0..360 (wraps), s and v 0..100: the units colour pickers use. */
export function hsvToRgb(h: number, s: number, v: number): Rgb {
  const hh = finiteNumber(h, "The hue");
  const ss = finiteNumber(s, "The saturation");
  const vv = finiteNumber(v, "The value (brightness)");
  if (ss < 0 || ss > 100 || vv < 0 || vv > 100) {
    throw badInput(`Saturation ${ss} and value ${vv} must both be between 0 and 100 (percent).`);
  }
  return toTuple(colord({ h: ((hh % 360) + 360) % 360, s: ss, v: vv }).toRgb());
}

/**
 * One decimal place, computed here because colord rounds HSV to whole numbers, which moves
 * a channel by up to 3 on the way back; the output must round-trip within 1.
 */
export function rgbToHsv(rgb: Rgb): { h: number; s: number; v: number } {
  const [r, g, b] = checkRgb(rgb, "The colour").map((c) => c / 255);
  const max = Math.max(r, g, b);
  const d = max - Math.min(r, g, b);
  let h = 0;
  if (d > 0) h = max === r ? 60 * (((g - b) / d + 6) % 6) : max === g ? 60 * ((b - r) / d + 2) : 60 * ((r - g) / d + 4);
  const round1 = (n: number): number => Math.round(n * 10) / 10;
  const hue = round1(h);
  return { h: hue >= 360 ? 0 : hue, s: round1(max === 0 ? 0 : (d / max) * 100), v: round1(max * 100) };
}

function colourError(input: unknown, why?: string): MerossError {
  const reason = why ? ` (${why})` : "";
  return badInput(`The colour ${describeValue(input)} is not understood${reason}: ${COLOUR_FORMS}.`);
}

/** A CSS component: a number, or a percentage of `full`. */
function component(text: string, full: number): number | undefined {
  const m = /^([+-]?\d+(?:\.\d+)?|[+-]?\.\d+)(%?)$/.exec(text.replace(/deg$/, ""));
  if (!m) return undefined;
  return m[2] === "%" ? (Number(m[1]) * full) / 100 : Number(m[1]);
}

/**
 * The range checks colord skips (it clamps), and `hsv()`, which is not CSS and so not
 * colord's, but which colour pickers print.
 */
function checkFunctional(input: string, name: string, args: string[]): Rgb | undefined {
  if (args.length !== 3 && args.length !== 4) throw colourError(input, `${name}() needs three values`);
  const [a, b, c] = args;
  if (name.startsWith("rgb")) {
    ["red", "green", "blue"].forEach((label, i) => {
      const n = component(args[i], 255);
      if (n === undefined) throw colourError(input, `${label} "${args[i]}" is not a number`);
      if (Math.round(n) < 0 || Math.round(n) > 255) throw colourError(input, `${label} ${args[i]} is out of range 0..255 (or 0%..100%)`);
    });
    return undefined;
  }
  const [h, x, y] = [component(a, 360), component(b.replace(/%$/, ""), 100), component(c.replace(/%$/, ""), 100)];
  if (h === undefined || x === undefined || y === undefined) throw colourError(input, `${name}() values must be numbers`);
  const third = name.startsWith("hsl") ? "lightness" : "value";
  if (x < 0 || x > 100 || y < 0 || y > 100) throw colourError(input, `${name}() saturation and ${third} must be 0..100`);
  return name.startsWith("hsv") ? hsvToRgb(h, x, y) : undefined;
}

function parseColourString(input: string): Rgb {
  const text = input.trim().toLowerCase();
  if (/^[0-9a-f]{6}$/.test(text)) throw colourError(input, 'hex colours need a leading "#"');
  if (text.startsWith("#") && !/^#([0-9a-f]{3}|[0-9a-f]{6})$/.test(text)) throw colourError(input);
  const fn = /^(rgba?|hsva?|hsla?)\s*\((.*)\)$/.exec(text);
  let subject = text;
  if (fn) {
    const args = fn[2]
      .trim()
      .split(/\s*[,/]\s*|\s+/)
      .filter((x) => x !== "");
    const hsv = checkFunctional(input, fn[1], args);
    if (hsv) return hsv;
    subject = `${fn[1]}(${args.join(", ")})`;
  } else if (!text.startsWith("#")) {
    // Names go through colord only when they are plain words: "constructor" is not a colour.
    const name = text.replace(/[\s_-]+/g, "");
    subject = /^[a-z]+$/.test(name) && name !== "transparent" && !(name in Object.prototype) ? name : "";
  }
  const c = colord(subject);
  if (!subject || !c.isValid()) throw colourError(input);
  return toTuple(c.toRgb());
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
