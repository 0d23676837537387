/**
 * Power metering of plugs (protocol.md §6.9): device units are mA, decivolts and mW;
 * daily energy comes in Wh, unsorted.
 */
import { badReply, isObject, singleObject, toNumber } from "./util";

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
