/**
 * Thermostats: Appliance.Control.Thermostat.Mode (mts200/mts200b, tenths of °C) and .ModeB
 * (mts960, hundredths of °C), plus Thermostat.WindowOpened (docs/protocol-devices.md §13); ModeC
 * (mts300) lives in thermostat-modec.ts and is reached through the same get/set.
 * Codec, commands and reducer; the climate input (`{on, mode, target}`) is shared with hub valves.
 */
import { MerossError, explain } from "../errors";
import type { Envelope } from "../protocol/message";
import {
  modelOf,
  type Capability,
  type ChangeSource,
  type DeviceEvent,
  type DeviceSession,
  type MutableDeviceState,
  type SystemDigest,
  type Update,
} from "./types";
import { checkTarget, type ClimateCommand, type ClimateState } from "./climate-input";
import { badInput, badReply, isObject, toNumber } from "./util";
import { deviceKind } from "./device-kind";
import { getModeC, hasModeC, NS_THERMOSTAT_MODEC, setModeC } from "./thermostat-modec";

// The climate input is shared with hub valves (climate-input.ts); re-exported for existing callers.
export { climateOutput, parseClimateInput, type ClimateCommand, type ClimateState } from "./climate-input";

declare module "./types" {
  interface MutableDeviceState {
    /** Thermostat state per channel (Thermostat.Mode / ModeB / ModeC). */
    thermostats?: Map<number, ThermostatState>;
  }
  interface CapabilityEvents {
    thermostat: { thermostat: ThermostatState; source?: ChangeSource };
  }
}

export const NS_THERMOSTAT_MODE = "Appliance.Control.Thermostat.Mode";
export const NS_THERMOSTAT_MODEB = "Appliance.Control.Thermostat.ModeB";
export const NS_THERMOSTAT_WINDOW = "Appliance.Control.Thermostat.WindowOpened";

export interface ThermostatState extends ClimateState {
  channel: number;
  /** The limits the device reports for a target (°C). */
  min: number;
  max: number;
  /** Which namespace it came from: "Mode" (tenths), "ModeB" or "ModeC" (hundredths). */
  family: "Mode" | "ModeB" | "ModeC";
}

/** Thermostat.Mode `mode` numbers (§13.1): 0 heat/comfort, 1 cool/night, 2 eco/away, 3 auto (schedule), 4 manual. */
export const MODE_NAMES = ["heat", "cool", "eco", "auto", "manual"] as const;
/** The preset each mode's target lives in (§13.1); auto follows the schedule. */
const MODE_PRESET = ["heatTemp", "coolTemp", "ecoTemp", undefined, "manualTemp"] as const;
const MODE_ALIASES: Record<string, string> = {
  comfort: "heat",
  night: "cool",
  economy: "eco",
  away: "eco",
  schedule: "auto",
  custom: "manual",
};
/** ModeB `mode` numbers (§13.4): 1 manual, 2 schedule, 3 timer. */
const MODEB_NAMES: Record<number, string> = { 1: "manual", 2: "auto", 3: "timer" };

/** The °C limits when the device did not say (mts200: min 50 / max 350 tenths). */
const DEFAULT_MIN = 5;
const DEFAULT_MAX = 35;

function num(e: Record<string, unknown>, k: string, what: string, whole: unknown): number {
  const n = toNumber(e[k]);
  if (n === undefined) throw badReply(what, `an entry has no numeric "${k}"`, whole);
  return n;
}

/** One Thermostat.Mode item (tenths of °C). */
function modeEntry(e: unknown, whole: unknown): ModeReading {
  const what = "Thermostat.Mode";
  if (!isObject(e)) throw badReply(what, "an entry is not an object", whole);
  const code = num(e, "mode", what, whole);
  const min = toNumber(e.min);
  const max = toNumber(e.max);
  return {
    channel: toNumber(e.channel) ?? 0,
    family: "Mode",
    on: num(e, "onoff", what, whole) === 1,
    mode: MODE_NAMES[code] ?? `mode ${code}`,
    target: num(e, "targetTemp", what, whole) / 10,
    current: num(e, "currentTemp", what, whole) / 10,
    heating: toNumber(e.state) === 1,
    min: min === undefined ? DEFAULT_MIN : min / 10,
    max: max === undefined ? DEFAULT_MAX : max / 10,
  };
}

