/**
 * What each kind of hub sub-device is (docs/protocol-devices.md §14.1, §14.3, §14.4): one entry per
 * type key of the hub digest (`digest.hub.subdevice[]`, the type is the key of the nested object).
 * The entry decides the name a flow sees, which namespace reads its state by id, and the scale of
 * its temperatures; nothing else in the core guesses from a model name.
 */
export type SubDeviceKind = "sensor" | "valve" | "contact" | "smoke" | "leak";

export interface SubDeviceType {
  /** The nested object's key in the digest (`ms100`, `tempHumi`, `mts150`, …). */
  key: string;
  /** The model a person knows it by. */
  model: string;
  kind: SubDeviceKind;
  /** Namespace that reads its whole state by id (`{"all": [{"id": …}]}`). */
  read: string;
  /** Divisor of the temperatures it reports in Sensor.All / the digest (10: tenths, 100: hundredths). */
  tempScale: number;
}

export const NS_SENSOR_ALL = "Appliance.Hub.Sensor.All";
export const NS_MTS100_ALL = "Appliance.Hub.Mts100.All";

const sensor = (key: string, model: string, kind: SubDeviceKind, tempScale = 10): SubDeviceType => ({
  key,
  model,
  kind,
  read: NS_SENSOR_ALL,
  tempScale,
});
const valve = (key: string): SubDeviceType => ({ key, model: key, kind: "valve", read: NS_MTS100_ALL, tempScale: 10 });

/** §14.1 table: ms130 (`tempHumi`) reports temperature in hundredths (2134 = 21.34 °C), the ms100 in tenths. */
export const SUBDEVICE_TYPES: readonly SubDeviceType[] = [
  sensor("ms100", "ms100", "sensor"),
  sensor("tempHumi", "ms130", "sensor", 100),
  valve("mts100"),
  valve("mts100v3"),
  valve("mts150"),
  sensor("doorWindow", "ms200", "contact"),
  sensor("smokeAlarm", "gs559", "smoke"),
  sensor("waterLeak", "ms400", "leak"),
];

const BY_KEY = new Map(SUBDEVICE_TYPES.map((t) => [t.key, t]));
const BY_MODEL = new Map(SUBDEVICE_TYPES.map((t) => [t.model, t]));

/** The entry for a digest type key, or for the model name the core stores (`ms130`, `ms400`, …). */
export function subDeviceType(keyOrModel: string | undefined): SubDeviceType | undefined {
  if (keyOrModel === undefined) return undefined;
  return BY_KEY.get(keyOrModel) ?? BY_MODEL.get(keyOrModel);
}

export function isValveType(type: string | undefined): boolean {
  return subDeviceType(type)?.kind === "valve";
}

/** °C from a sensor's raw temperature; unknown types read as tenths (the ms100, the most common). */
export function celsius(raw: number, type: string | undefined): number {
  return raw / (subDeviceType(type)?.tempScale ?? 10);
}
