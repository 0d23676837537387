/**
 * What thermostats (thermostat.ts) and hub radiator valves (hub.ts) share: the climate a flow
 * sees, the climate input `{on, mode, target}` of meross-climate, and the target rules.
 */
import { badInput, describeValue, isObject } from "./util";

/** What a flow sees of a thermostat or a radiator valve (°C). */
export interface ClimateState {
  on: boolean;
  mode: string;
  target: number;
  current: number;
  heating: boolean;
  windowOpen: boolean;
  /** HVAC thermostats (ModeC): cooling now, and the room's relative humidity in % where reported. */
  cooling?: boolean;
  humidity?: number;
}

/** A climate command from a flow; an empty command reads. */
export interface ClimateCommand {
  on?: boolean;
  mode?: string;
  target?: number;
}

/**
 * msg.payload of meross-climate: `{on, mode, target}` (each optional), a number (target °C),
 * "on"/"off", a mode name, or "" / nothing to read.
 */
export function parseClimateInput(input: unknown): ClimateCommand {
  if (input === undefined || input === null || input === "") return {};
  if (typeof input === "number") return { target: checkCelsius(input) };
  if (typeof input === "boolean") return { on: input };
  if (typeof input === "string") {
    const t = input.trim().toLowerCase();
    if (t === "" || t === "read" || t === "get") return {};
    if (t === "on" || t === "off") return { on: t === "on" };
    if (/^-?\d+(\.\d+)?$/.test(t)) return { target: checkCelsius(Number(t)) };
    return { mode: t };
  }
  if (isObject(input)) {
    const cmd: ClimateCommand = {};
    if (input.on !== undefined) {
      if (typeof input.on !== "boolean") throw badInput(`"on" must be true or false, not ${describeValue(input.on)}.`);
      cmd.on = input.on;
    }
    if (input.mode !== undefined) {
      if (typeof input.mode !== "string")
        throw badInput(`"mode" must be a mode name such as "heat", "eco" or "manual", not ${describeValue(input.mode)}.`);
      cmd.mode = input.mode.trim().toLowerCase();
    }
    if (input.target !== undefined) cmd.target = checkCelsius(input.target);
    return cmd;
  }
  throw badInput(
    `Send a target temperature in °C (e.g. 21), {on, mode, target}, or an empty payload to read; got ${describeValue(input)}.`,
  );
}

function checkCelsius(v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v))
    throw badInput(`The target temperature ${describeValue(v)} must be a number of °C, e.g. 21.`);
  return v;
}

/** Rounds to 0.5 °C (the step the apps use, §13.1) and checks the device's range. */
export function checkTarget(target: number, min: number, max: number, model: string): number {
  const t = Math.round(target * 2) / 2;
  if (t < min || t > max) {
    throw badInput(`${target} °C is outside what this ${model} accepts: set a target from ${min} to ${max} °C.`);
  }
  return t;
}

/** Only what a flow sees. */
export function climateOutput(t: ClimateState): ClimateState {
  const out: ClimateState = { on: t.on, mode: t.mode, target: t.target, current: t.current, heating: t.heating, windowOpen: t.windowOpen };
  if (t.cooling !== undefined) out.cooling = t.cooling;
  if (t.humidity !== undefined) out.humidity = t.humidity;
  return out;
}