/** One ModeB item (hundredths of °C; onoff and state use 1/2, not 1/0 — §13.4). */
function modeBEntry(e: unknown, whole: unknown): ModeReading {
  const what = "Thermostat.ModeB";
  if (!isObject(e)) throw badReply(what, "an entry is not an object", whole);
  const code = num(e, "mode", what, whole);
  const on = num(e, "onoff", what, whole) === 1;
  return {
    channel: toNumber(e.channel) ?? 0,
    family: "ModeB",
    on,
    mode: MODEB_NAMES[code] ?? `mode ${code}`,
    target: num(e, "targetTemp", what, whole) / 100,
    current: num(e, "currentTemp", what, whole) / 100,
    heating: on && toNumber(e.state) === 1 && toNumber(e.working) !== 2,
    min: DEFAULT_MIN,
    max: DEFAULT_MAX,
  };
}

function listOf(payload: unknown, key: string, what: string): unknown[] {
  if (!isObject(payload)) throw badReply(what, "it is not an object", payload);
  const v = payload[key];
  if (v === undefined) throw badReply(what, `it has no "${key}" list`, payload);
  return Array.isArray(v) ? v : [v];
}

/**
 * A Mode/ModeB item says nothing about the window (that is Thermostat.WindowOpened, §13.2):
 * the reducer keeps what it knew, so a mode push never reports a closed window.
 */
export type ModeReading = Omit<ThermostatState, "windowOpen">;

export function parseThermostatMode(payload: unknown): ModeReading[] {
  return listOf(payload, "mode", "Thermostat.Mode").map((e) => modeEntry(e, payload));
}

export function parseThermostatModeB(payload: unknown): ModeReading[] {
  return listOf(payload, "modeB", "Thermostat.ModeB").map((e) => modeBEntry(e, payload));
}

/** WindowOpened items: `status` 1 = an open window was detected (§13.2). */
export function parseWindowOpened(payload: unknown): Array<{ channel: number; open: boolean }> {
  return listOf(payload, "windowOpened", "Thermostat.WindowOpened")
    .filter(isObject)
    .map((e) => ({ channel: toNumber(e.channel) ?? 0, open: toNumber(e.status) === 1 }));
}

// ---- reducer -------------------------------------------------------------------------

function noteThermostat(state: MutableDeviceState, t: Partial<ThermostatState> & { channel: number }, source: ChangeSource): DeviceEvent[] {
  const all = (state.thermostats ??= new Map());
  const before = all.get(t.channel);
  if (!before && t.family === undefined) return [];
  const next = { windowOpen: false, ...before, ...t } as ThermostatState;
  if (t.windowOpen === undefined) next.windowOpen = before?.windowOpen ?? false;
  all.set(t.channel, next);
  return before && JSON.stringify(before) === JSON.stringify(next) ? [] : [{ type: "thermostat", thermostat: { ...next }, source }];
}

function noteList(list: ModeReading[], source: ChangeSource): Update {
  return (state) => list.flatMap((t) => noteThermostat(state, t, source));
}

export const thermostatCapability: Capability = {
  name: "thermostat",
  namespaces: [NS_THERMOSTAT_MODE, NS_THERMOSTAT_MODEB, NS_THERMOSTAT_WINDOW],
  reduce(env: Envelope, source: ChangeSource): Update | undefined {
    const ns = env.header.namespace;
    if (ns === NS_THERMOSTAT_MODE) return noteList(parseThermostatMode(env.payload), source);
    if (ns === NS_THERMOSTAT_MODEB) return noteList(parseThermostatModeB(env.payload), source);
    if (ns === NS_THERMOSTAT_WINDOW) {
      const w = parseWindowOpened(env.payload);
      return (state) => w.flatMap((x) => noteThermostat(state, { channel: x.channel, windowOpen: x.open }, source));
    }
    return undefined;
  },
  digest: readThermostatDigest,
  poll: async (s) => {
    if (!hasThermostat(s)) return;
    const channels = s.state.thermostats?.size ? [...s.state.thermostats.keys()] : [0];
    for (const ch of channels) await getThermostat(s, ch);
  },
};

