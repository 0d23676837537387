/**
 * Hubs (msh300) and their sub-devices, addressed by `id` (docs/protocol-devices.md §14): the
 * sub-device list, online and battery per sub-device, sensor readings (ms100 temperature and
 * humidity in tenths, leak, smoke, door) and radiator valves (Hub.Mts100.*, tenths of °C).
 * Pushes are often partial (§10.2), so every reply and push is merged into the stored state.
 */
import { MerossError, explain } from "../errors";
import type { Envelope } from "../protocol/message";
import { checkTarget, type ClimateCommand, type ClimateState } from "./climate-input";
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

declare module "./types" {
  interface MutableDeviceState {
    /** Hub sub-devices by id (Appliance.Hub.*), merged from partial pushes. */
    subdevices?: Map<string, SubDeviceState>;
  }
  interface CapabilityEvents {
    subdevice: { sub: SubDeviceState; source?: ChangeSource };
    alarm: { subId: string; alarm: AlarmType; active: boolean; source?: ChangeSource };
  }
}

export const NS_DIGEST_HUB = "Appliance.Digest.Hub";
export const NS_HUB_ONLINE = "Appliance.Hub.Online";
export const NS_HUB_BATTERY = "Appliance.Hub.Battery";
export const NS_HUB_TOGGLEX = "Appliance.Hub.ToggleX";
export const NS_SENSOR_ALL = "Appliance.Hub.Sensor.All";
export const NS_SENSOR_TEMPHUM = "Appliance.Hub.Sensor.TempHum";
export const NS_SENSOR_LATEST = "Appliance.Hub.Sensor.Latest";
export const NS_SENSOR_LEAK = "Appliance.Hub.Sensor.WaterLeak";
export const NS_SENSOR_SMOKE = "Appliance.Hub.Sensor.Smoke";
export const NS_SENSOR_DOOR = "Appliance.Hub.Sensor.DoorWindow";
export const NS_MTS100_ALL = "Appliance.Hub.Mts100.All";
export const NS_MTS100_MODE = "Appliance.Hub.Mts100.Mode";
export const NS_MTS100_TEMP = "Appliance.Hub.Mts100.Temperature";

export type AlarmType = "leak" | "smoke" | "door";

/** A radiator valve as the hub reports it (°C). */
export interface ValveState {
  on?: boolean;
  /** Hub.Mts100.Mode `state` (§14.4). */
  modeCode?: number;
  room?: number;
  currentSet?: number;
  heating?: boolean;
  openWindow?: boolean;
  min?: number;
  max?: number;
}

export interface SubDeviceState {
  id: string;
  /** The digest's type key: ms100, ms400 (waterLeak), mts100v3, … */
  type?: string;
  online?: boolean;
  /** Percent. */
  battery?: number;
  temperature?: number;
  humidity?: number;
  leak?: boolean;
  smoke?: boolean;
  /** Door/window contact: true = open. */
  open?: boolean;
  valve?: ValveState;
}

type Patch = Partial<SubDeviceState> & { id: string; valve?: ValveState };

/** Valve modes (§14.4): 0 custom, 1 comfort, 2 economy, 3 auto (schedule), 4 away; and where each keeps its target. */
export const VALVE_MODES = ["manual", "heat", "eco", "auto", "away"] as const;
const VALVE_PRESET = ["custom", "comfort", "economy", undefined, "away"] as const;
const VALVE_ALIASES: Record<string, string> = { custom: "manual", comfort: "heat", economy: "eco", schedule: "auto" };
/** gs559 `status` codes that mean an alarm sounding: 23 test, 24 high temperature, 25 smoke (§14.3). */
const SMOKE_ACTIVE = new Set([23, 24, 25]);
const TYPE_KEYS = ["ms100", "tempHumi", "mts100", "mts100v3", "mts150", "doorWindow", "smokeAlarm", "waterLeak"];
const TYPE_NAMES: Record<string, string> = { waterLeak: "ms400", doorWindow: "ms200", smokeAlarm: "gs559", tempHumi: "ms130" };

const tenth = (v: unknown): number | undefined => {
  const n = toNumber(v);
  return n === undefined ? undefined : n / 10;
};
const flag = (v: unknown): boolean | undefined => {
  const n = toNumber(v);
  return n === undefined ? undefined : n === 1;
};

