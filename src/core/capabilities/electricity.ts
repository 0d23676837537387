/**
 * Power metering (docs/protocol.md §6.9): the instant reading of a plug (Control.Electricity),
 * the per-channel reading of an energy meter (Control.ElectricityX, docs/protocol-devices.md
 * §17.3) and the calibration block (Control.ConsumptionConfig, §17.4). Daily energy
 * (ConsumptionX) is in consumption.ts. Devices push Electricity over MQTT: the reducer keeps
 * the last reading per channel and tells listeners.
 */
import type { Envelope } from "../protocol/message";
import { NS_CONSUMPTIONX, getConsumption, parseConsumptionX, reduceConsumption } from "./consumption";
import type { Capability, ChangeSource, DeviceSession, Update } from "./types";
import { badReply, isObject, singleObject, toNumber, type Json } from "./util";

declare module "./types" {
  interface MutableDeviceState {
    /** Last metering reading per channel (Electricity / ElectricityX, read or pushed). */
    electricity?: Map<number, ElectricityReading>;
  }
  interface CapabilityEvents {
    electricity: { reading: ElectricityReading; source?: ChangeSource };
  }
}

export { NS_CONSUMPTIONX };
// The session delegates to these through this module; their home is consumption.ts.
export { getConsumption, parseConsumptionX, type DailyConsumption } from "./consumption";
export const NS_ELECTRICITY = "Appliance.Control.Electricity";
export const NS_ELECTRICITYX = "Appliance.Control.ElectricityX";
export const NS_CONSUMPTION_CONFIG = "Appliance.Control.ConsumptionConfig";

/** Instantaneous reading in A, V and W. */
export interface ElectricityReading {
  channel: number;
  current: number;
  voltage: number;
  power: number;
  /** ElectricityX only: energy counter the meter keeps (Wh, monthly per [ML] ⚠). */
  monthWh?: number;
  /** ElectricityX only: power factor as the meter reports it (scale disputed ⚠). */
  factor?: number;
}

export function round(n: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(n * f) / f;
}

function channelOf(v: unknown): number {
  const channel = toNumber(v);
  return channel !== undefined && Number.isInteger(channel) && channel >= 0 && channel < 0xffffffff ? channel : 0;
}

/** mA → A and mW → W at the devices' resolution; volts already converted by the caller (the scale differs). */
function scaled(mA: number, volts: number, mW: number): { current: number; voltage: number; power: number } {
  return { current: round(mA / 1000, 3), voltage: round(volts, 1), power: round(mW / 1000, 3) };
}

/** Plugs: mA, decivolts and mW (docs/protocol.md §6.9) → A, V and W at the device's own resolution. */
export function parseElectricity(payload: unknown): ElectricityReading {
  const e = isObject(payload) ? singleObject(payload.electricity) : undefined;
  if (!e) throw badReply("Control.Electricity", 'it has no "electricity" object', payload);
  const current = toNumber(e.current);
  const voltage = toNumber(e.voltage);
  const power = toNumber(e.power);
  if (current === undefined || voltage === undefined || power === undefined) {
    throw badReply("Control.Electricity", "current, voltage or power is missing", payload);
  }
  return { channel: channelOf(e.channel), ...scaled(current, voltage / 10, power) };
}

/**
 * Energy meters (em06): one entry per channel, voltage in **millivolts** unlike the plugs, power
 * in mW and negative when energy flows back (docs/protocol-devices.md §17.3). The key is
 * `electricity` per [ML]; `electricityx` is accepted too since no capture settles it ⚠.
 */
