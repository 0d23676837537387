/**
 * Hubs (msh300) and their sub-devices, addressed by `id` (docs/protocol-devices.md §14): the
 * sub-device list, online and battery per sub-device, sensor readings (ms100 temperature and
 * humidity in tenths, leak, smoke, door) and radiator valves (Hub.Mts100.*, tenths of °C).
 * Pushes are often partial (§10.2), so every reply and push is merged into the stored state.
 */
import type { Envelope } from "../protocol/message";
import { celsius, NS_MTS100_ALL, NS_SENSOR_ALL, SUBDEVICE_TYPES, subDeviceType } from "./hub-types";
import type { Capability, ChangeSource, DeviceEvent, DeviceSession, MutableDeviceState, Update } from "./types";
import { readHub } from "./hub-commands";
import { badReply, isObject, toNumber, type Json } from "./util";

export { NS_MTS100_ALL, NS_SENSOR_ALL };

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
export const NS_SENSOR_TEMPHUM = "Appliance.Hub.Sensor.TempHum";
export const NS_SENSOR_LATEST = "Appliance.Hub.Sensor.Latest";
export const NS_SENSOR_LEAK = "Appliance.Hub.Sensor.WaterLeak";
export const NS_SENSOR_SMOKE = "Appliance.Hub.Sensor.Smoke";
export const NS_SENSOR_DOOR = "Appliance.Hub.Sensor.DoorWindow";
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

/** One reply's news about one sub-device; `rawTemperature` is scaled by its type once that is known (§14.3). */
export type Patch = Partial<SubDeviceState> & { id: string; valve?: ValveState; rawTemperature?: number };

/** gs559 `status` codes that mean an alarm sounding: 23 test, 24 high temperature, 25 smoke (§14.3). */
const SMOKE_ACTIVE = new Set([23, 24, 25]);
const TYPE_KEYS = SUBDEVICE_TYPES.map((t) => t.key);

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
  p.type = subDeviceType(key)?.model ?? key;
  // The temperature's scale is the type's (§14.1): ms100 tenths, ms130 (`tempHumi`) hundredths.
  const t = toNumber(key === "tempHumi" ? d.temp : d.latestTemperature);
  if (key === "ms100" || key === "tempHumi")
    Object.assign(
      p,
      clean({ temperature: t === undefined ? undefined : celsius(t, key), humidity: tenth(key === "ms100" ? d.latestHumidity : d.humi) }),
    );
  if (key === "waterLeak") Object.assign(p, clean({ leak: flag(d.latestWaterLeak) }));
  if (key === "doorWindow") Object.assign(p, clean({ open: flag(d.status) }));
  if (key === "smokeAlarm" && toNumber(d.status) !== undefined) p.smoke = SMOKE_ACTIVE.has(toNumber(d.status)!);
  if (key.startsWith("mts"))
    p.valve = clean({ on: flag(e.onoff), modeCode: toNumber(d.mode), ...(key === "mts150" ? { currentSet: tenth(d.currentSet) } : {}) });
  return p;
}

/**
 * The digest's sub-devices, one per id: a hub may list an id twice, once offline and empty
 * (§14.1, [T …16]); the entry with a type object (then the online one) wins.
 */
export function digestPatches(hub: Json, what: string): Patch[] {
  const rank = (e: Json): number => (TYPE_KEYS.some((k) => isObject(e[k])) ? 2 : 0) + (toNumber(e.status) === 1 ? 1 : 0);
  const best = new Map<string, Json>();
  for (const e of items(hub, "subdevice", what)) {
    const id = (e.id as string).toUpperCase();
    const had = best.get(id);
    if (!had || rank(e) > rank(had)) best.set(id, { ...e, id });
  }
  return [...best.values()].map(digestPatch);
}

/** The sub-devices in a System.All reply's `digest.hub`, on every hub, with or without Digest.Hub (§14.1). */
export function hubFromAll(payload: unknown): Patch[] {
  const all = isObject(payload) && isObject(payload.all) ? payload.all : payload;
  const hub = isObject(all) && isObject(all.digest) && isObject(all.digest.hub) ? all.digest.hub : undefined;
  return hub && Array.isArray(hub.subdevice) ? digestPatches(hub, "System.All digest.hub") : [];
}

/** The sub-device updates a reply or push of `namespace` carries (untrusted: BAD_RESPONSE when malformed). */
export function parseHubPayload(namespace: string, payload: unknown): Patch[] {
  const what = namespace.replace("Appliance.", "");
  switch (namespace) {
    case NS_DIGEST_HUB: {
      const hub = isObject(payload) && isObject(payload.hub) ? payload.hub : undefined;
      if (!hub) throw badReply(what, 'it has no "hub" object', payload);
      return digestPatches(hub, what);
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
        if (isObject(e.temperature)) p.rawTemperature = toNumber(e.temperature.latest);
        if (isObject(e.humidity)) p.humidity = tenth(e.humidity.latest);
        if (isObject(e.waterLeak)) p.leak = flag(e.waterLeak.latestWaterLeak);
        if (isObject(e.doorWindow)) p.open = flag(e.doorWindow.status);
        if (isObject(e.smokeAlarm) && toNumber(e.smokeAlarm.status) !== undefined)
          p.smoke = SMOKE_ACTIVE.has(toNumber(e.smokeAlarm.status)!);
        return clean(p);
      });
    case NS_SENSOR_TEMPHUM:
      return items(payload, "tempHum", what).map((e) =>
        clean({ id: e.id as string, rawTemperature: toNumber(e.latestTemperature), humidity: tenth(e.latestHumidity) }),
      );
    case NS_SENSOR_LATEST:
      return items(payload, "latest", what).map((e) =>
        clean({
          id: e.id as string,
          rawTemperature: isObject(e.temperature) ? toNumber(e.temperature.sample) : undefined,
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
  for (const { rawTemperature, ...p } of patches) {
    const before = subs.get(p.id);
    const next: SubDeviceState = { ...before, ...p, id: p.id };
    if (before?.valve || p.valve) next.valve = { ...before?.valve, ...p.valve };
    if (!next.type && next.valve) next.type = "mts100";
    if (rawTemperature !== undefined) next.temperature = celsius(rawTemperature, next.type);
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
  // The sub-devices and their types, from the digest every hub has (with or without Digest.Hub, §14.1).
  digest(all) {
    const patches = isObject(all.digest.hub) ? hubFromAll({ digest: all.digest }) : [];
    return patches.length ? (state) => noteSubDevices(state, patches, "reply") : undefined;
  },
  poll: async (s) => {
    if (isHub(s)) await readHub(s);
  },
};

// ---- commands ----------------------------------------------------------------------

export function isHub(s: Pick<DeviceSession, "has">): boolean {
  return s.has(NS_HUB_ONLINE) || s.has(NS_DIGEST_HUB);
}

export { getSubDevice, readByIds, setValve, valveOutput, VALVE_MODES } from "./hub-commands";
export { readHub };