function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

function items(payload: unknown, key: string, what: string): Json[] {
  if (!isObject(payload) || !Array.isArray(payload[key])) throw badReply(what, `it has no "${key}" list`, payload);
  return (payload[key] as unknown[]).filter((e): e is Json => isObject(e) && typeof e.id === "string" && e.id !== "");
}

function valveTemps(t: Json): ValveState {
  return clean({
    room: tenth(t.room),
    currentSet: tenth(t.currentSet),
    heating: flag(t.heating),
    openWindow: flag(t.openWindow),
    min: tenth(t.min),
    max: tenth(t.max),
  });
}

/** One digest sub-device: the type is the name of its nested object (§14.1). */
function digestPatch(e: Json): Patch {
  const key = TYPE_KEYS.find((k) => isObject(e[k]));
  const p: Patch = clean({ id: e.id as string, online: toNumber(e.status) === undefined ? undefined : toNumber(e.status) === 1 });
  if (!key) return p;
  const d = e[key] as Json;
  p.type = TYPE_NAMES[key] ?? key;
  if (key === "ms100") Object.assign(p, clean({ temperature: tenth(d.latestTemperature), humidity: tenth(d.latestHumidity) }));
  if (key === "tempHumi")
    Object.assign(p, clean({ temperature: toNumber(d.temp) === undefined ? undefined : toNumber(d.temp)! / 100, humidity: tenth(d.humi) }));
  if (key === "waterLeak") Object.assign(p, clean({ leak: flag(d.latestWaterLeak) }));
  if (key === "doorWindow") Object.assign(p, clean({ open: flag(d.status) }));
  if (key === "smokeAlarm" && toNumber(d.status) !== undefined) p.smoke = SMOKE_ACTIVE.has(toNumber(d.status)!);
  if (key.startsWith("mts"))
    p.valve = clean({ on: flag(e.onoff), modeCode: toNumber(d.mode), ...(key === "mts150" ? { currentSet: tenth(d.currentSet) } : {}) });
  return p;
}

/** The sub-device updates a reply or push of `namespace` carries (untrusted: BAD_RESPONSE when malformed). */
export function parseHubPayload(namespace: string, payload: unknown): Patch[] {
  const what = namespace.replace("Appliance.", "");
  switch (namespace) {
    case NS_DIGEST_HUB: {
      const hub = isObject(payload) && isObject(payload.hub) ? payload.hub : undefined;
      if (!hub) throw badReply(what, 'it has no "hub" object', payload);
      return items(hub, "subdevice", what).map(digestPatch);
    }
    case NS_HUB_ONLINE:
      return items(payload, "online", what).map((e) => clean({ id: e.id as string, online: flag(e.status) }));
    case NS_HUB_BATTERY:
      return items(payload, "battery", what).map((e) => clean({ id: e.id as string, battery: toNumber(e.value) }));
    case NS_HUB_TOGGLEX:
      return items(payload, "togglex", what).map((e) => ({ id: e.id as string, valve: clean({ on: flag(e.onoff) }) }));
    case NS_SENSOR_ALL:
      return items(payload, "all", what).map((e) => {
        const p: Patch = { id: e.id as string };
        if (isObject(e.online)) p.online = flag(e.online.status);
        if (isObject(e.temperature)) p.temperature = tenth(e.temperature.latest);
        if (isObject(e.humidity)) p.humidity = tenth(e.humidity.latest);
        if (isObject(e.waterLeak)) p.leak = flag(e.waterLeak.latestWaterLeak);
        if (isObject(e.doorWindow)) p.open = flag(e.doorWindow.status);
        if (isObject(e.smokeAlarm) && toNumber(e.smokeAlarm.status) !== undefined)
          p.smoke = SMOKE_ACTIVE.has(toNumber(e.smokeAlarm.status)!);
        return clean(p);
      });
    case NS_SENSOR_TEMPHUM:
      return items(payload, "tempHum", what).map((e) =>
        clean({ id: e.id as string, temperature: tenth(e.latestTemperature), humidity: tenth(e.latestHumidity) }),
      );
    case NS_SENSOR_LATEST:
      return items(payload, "latest", what).map((e) =>
        clean({
          id: e.id as string,
          temperature: isObject(e.temperature) ? tenth(e.temperature.sample) : undefined,
          humidity: isObject(e.humidity) ? tenth(e.humidity.sample) : undefined,
        }),
      );
    case NS_SENSOR_LEAK:
      return items(payload, "waterLeak", what).map((e) => clean({ id: e.id as string, type: "ms400", leak: flag(e.latestWaterLeak) }));
    case NS_SENSOR_SMOKE:
      return items(payload, "smokeAlarm", what).map((e) =>
        clean({ id: e.id as string, smoke: toNumber(e.status) === undefined ? undefined : SMOKE_ACTIVE.has(toNumber(e.status)!) }),
      );
    case NS_SENSOR_DOOR:
      return items(payload, "doorWindow", what).map((e) => clean({ id: e.id as string, open: flag(e.status) }));
    case NS_MTS100_ALL:
      return items(payload, "all", what).map((e) => {
        const valve: ValveState = { ...(isObject(e.temperature) ? valveTemps(e.temperature) : {}) };
        if (isObject(e.togglex)) valve.on = flag(e.togglex.onoff);
        if (isObject(e.mode)) valve.modeCode = toNumber(e.mode.state);
        return clean({ id: e.id as string, online: isObject(e.online) ? flag(e.online.status) : undefined, valve: clean(valve) });
      });
    case NS_MTS100_MODE:
      return items(payload, "mode", what).map((e) => ({ id: e.id as string, valve: clean({ modeCode: toNumber(e.state) }) }));
    case NS_MTS100_TEMP:
      return items(payload, "temperature", what).map((e) => ({ id: e.id as string, valve: valveTemps(e) }));
    default:
      return [];
  }
}

