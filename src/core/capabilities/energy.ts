/**
 * One energy reading as a dashboard or a time-series database wants it: W, V and A of one
 * channel, today's and the total kWh, and the days behind them. A plug answers Electricity and
 * ConsumptionX (docs/protocol.md §6.9); an energy meter answers ElectricityX per channel, with
 * a month counter instead of days (docs/protocol-devices.md §17.3 ⚠).
 */
import { MerossError } from "../errors";
import { NS_CONSUMPTIONX, getConsumption, todayOf, type DailyConsumption } from "./consumption";
import { NS_ELECTRICITY, NS_ELECTRICITYX, getElectricity, getElectricityX, round, type ElectricityReading } from "./electricity";
import { countEnergy, type EnergyCounterState, type PeriodValue } from "./energy-counter";
import { modelOf, type DeviceSession } from "./types";

export interface EnergyRead {
  reading: ElectricityReading;
  /** Daily values (plugs with ConsumptionX), oldest first. */
  days?: DailyConsumption[];
}

/** Whether a device measures energy at all, and how. */
export function meteringKind(s: Pick<DeviceSession, "has">): "plug" | "meter" | undefined {
  if (s.has(NS_ELECTRICITY)) return "plug";
  if (s.has(NS_ELECTRICITYX)) return "meter";
  return undefined;
}

function noChannel(s: DeviceSession, channel: number, listed: number[]): MerossError {
  const which = listed.length === 1 ? `channel ${listed[0]}` : `channels ${listed.join(", ")}`;
  const fix = "Leave the channel empty for the first one.";
  const text = `Channel ${channel} is not measured by this ${modelOf(s)}: it measures ${which}. ${fix}`;
  return new MerossError("BAD_INPUT", text, { host: s.address });
}

/**
 * Reads one channel (undefined = the device's first): the instant values, and the days when the
 * device keeps them. UNSUPPORTED for a device that does not measure energy.
 */
export async function readEnergy(s: DeviceSession, channel?: number): Promise<EnergyRead> {
  await s.ready();
  const kind = meteringKind(s);
  if (kind === "meter") {
    const all = await getElectricityX(s, channel === undefined ? [] : [channel]);
    const reading = channel === undefined ? all[0] : all.find((r) => r.channel === channel);
    if (!reading)
      throw noChannel(
        s,
        channel ?? 0,
        all.map((r) => r.channel),
      );
    return { reading };
  }
  if (kind !== "plug") throw measuresNothing(s);
  const reading = await getElectricity(s, channel ?? 0);
  if (channel !== undefined && reading.channel !== channel) throw noChannel(s, channel, [reading.channel]);
  const days = s.has(NS_CONSUMPTIONX) ? await getConsumption(s) : undefined;
  return days ? { reading, days } : { reading };
}

function measuresNothing(s: DeviceSession): MerossError {
  const why = `this ${modelOf(s)} does not measure energy (it lists neither Electricity nor ElectricityX)`;
  return new MerossError("UNSUPPORTED", `${s.address}: ${why}.`, { host: s.address, namespace: NS_ELECTRICITY });
}

/**
 * One channel (undefined = the device's first) as the last read left it in the session's state:
 * what a poll (the electricity capability's `poll()`) read, with readEnergy's errors.
 */
export function energyFromState(s: DeviceSession, channel?: number): EnergyRead {
  const kind = meteringKind(s);
  if (!kind) throw measuresNothing(s);
  const readings = [...(s.state.electricity?.values() ?? [])].sort((a, b) => a.channel - b.channel);
  const reading = channel === undefined ? readings[0] : readings.find((r) => r.channel === channel);
  if (!reading)
    throw noChannel(
      s,
      channel ?? 0,
      readings.map((r) => r.channel),
    );
  const days = kind === "plug" && s.has(NS_CONSUMPTIONX) ? s.state.consumption : undefined;
  return days ? { reading, days: [...days] } : { reading };
}

/** What the total counter counts: the days of a plug, or a meter's month counter. */
export function energyPeriods(read: EnergyRead): PeriodValue[] | undefined {
  if (read.days) return read.days.map((d) => ({ period: d.date, wh: d.wh }));
  if (read.reading.monthWh !== undefined) return [{ period: "month", wh: read.reading.monthWh }];
  return undefined;
}

export interface EnergyReport {
  channel: number;
  /** W (negative when a meter channel feeds energy back). */
  power: number;
  voltage: number;
  current: number;
  /** kWh of the device's today, null when the device keeps no days. */
  todayKwh: number | null;
  /** The rising total, null when nothing can be counted. */
  totalKwh: number | null;
  /** The device's local day that `todayKwh` belongs to. */
  date?: string;
  /** Days oldest first, in the device's time zone. */
  days: { date: string; kwh: number }[];
}

export function energyReport(read: EnergyRead, counter?: EnergyCounterState): EnergyReport {
  const { reading, days } = read;
  const { today } = todayOf(days ?? []);
  const report: EnergyReport = {
    channel: reading.channel,
    power: reading.power,
    voltage: reading.voltage,
    current: reading.current,
    todayKwh: today ? round(today.wh / 1000, 3) : null,
    totalKwh: counter ? round(counter.totalWh / 1000, 3) : null,
    days: (days ?? []).map((d) => ({ date: d.date, kwh: round(d.wh / 1000, 3) })),
  };
  if (today) report.date = today.date;
  return report;
}

/** The counter after this reading (unchanged when the reading has nothing to count). */
export function countReading(prev: EnergyCounterState | undefined, read: EnergyRead): EnergyCounterState | undefined {
  const periods = energyPeriods(read);
  return periods ? countEnergy(prev, periods) : prev;
}
