/**
 * What meross-light accepts in msg.payload, turned into one device-unit request
 * (`LightRequest`, src/core/light/controller.ts, which also says how two pending requests merge).
 */
import {
  KELVIN_MAX,
  KELVIN_MIN,
  kelvinToDevice,
  miredToKelvin,
  parseColour,
  parseTemperature,
  rgbToInt,
  parseTransition,
  parseOnOffInput,
  describeValue,
  isObject,
  badInput as bad,
  hasLevels,
  type LightRequest,
} from "../../core";

export { hasLevels, mergeLightRequests, type LightRequest } from "../../core";

const PAYLOAD_FORMS =
  'send true/false, "on"/"off"/"toggle", a brightness 0-100, a colour ("#ff8800", "rgb(255,136,0)", "orange"), ' +
  'a white temperature ("2700K"), or an object such as {on: true, brightness: 80, temperature: 2700} or {rgb: "#ff8800"}';

const OBJECT_KEYS = new Set([
  "on",
  "brightness",
  "temperature",
  "kelvin",
  "mired",
  "rgb",
  "color",
  "colour",
  "hue",
  "saturation",
  "mode",
  "transition",
  "effect",
  "fan",
]);

/** Brightness in percent; 0 means off, fractions round, anything outside 0..100 is refused. */
export function parseBrightness(v: unknown): number {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v.trim().replace(/%$/, "")) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 100) {
    throw bad(`The brightness ${describeValue(v)} is not valid: use a number from 0 (off) to 100 (full).`);
  }
  return n === 0 ? 0 : Math.max(1, Math.round(n));
}

function temperatureFrom(v: unknown): number {
  const k = parseTemperature(v);
  return kelvinToDevice(Math.min(KELVIN_MAX, Math.max(KELVIN_MIN, k)));
}

function withBrightness(req: LightRequest, b: number): LightRequest {
  if (b === 0) return { ...req, on: false };
  return { ...req, luminance: b };
}

function parseObject(o: Record<string, unknown>): LightRequest {
  const unknown = Object.keys(o).filter((k) => !OBJECT_KEYS.has(k));
  if (unknown.length > 0) {
    throw bad(`The light does not understand ${unknown.map((k) => `"${k}"`).join(", ")} in msg.payload: ${PAYLOAD_FORMS}.`);
  }
  let req: LightRequest = {};
  const colourValue = o.rgb ?? o.color ?? o.colour;
  const hasColour = colourValue !== undefined || o.hue !== undefined || o.saturation !== undefined;
  const hasWhite = o.temperature !== undefined || o.kelvin !== undefined || o.mired !== undefined;
  // A meross-light output ({mode, rgb, temperature, ...}) can drive another bulb: mode says which one counts.
  const mode = o.mode;
  if (mode !== undefined && mode !== "rgb" && mode !== "temperature" && mode !== "luminance" && mode !== "effect") {
    throw bad(`The mode ${describeValue(mode)} is not valid: use "rgb" or "temperature" (or leave it out).`);
  }
  const useColour = hasColour && (!hasWhite || mode === "rgb");
  const useWhite = hasWhite && (!hasColour || mode === "temperature");
  if (hasColour && hasWhite && !useColour && !useWhite) {
    throw bad(
      'A bulb shows either a colour or a white temperature: send rgb (or hue/saturation) or temperature, not both, or add mode: "rgb" or "temperature".',
    );
  }
  if (useColour) {
    if (colourValue !== undefined) {
      req.rgb = rgbToInt(parseColour(colourValue));
    } else {
      if (o.hue === undefined || o.saturation === undefined)
        throw bad("A colour from hue and saturation needs both: hue 0-360 and saturation 0-100.");
      req.rgb = rgbToInt(parseColour({ h: o.hue, s: o.saturation }));
    }
  }
  if (useWhite) {
    if (o.mired !== undefined && o.temperature === undefined && o.kelvin === undefined) {
      const m = typeof o.mired === "number" ? o.mired : Number(o.mired);
      req.temperature = temperatureFrom(miredToKelvin(m));
    } else {
      req.temperature = temperatureFrom(o.temperature ?? o.kelvin);
    }
  }
  if (o.brightness !== undefined) req = withBrightness(req, parseBrightness(o.brightness));
  if (o.on !== undefined) {
    const on = parseOnOffInput(o.on);
    if (on === undefined) throw bad(`"on" ${describeValue(o.on)} is not valid: use true, false or "toggle".`);
    // {on: true, brightness: 0} asks for two things; off is what a dimmer at 0 means.
    if (!(on === true && req.on === false)) req.on = on;
  }
  if (o.transition !== undefined) req.transition = parseTransition(o.transition);
  if (o.effect !== undefined) {
    if (typeof o.effect !== "string" && !(typeof o.effect === "number" && Number.isInteger(o.effect) && o.effect >= 0)) {
      throw bad(`The effect ${describeValue(o.effect)} is not valid: give its name (e.g. "Party"), its number from 0, "list" or "none".`);
    }
    if (hasLevels(req) || req.on !== undefined || req.transition !== undefined) {
      throw bad("An effect brings its own colours and brightness: send {effect} alone, then other settings in a later message.");
    }
    req.effect = o.effect;
  }
  if (o.fan !== undefined) {
    if (typeof o.fan !== "number" && typeof o.fan !== "string") {
      throw bad(`The fan speed ${describeValue(o.fan)} is not valid: use a whole number from 0 (stopped) up, "off" or "max".`);
    }
    if (Object.keys(o).length > 1) throw bad("Send the fan speed alone, as {fan: 2}: light settings go in a separate message.");
    req.fan = o.fan;
  }
  return req;
}

/** msg.payload → a light request. Throws BAD_INPUT with the accepted forms. */
export function parseLightInput(payload: unknown): LightRequest {
  if (typeof payload === "boolean") return { on: payload };
  if (typeof payload === "number") return withBrightness({}, parseBrightness(payload));
  if (typeof payload === "string") {
    const text = payload.trim();
    if (text === "") throw bad(`msg.payload is an empty string: ${PAYLOAD_FORMS}.`);
    if (/^[+-]?\d+(\.\d+)?%?$/.test(text)) return withBrightness({}, parseBrightness(text));
    const onoff = parseOnOffInput(text);
    if (onoff !== undefined) return { on: onoff };
    if (/^\d+(\.\d+)?\s*(k|kelvin|mired|mireds|mirek)$/i.test(text) || /^(warm|neutral|cool|daylight)(\s*white)?$/i.test(text)) {
      return { temperature: temperatureFrom(text) };
    }
    return { rgb: rgbToInt(parseColour(text)) };
  }
  if (Array.isArray(payload)) return { rgb: rgbToInt(parseColour(payload)) };
  if (isObject(payload)) {
    if (Object.keys(payload).length === 0) throw bad(`msg.payload is an empty object: ${PAYLOAD_FORMS}.`);
    return parseObject(payload);
  }
  throw bad(`msg.payload ${describeValue(payload)} is not a light command: ${PAYLOAD_FORMS}.`);
}