// ---- reducer -------------------------------------------------------------------------

const ALARM_FIELDS: Array<[AlarmType, "leak" | "smoke" | "open"]> = [
  ["leak", "leak"],
  ["smoke", "smoke"],
  ["door", "open"],
];

export function noteSubDevices(state: MutableDeviceState, patches: Patch[], source: ChangeSource): DeviceEvent[] {
  const subs = (state.subdevices ??= new Map());
  const events: DeviceEvent[] = [];
  for (const p of patches) {
    const before = subs.get(p.id);
    const next: SubDeviceState = { ...before, ...p, id: p.id };
    if (before?.valve || p.valve) next.valve = { ...before?.valve, ...p.valve };
    if (!next.type && next.valve) next.type = "mts100";
    subs.set(p.id, next);
    for (const [alarm, field] of ALARM_FIELDS) {
      if (next[field] !== undefined && next[field] !== before?.[field])
        events.push({ type: "alarm", subId: p.id, alarm, active: next[field], source });
    }
    if (JSON.stringify(before) !== JSON.stringify(next)) events.push({ type: "subdevice", sub: structuredClone(next), source });
  }
  return events;
}

export const hubCapability: Capability = {
  name: "hub",
  namespaces: [
    NS_DIGEST_HUB,
    NS_HUB_ONLINE,
    NS_HUB_BATTERY,
    NS_HUB_TOGGLEX,
    NS_SENSOR_ALL,
    NS_SENSOR_TEMPHUM,
    NS_SENSOR_LATEST,
    NS_SENSOR_LEAK,
    NS_SENSOR_SMOKE,
    NS_SENSOR_DOOR,
    NS_MTS100_ALL,
    NS_MTS100_MODE,
    NS_MTS100_TEMP,
  ],
  reduce(env: Envelope, source: ChangeSource): Update | undefined {
    const patches = parseHubPayload(env.header.namespace, env.payload);
    return (state) => noteSubDevices(state, patches, source);
  },
  poll: async (s) => {
    if (isHub(s)) await readHub(s);
  },
};

// ---- commands ------------------------------------------------------------------------

export function isHub(s: Pick<DeviceSession, "has">): boolean {
  return s.has(NS_HUB_ONLINE) || s.has(NS_DIGEST_HUB);
}

function requireHub(s: DeviceSession, what: string): void {
  if (!isHub(s)) {
    const why = `this ${modelOf(s)} is not a hub, so it has no ${what}; leave the sub-device id empty for a thermostat`;
    throw new MerossError("UNSUPPORTED", explain.unsupported(s.address, "GET", NS_HUB_ONLINE, why), {
      host: s.address,
      namespace: NS_HUB_ONLINE,
    });
  }
}

