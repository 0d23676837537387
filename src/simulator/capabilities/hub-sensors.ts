/**
 * Wire shapes of the hub's sensors (docs/protocol-devices.md §14.1, §14.3): the ms100
 * temperature/humidity sensor (tenths), the ms400 leak sensor, the ms200 door/window contact
 * (`doorWindow.status` 1 open, 0 closed) and the gs559 smoke alarm (`smokeAlarm.status`, 170 =
 * normal). Shapes only; HubCapability (hub.ts) owns the sub-devices and their timing.
 */
import { isObject, toInt, type Json } from "../../core/protocol/rules";

export const NS_DOOR = "Appliance.Hub.Sensor.DoorWindow";
export const NS_SMOKE = "Appliance.Hub.Sensor.Smoke";

/** gs559 status codes ([ML], §14.3): idle devices in the captures report 170, so 170 = normal here. */
export const SMOKE = { normal: 170, test: 23, heat: 24, smoke: 25 } as const;
/** Muting an error or alarm = SET its muted code (17→20, 18→21, 19→22, 24→26, 25→27) ⚠ [ML] only. */
const MUTED: Record<number, number> = { 17: 20, 18: 21, 19: 22, 24: 26, 25: 27 };
const SMOKE_NAMES: Record<number, string> = {
  17: "temperature error",
  18: "smoke error",
  19: "battery error",
  20: "temperature error muted",
  21: "smoke error muted",
  22: "battery error muted",
  23: "test",
  24: "heat alarm",
  25: "smoke alarm",
  26: "heat alarm muted",
  27: "smoke alarm muted",
  170: "normal",
};
/** A real test sounds for a few seconds ⚠ (length not captured); tests pass a shorter one. */
export const SMOKE_TEST_MS = 5000;
/** Door history kept for Hub.Sensor.DoorWindow `sample` ([T …11] shows several `[status, epoch]`). */
const DOOR_HISTORY = 8;

export type SubType = "ms100" | "ms130" | "ms400" | "ms200" | "gs559" | "mts100v3" | "mts150";

/** Radiator valves among the sub-device types (§14.4). */
export function isValve(type: SubType): boolean {
  return type === "mts100v3" || type === "mts150";
}

/** What every sub-device keeps; the valve's own fields are in hub.ts. */
export interface SensorFields {
  id: string;
  type: SubType;
  battery: number;
  lastActive: number;
  /** Tenths of °C / %RH. */
  temp: number;
  hum: number;
  leak: number;
  /** ms200 contact and gs559 smoke alarm. */
  alarm: AlarmSensor;
}

/** One contact or smoke alarm's state: `status` is doorWindow 0/1 or the gs559 code. */
export interface AlarmSensor {
  id: string;
  status: number;
  lmTime: number;
  /** ms200 only: `[status, epoch]` newest last. */
  history: Array<[number, number]>;
}

export function smokeName(status: number): string {
  return SMOKE_NAMES[status] ?? `status ${status}`;
}

/** The digest / push item for a contact (§14.1): `{status, lmTime}`. */
export function doorItem(s: AlarmSensor): Json {
  return { status: s.status, lmTime: s.lmTime };
}

/** The digest item for a smoke alarm, in the capture's key order `{status, lmTime, interConn}` (§14.1). */
export function smokeItem(s: AlarmSensor): Json {
  // interConn 0/1 ⚠ meaning unknown; no interconnected alarms are simulated.
  return { status: s.status, lmTime: s.lmTime, interConn: 0 };
}

/** Sensor.All keeps `lmtime` in lower case for the smoke alarm (§14.3). */
export function smokeAllItem(s: AlarmSensor): Json {
  return { status: s.status, interConn: 0, lmtime: s.lmTime };
}

/** Hub.Sensor.DoorWindow GET item: the reading plus its history. */
export function doorGetItem(s: AlarmSensor): Json {
  return { id: s.id, ...doorItem(s), sample: s.history.map((h) => [...h]) };
}

export function noteDoor(s: AlarmSensor, open: boolean, now: number): boolean {
  const status = open ? 1 : 0;
  if (s.status === status) return false;
  s.status = status;
  s.lmTime = now;
  s.history.push([status, now]);
  if (s.history.length > DOOR_HISTORY) s.history.shift();
  return true;
}

/**
 * What a Hub.Sensor.Smoke SET `{"smokeAlarm": [{"id": …, "status": 23}]}` asks of one alarm:
 * "test" (23 while normal), a muted code matching what sounds now, or nothing.
 */
export function smokeRequest(s: AlarmSensor, e: Json): "test" | number | undefined {
  const want = toInt(e.status);
  if (want === SMOKE.test) return s.status === SMOKE.normal ? "test" : undefined;
  return want !== undefined && MUTED[s.status] === want ? want : undefined;
}

/** `{"smokeAlarm": [...]}` entries that name a sub-device. */
export function listOf(payload: Json, key: string): Json[] {
  return (Array.isArray(payload[key]) ? payload[key] : []).filter((e): e is Json => isObject(e) && typeof e.id === "string");
}

/** The digest's type object of a sensor (§14.1): the type is the name of the nested object. */
export function sensorDigest(s: SensorFields): Json {
  if (s.type === "ms400") return { waterLeak: { latestWaterLeak: s.leak, latestSampleTime: s.lastActive } };
  if (s.type === "ms200") return { doorWindow: doorItem(s.alarm) };
  if (s.type === "gs559") return { smokeAlarm: smokeItem(s.alarm) };
  // ms130 (`tempHumi`): temperature in hundredths, humidity in tenths ([T …22], §14.1).
  if (s.type === "ms130") return { tempHumi: { latestTime: s.lastActive, temp: s.temp * 10, humi: s.hum } };
  const voltage = 2000 + Math.round(s.battery * 10);
  return { ms100: { latestTime: s.lastActive, latestTemperature: s.temp, latestHumidity: s.hum, voltage } };
}

/** Hub.Sensor.All item (§14.3). */
export function sensorAllItem(s: SensorFields): Json {
  const online = { status: 1, lastActiveTime: s.lastActive };
  if (s.type === "ms400") return { id: s.id, online, waterLeak: leakItem(s) };
  if (s.type === "ms200") return { id: s.id, online, doorWindow: doorItem(s.alarm) };
  if (s.type === "gs559") return { id: s.id, online, smokeAlarm: smokeAllItem(s.alarm) };
  // The ms130 reports `latest` in hundredths while its min/max stay in tenths ([T …22], §14.3).
  const temperature =
    s.type === "ms130"
      ? { latest: s.temp * 10, latestSampleTime: s.lastActive, max: 600, min: -200 }
      : { latest: s.temp, latestSampleTime: s.lastActive, max: 500, min: -100 };
  return { id: s.id, online, temperature, humidity: { latest: s.hum, latestSampleTime: s.lastActive, max: 1000, min: 0 } };
}

export function tempHumItem(s: SensorFields): Json {
  return { id: s.id, latestTemperature: s.temp, latestHumidity: s.hum, latestTime: s.lastActive };
}

export function latestItem(s: SensorFields): Json {
  return { id: s.id, temperature: { sample: s.temp, time: s.lastActive }, humidity: { sample: s.hum, time: s.lastActive } };
}

export function leakItem(s: SensorFields): Json {
  return { id: s.id, latestWaterLeak: s.leak, latestSampleTime: s.lastActive };
}