export function thermostatModeCode(name: string, model: string): number {
  const n = MODE_ALIASES[name] ?? name;
  const i = (MODE_NAMES as readonly string[]).indexOf(n);
  if (i < 0) throw badInput(`"${name}" is not a mode of this ${model}: use one of ${MODE_NAMES.join(", ")}.`);
  return i;
}

/** The partial Mode SET item for a command, given what the device reports now (§13.1). */
export function buildThermostatModeSet(
  cmd: ClimateCommand,
  now: ThermostatState | undefined,
  model: string,
  channel = 0,
): Record<string, unknown> {
  const item: Record<string, unknown> = { channel };
  if (cmd.on !== undefined) item.onoff = cmd.on ? 1 : 0;
  let code = cmd.mode !== undefined ? thermostatModeCode(cmd.mode, model) : undefined;
  if (code !== undefined) item.mode = code;
  if (cmd.target !== undefined) {
    const t = checkTarget(cmd.target, now?.min ?? DEFAULT_MIN, now?.max ?? DEFAULT_MAX, model);
    if (code === undefined) {
      // "21 °C" means "21 °C from now on": switch to manual rather than silently rewriting the
      // preset of the current mode (eco's ecoTemp would stay 21 °C the next time eco comes on).
      // A message that names a mode sets that mode's preset instead.
      code = 4;
      item.mode = code;
    }
    const preset = MODE_PRESET[code];
    if (!preset)
      throw badInput(`In auto mode the schedule sets the target of this ${model}; send a target with mode "manual" (or heat, cool, eco).`);
    item[preset] = Math.round(t * 10);
  }
  return { mode: [item] };
}

/** The partial ModeB SET item (§13.4): hundredths, onoff 1/2, mode 1 manual / 2 schedule. */
export function buildThermostatModeBSet(cmd: ClimateCommand, model: string, channel = 0): Record<string, unknown> {
  const item: Record<string, unknown> = { channel };
  if (cmd.on !== undefined) item.onoff = cmd.on ? 1 : 2;
  if (cmd.mode !== undefined) {
    const n = MODE_ALIASES[cmd.mode] ?? cmd.mode;
    if (n !== "manual" && n !== "auto") throw badInput(`"${cmd.mode}" is not a mode of this ${model}: use manual or auto.`);
    item.mode = n === "manual" ? 1 : 2;
  }
  if (cmd.target !== undefined) {
    item.targetTemp = Math.round(checkTarget(cmd.target, DEFAULT_MIN, DEFAULT_MAX, model) * 100);
    item.mode ??= 1;
  }
  return { modeB: [item] };
}

// ---- commands ------------------------------------------------------------------------

export function hasThermostat(s: Pick<DeviceSession, "has">): boolean {
  return s.has(NS_THERMOSTAT_MODE) || s.has(NS_THERMOSTAT_MODEB) || s.has(NS_THERMOSTAT_MODEC);
}

/** ModeC only (mts300): Mode and ModeB thermostats keep their own path. */
const onlyModeC = (s: DeviceSession): boolean => hasModeC(s) && !s.has(NS_THERMOSTAT_MODE) && !s.has(NS_THERMOSTAT_MODEB);

function requireThermostat(s: DeviceSession): void {
  if (!hasThermostat(s)) {
    const kind = deviceKind(s);
    const why = `this ${modelOf(s)} is not a thermostat${kind ? `: it is ${kind}` : ""}, with no Thermostat.Mode, ModeB or ModeC`;
    throw new MerossError("UNSUPPORTED", explain.unsupported(s.address, "GET", NS_THERMOSTAT_MODE, why), {
      host: s.address,
      namespace: NS_THERMOSTAT_MODE,
    });
  }
}