async function readInto(s: DeviceSession, ns: string, payload: Record<string, unknown>): Promise<void> {
  if (!s.has(ns)) return;
  const patches = parseHubPayload(ns, (await s.request("GET", ns, payload)).payload);
  s.commit((state) => noteSubDevices(state, patches, "reply"));
}

/** Reads the sub-device list, batteries, sensors and valves (`[]` = all, §14.2). */
export async function readHub(s: DeviceSession): Promise<SubDeviceState[]> {
  await s.ready();
  requireHub(s, "sub-devices");
  await readInto(s, NS_DIGEST_HUB, { hub: {} });
  await readInto(s, NS_HUB_BATTERY, { battery: [] });
  const subs = [...(s.state.subdevices?.values() ?? [])];
  if (subs.some((d) => !d.valve)) await readInto(s, NS_SENSOR_ALL, { all: [] });
  if (subs.some((d) => d.valve)) await readInto(s, NS_MTS100_ALL, { all: [] });
  return [...(s.state.subdevices?.values() ?? [])].map((d) => structuredClone(d));
}

function describeSubs(s: DeviceSession): string {
  const list = [...(s.state.subdevices?.values() ?? [])].map((d) => `${d.id}${d.type ? ` (${d.type})` : ""}`);
  return list.length ? list.join(", ") : "none";
}

export async function getSubDevice(s: DeviceSession, id: string): Promise<SubDeviceState> {
  await readHub(s);
  const sub = s.state.subdevices?.get(id.trim().toUpperCase());
  if (!sub) throw badInput(`No sub-device "${id}" on this ${modelOf(s)}: it has ${describeSubs(s)}.`);
  return structuredClone(sub);
}

/** A valve as a flow sees it. */
export function valveOutput(v: ValveState): ClimateState {
  return {
    on: v.on ?? true,
    mode: v.modeCode === undefined ? "unknown" : (VALVE_MODES[v.modeCode] ?? `mode ${v.modeCode}`),
    target: v.currentSet ?? 0,
    current: v.room ?? 0,
    heating: v.heating ?? false,
    windowOpen: v.openWindow ?? false,
  };
}

/** Applies a climate command to a radiator valve: ToggleX, Mode, then the mode's preset (§14.4). */
export async function setValve(s: DeviceSession, id: string, cmd: ClimateCommand): Promise<ClimateState> {
  const sub = await getSubDevice(s, id);
  if (!sub.valve)
    throw badInput(
      `Sub-device ${sub.id} of this ${modelOf(s)} is a ${sub.type ?? "sensor"}, not a radiator valve: read it with meross-state instead.`,
    );
  const model = `${modelOf(s)} valve ${sub.id}`;
  let code = sub.valve.modeCode;
  if (cmd.mode !== undefined) {
    const n = VALVE_ALIASES[cmd.mode] ?? cmd.mode;
    code = (VALVE_MODES as readonly string[]).indexOf(n);
    if (code < 0) throw badInput(`"${cmd.mode}" is not a mode of this ${model}: use one of ${VALVE_MODES.join(", ")}.`);
  }
  let target: number | undefined;
  if (cmd.target !== undefined) {
    target = checkTarget(cmd.target, sub.valve.min ?? 5, sub.valve.max ?? 35, model);
    if (cmd.mode === undefined && (code === undefined || code === 3)) code = 0;
    if (!VALVE_PRESET[code ?? 0])
      throw badInput(`In auto mode the schedule sets the target of this ${model}; send a target with mode "manual".`);
  }
  if (cmd.on !== undefined) await s.request("SET", NS_HUB_TOGGLEX, { togglex: [{ id: sub.id, onoff: cmd.on ? 1 : 0 }] });
  if (code !== undefined && code !== sub.valve.modeCode) await s.request("SET", NS_MTS100_MODE, { mode: [{ id: sub.id, state: code }] });
  if (target !== undefined)
    await s.request("SET", NS_MTS100_TEMP, { temperature: [{ id: sub.id, [VALVE_PRESET[code ?? 0]!]: Math.round(target * 10) }] });
  await readInto(s, NS_MTS100_ALL, { all: [{ id: sub.id }] });
  return valveOutput(s.state.subdevices?.get(sub.id)?.valve ?? sub.valve);
}