export function parseElectricityX(payload: unknown): ElectricityReading[] {
  const raw = isObject(payload) ? (payload.electricity ?? payload.electricityx) : undefined;
  const list = Array.isArray(raw) ? raw : isObject(raw) ? [raw] : undefined;
  if (!list) throw badReply("Control.ElectricityX", 'it has no "electricity" list', payload);
  const out: ElectricityReading[] = [];
  for (const e of list) {
    if (!isObject(e)) continue;
    const current = toNumber(e.current);
    const voltage = toNumber(e.voltage);
    const power = toNumber(e.power);
    if (current === undefined || voltage === undefined || power === undefined) continue;
    const r: ElectricityReading = { channel: channelOf(e.channel), ...scaled(current, voltage / 1000, power) };
    const month = toNumber(e.mConsume);
    if (month !== undefined && month >= 0) r.monthWh = month;
    const factor = toNumber(e.factor);
    if (factor !== undefined) r.factor = factor;
    out.push(r);
  }
  if (out.length === 0) throw badReply("Control.ElectricityX", "no channel has current, voltage and power", payload);
  return out.sort((a, b) => a.channel - b.channel);
}

/** Calibration constants (voltageRatio, electricityRatio, …): read-only numbers (docs/protocol-devices.md §17.4). */
export function parseConsumptionConfig(payload: unknown): Record<string, number> {
  const c = isObject(payload) ? payload.config : undefined;
  if (!isObject(c)) throw badReply("Control.ConsumptionConfig", 'it has no "config" object', payload);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(c)) {
    const n = toNumber(v);
    if (n !== undefined) out[k] = n;
  }
  return out;
}

// ---- reducer -------------------------------------------------------------------------

/** Records readings (ours or pushed) and tells listeners each one. */
export function noteReadings(readings: ElectricityReading[], source: ChangeSource = "reply"): Update {
  return (state) => {
    const map = (state.electricity ??= new Map());
    return readings.map((reading) => {
      map.set(reading.channel, reading);
      return { type: "electricity" as const, reading, source };
    });
  };
}

function tryParse<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

export const electricityCapability: Capability = {
  name: "electricity",
  namespaces: [NS_ELECTRICITY, NS_ELECTRICITYX, NS_CONSUMPTIONX, NS_CONSUMPTION_CONFIG],
  reduce(env: Envelope, source: ChangeSource): Update | undefined {
    const ns = env.header.namespace;
    if (ns === NS_ELECTRICITY) return noteReadings([parseElectricity(env.payload)], source);
    if (ns === NS_ELECTRICITYX) return noteReadings(parseElectricityX(env.payload), source);
    if (ns === NS_CONSUMPTIONX) {
      const days = tryParse(() => parseConsumptionX(env.payload));
      return days ? reduceConsumption(days, source) : undefined;
    }
    return undefined;
  },
  /** What meross-energy's poll needs: every channel's instant reading, and the days when the device keeps them. */
  async poll(s: DeviceSession): Promise<void> {
    if (s.has(NS_ELECTRICITYX)) await getElectricityX(s);
    else if (s.has(NS_ELECTRICITY)) await getElectricity(s, 0);
    if (s.has(NS_ELECTRICITY) && s.has(NS_CONSUMPTIONX)) await getConsumption(s);
  },
};

// ---- commands ------------------------------------------------------------------------

export async function getElectricity(s: DeviceSession, channel = 0): Promise<ElectricityReading> {
  await s.ready();
  const reading = parseElectricity((await s.request("GET", NS_ELECTRICITY, { electricity: { channel } })).payload);
  s.commit(noteReadings([reading]));
  return reading;
}

/** Every channel of an energy meter (request shape per [ML] ⚠, docs/protocol-devices.md §17.3). */
export async function getElectricityX(s: DeviceSession, channels: number[] = []): Promise<ElectricityReading[]> {
  await s.ready();
  const payload: Json = { electricity: channels.map((channel) => ({ channel })) };
  const readings = parseElectricityX((await s.request("GET", NS_ELECTRICITYX, payload)).payload);
  s.commit(noteReadings(readings));
  return readings;
}

export async function getConsumptionConfig(s: DeviceSession): Promise<Record<string, number>> {
  await s.ready();
  return parseConsumptionConfig((await s.request("GET", NS_CONSUMPTION_CONFIG, { consumptionConfig: {} })).payload);
}
