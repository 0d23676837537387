/**
 * HVAC thermostats (mts300): Appliance.Control.Thermostat.ModeC, key `control`, a list per channel
 * (docs/protocol-devices.md §13.5 ⚠ shape from [ML], no captured reply). Temperatures in hundredths
 * of °C, humidity in per mille; `mode` 0 off, 1 heat, 2 cool, 3 auto (between the heat and cold
 * targets). There is no on/off field: off is mode 0. A GET must name the channel (§10.2).
 */
import type { Envelope } from "../protocol/message";
import { checkTarget, type ClimateCommand } from "./climate-input";
import type { ThermostatState } from "./thermostat";
import {
  modelOf,
  type Capability,
  type ChangeSource,
  type DeviceEvent,
  type DeviceSession,
  type MutableDeviceState,
  type Update,
} from "./types";
import { badInput, badReply, isObject, toNumber, type Json } from "./util";

export const NS_THERMOSTAT_MODEC = "Appliance.Control.Thermostat.ModeC";

export const MODEC_MODES = ["off", "heat", "cool", "auto"] as const;
const ALIASES: Record<string, string> = { heating: "heat", cooling: "cool", schedule: "auto", comfort: "heat" };
/** Target limits (°C) ⚠: [ML] does not say; the app offers 5–32 °C heat and 10–37 °C cool on US units. */
const HEAT_RANGE = [5, 32] as const;
const COLD_RANGE = [10, 37] as const;

/** One ModeC item as a flow sees it: the climate fields plus both targets, humidity and cooling. */
export interface ModeCReading extends Omit<ThermostatState, "windowOpen"> {
  heatTarget: number;
  coolTarget: number;
  cooling: boolean;
  humidity?: number;
}

const hundredth = (v: unknown): number | undefined => {
  const n = toNumber(v);
  return n === undefined ? undefined : n / 100;
};

function entry(e: unknown, whole: unknown): ModeCReading {
  const what = "Thermostat.ModeC";
  if (!isObject(e)) throw badReply(what, "an entry is not an object", whole);
  const code = toNumber(e.mode);
  const current = hundredth(e.currentTemp);
  const t: Json = isObject(e.targetTemp) ? e.targetTemp : {};
  const heat = hundredth(t.heat);
  const cold = hundredth(t.cold);
  if (code === undefined || current === undefined || heat === undefined || cold === undefined)
    throw badReply(what, "an entry lacks mode, currentTemp or targetTemp", whole);
  const more: Json = isObject(e.more) ? e.more : {};
  const humi = toNumber(more.humi);
  const reading: ModeCReading = {
    channel: toNumber(e.channel) ?? 0,
    family: "ModeC",
    on: code !== 0,
    mode: MODEC_MODES[code] ?? `mode ${code}`,
    target: code === 2 ? cold : heat,
    current,
    heating: (toNumber(more.hStatus) ?? 0) > 0,
    cooling: (toNumber(more.cStatus) ?? 0) > 0,
    heatTarget: heat,
    coolTarget: cold,
    min: HEAT_RANGE[0],
    max: COLD_RANGE[1],
  };
  if (humi !== undefined) reading.humidity = humi / 10;
  return reading;
}

export function parseThermostatModeC(payload: unknown): ModeCReading[] {
  if (!isObject(payload) || payload.control === undefined) throw badReply("Thermostat.ModeC", 'it has no "control" list', payload);
  const list = Array.isArray(payload.control) ? payload.control : [payload.control];
  return list.map((e) => entry(e, payload));
}

function note(state: MutableDeviceState, r: ModeCReading, source: ChangeSource): DeviceEvent[] {
  const all = (state.thermostats ??= new Map());
  const before = all.get(r.channel);
  const next = { ...r, windowOpen: false } as ThermostatState;
  all.set(r.channel, next);
  return before && JSON.stringify(before) === JSON.stringify(next) ? [] : [{ type: "thermostat", thermostat: { ...next }, source }];
}

export const thermostatModeCCapability: Capability = {
  name: "thermostat-modec",
  namespaces: [NS_THERMOSTAT_MODEC],
  reduce(env: Envelope, source: ChangeSource): Update | undefined {
    const list = parseThermostatModeC(env.payload);
    return (state) => list.flatMap((r) => note(state, r, source));
  },
  // The mts300's System.All digest is empty ([T …25]): its state is only in ModeC, read on each poll.
  poll: async (s) => {
    if (hasModeC(s)) await getModeC(s);
  },
};

export function hasModeC(s: Pick<DeviceSession, "has">): boolean {
  return s.has(NS_THERMOSTAT_MODEC);
}

export async function getModeC(s: DeviceSession, channel = 0): Promise<ThermostatState> {
  const list = parseThermostatModeC((await s.request("GET", NS_THERMOSTAT_MODEC, { control: [{ channel }] })).payload);
  const mine = list.find((r) => r.channel === channel);
  if (!mine) throw badReply("Thermostat.ModeC", `it does not report channel ${channel}`, undefined);
  s.commit((state) => note(state, mine, "reply"));
  return { ...(s.state.thermostats?.get(channel) as ThermostatState) };
}

/** The partial ModeC SET item: `mode`, and the target of the mode it ends in (heat/auto: heat, cool: cold). */
export function buildModeCSet(cmd: ClimateCommand, now: ThermostatState, model: string, channel = 0): Record<string, unknown> {
  const item: Record<string, unknown> = { channel };
  let code = MODEC_MODES.indexOf(now.mode as (typeof MODEC_MODES)[number]);
  if (cmd.mode !== undefined) {
    const n = ALIASES[cmd.mode] ?? cmd.mode;
    code = (MODEC_MODES as readonly string[]).indexOf(n);
    if (code < 0) throw badInput(`"${cmd.mode}" is not a mode of this ${model}: use one of ${MODEC_MODES.join(", ")}.`);
  }
  if (cmd.on === false && cmd.mode === undefined) code = 0;
  if (cmd.on === true && code <= 0) code = 1;
  if (cmd.target !== undefined && code <= 0) code = 1;
  if (code !== MODEC_MODES.indexOf(now.mode as (typeof MODEC_MODES)[number])) item.mode = code;
  if (cmd.target !== undefined) {
    const [min, max] = code === 2 ? COLD_RANGE : HEAT_RANGE;
    const t = checkTarget(cmd.target, min, max, model);
    item.targetTemp = { [code === 2 ? "cold" : "heat"]: Math.round(t * 100) };
  }
  return { control: [item] };
}

/** Applies a climate command; the SETACK is `{}`, so the state is read again after it. */
export async function setModeC(s: DeviceSession, cmd: ClimateCommand, channel = 0): Promise<ThermostatState> {
  const now = await getModeC(s, channel);
  if (cmd.on === undefined && cmd.mode === undefined && cmd.target === undefined) return now;
  await s.request("SET", NS_THERMOSTAT_MODEC, buildModeCSet(cmd, now, modelOf(s), channel));
  return getModeC(s, channel);
}
