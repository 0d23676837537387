/**
 * Power metering capability of plugs (docs/protocol.md §6.9): Control.Electricity and
 * Control.ConsumptionX. Device units are mA, decivolts and mW; daily energy comes in Wh,
 * unsorted. Readings are answers to a question, not state the device pushes, so this
 * capability has no reducer: nothing is cached between two reads.
 */
import type { Capability, DeviceSession } from "./types";
import { badReply, isObject, singleObject, toNumber } from "./util";

export const NS_ELECTRICITY = "Appliance.Control.Electricity";
export const NS_CONSUMPTIONX = "Appliance.Control.ConsumptionX";

/** Instantaneous reading in A, V and W. */
export interface ElectricityReading {
  channel: number;
  current: number;
  voltage: number;
  power: number;
}

function round(n: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(n * f) / f;
}

/** Converted to A, V and W, rounded to the device's own resolution. */
export function parseElectricity(payload: unknown): ElectricityReading {
  const e = isObject(payload) ? singleObject(payload.electricity) : undefined;
  if (!e) throw badReply("Control.Electricity", 'it has no "electricity" object', payload);
  const current = toNumber(e.current);
  const voltage = toNumber(e.voltage);
  const power = toNumber(e.power);
  if (current === undefined || voltage === undefined || power === undefined) {
    throw badReply("Control.Electricity", "current, voltage or power is missing", payload);
  }
  const channel = toNumber(e.channel);
  return {
    channel: channel !== undefined && Number.isInteger(channel) && channel >= 0 ? channel : 0,
    current: round(current / 1000, 3),
    voltage: round(voltage / 10, 1),
    power: round(power / 1000, 3),
  };
}

/** One day of energy: date as the device reports it (its local day), time its epoch, wh the total. */
export interface DailyConsumption {
  date: string;
  time: number;
  wh: number;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Sorted oldest first (the device sends today first, then the rest: mss310r trace). */
export function parseConsumptionX(payload: unknown): DailyConsumption[] {
  const list = isObject(payload) ? payload.consumptionx : undefined;
  if (!Array.isArray(list)) throw badReply("Control.ConsumptionX", 'it has no "consumptionx" list', payload);
  const out: DailyConsumption[] = [];
  for (const e of list) {
    if (!isObject(e) || typeof e.date !== "string" || !ISO_DATE.test(e.date)) continue;
    const wh = toNumber(e.value);
    if (wh === undefined) continue;
    out.push({ date: e.date, time: toNumber(e.time) ?? 0, wh });
  }
  return out.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.time - b.time));
}

export const electricityCapability: Capability = {
  name: "electricity",
  namespaces: [NS_ELECTRICITY, NS_CONSUMPTIONX],
};

export async function getElectricity(s: DeviceSession, channel = 0): Promise<ElectricityReading> {
  await s.ready();
  return parseElectricity((await s.request("GET", NS_ELECTRICITY, { electricity: { channel } })).payload);
}

export async function getConsumption(s: DeviceSession): Promise<DailyConsumption[]> {
  await s.ready();
  return parseConsumptionX((await s.request("GET", NS_CONSUMPTIONX, { consumptionx: [] })).payload);
}