/** digest.thermostat of System.All: modes (or modeB) and open windows, read once per session. */
function readThermostatDigest(all: SystemDigest): Update | undefined {
  const t = isObject(all.digest.thermostat) ? all.digest.thermostat : undefined;
  if (!t) return undefined;
  const modes =
    t.mode !== undefined ? parseThermostatMode({ mode: t.mode }) : t.modeB !== undefined ? parseThermostatModeB({ modeB: t.modeB }) : [];
  const windows = t.windowOpened !== undefined ? parseWindowOpened({ windowOpened: t.windowOpened }) : [];
  return (state) => [
    ...modes.flatMap((m) => noteThermostat(state, m, "reply")),
    ...windows.flatMap((w) => noteThermostat(state, { channel: w.channel, windowOpen: w.open }, "reply")),
  ];
}

/** Reads the thermostat; the mts200b answers Mode GET with `[]` (§13.1), so then the digest. */
export async function getThermostat(s: DeviceSession, channel = 0): Promise<ThermostatState> {
  await s.ready();
  requireThermostat(s);
  if (onlyModeC(s)) return getModeC(s, channel);
  const b = !s.has(NS_THERMOSTAT_MODE);
  const list = b
    ? parseThermostatModeB((await s.request("GET", NS_THERMOSTAT_MODEB, { modeB: [{ channel }] })).payload)
    : parseThermostatMode((await s.request("GET", NS_THERMOSTAT_MODE, { mode: [{ channel }] })).payload);
  let windows: Array<{ channel: number; open: boolean }> = [];
  // The mts200b answers with [] (§13.1): its state is only in the System.All digest, read again.
  if (list.length === 0) {
    await s.rereadDigest();
    if (!s.state.thermostats?.has(channel)) throw badReply("System.All", "it has no thermostat digest", undefined);
  } else if (s.has(NS_THERMOSTAT_WINDOW))
    windows = parseWindowOpened((await s.request("GET", NS_THERMOSTAT_WINDOW, { windowOpened: [{ channel }] })).payload);
  s.commit((state) => [
    ...list.flatMap((t) => noteThermostat(state, t, "reply")),
    ...windows.flatMap((w) => noteThermostat(state, { channel: w.channel, windowOpen: w.open }, "reply")),
  ]);
  const mine = s.state.thermostats?.get(channel);
  if (!mine)
    throw new MerossError("BAD_INPUT", `Channel ${channel} is not a thermostat channel of this ${modelOf(s)}.`, { host: s.address });
  return { ...mine };
}

/** Applies a climate command; an empty one reads. The SETACK echoes the full object (§10.2). */
export async function setThermostat(s: DeviceSession, cmd: ClimateCommand, channel = 0): Promise<ThermostatState> {
  await s.ready();
  requireThermostat(s);
  if (cmd.on === undefined && cmd.mode === undefined && cmd.target === undefined) return getThermostat(s, channel);
  if (onlyModeC(s)) return setModeC(s, cmd, channel);
  const b = !s.has(NS_THERMOSTAT_MODE);
  const now = s.state.thermostats?.get(channel) ?? (await getThermostat(s, channel));
  const ns = b ? NS_THERMOSTAT_MODEB : NS_THERMOSTAT_MODE;
  const payload = b ? buildThermostatModeBSet(cmd, modelOf(s), channel) : buildThermostatModeSet(cmd, now, modelOf(s), channel);
  const ack = await s.request("SET", ns, payload);
  const key = b ? "modeB" : "mode";
  const echoed = isObject(ack.payload) && Array.isArray(ack.payload[key]) && ack.payload[key].length > 0;
  if (echoed) s.commit(noteList(b ? parseThermostatModeB(ack.payload) : parseThermostatMode(ack.payload), "reply"));
  else return getThermostat(s, channel);
  return { ...(s.state.thermostats?.get(channel) ?? now) };
}
