/**
 * meross-energy's inputs and outputs: which number goes into msg.payload, the poll interval,
 * the channel, and the status line. The energy rules themselves live in the core
 * (capabilities/energy.ts, energy-counter.ts).
 */
import type { NodeStatus } from "node-red";
import { MerossError, describeValue, type EnergyReport } from "../../core";
import { isBlank, resolveChannel } from "./inputs";

export const SHOW_CHOICES = ["power", "voltage", "current", "todayKwh", "totalKwh"] as const;
export type Show = (typeof SHOW_CHOICES)[number];

/** The number msg.payload carries (the node's choice, or msg.show); power by default. */
export function resolveShow(property: unknown, fromMsg?: unknown): Show {
  const raw = !isBlank(fromMsg) ? fromMsg : !isBlank(property) ? property : "power";
  if (typeof raw === "string" && (SHOW_CHOICES as readonly string[]).includes(raw)) return raw as Show;
  const choices = SHOW_CHOICES.join(", ");
  throw new MerossError("BAD_INPUT", `${describeValue(raw)} is not something meross-energy can put in msg.payload: use one of ${choices}.`);
}

/** Seconds between reads, 0 = no polling. Odd values are refused when the node is deployed. */
export function resolveInterval(v: unknown): number {
  if (isBlank(v)) return 0;
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 86_400 || (n > 0 && n < 1)) {
    throw new MerossError("BAD_INPUT", `The poll interval ${describeValue(v)} is not valid: use 0 (off) or 1 to 86400 seconds.`);
  }
  return Math.round(n);
}

/** The channel to read, or undefined for the device's first metered one. */
export function resolveEnergyChannel(property: unknown, fromMsg: unknown): number | undefined {
  if (isBlank(property) && isBlank(fromMsg)) return undefined;
  return resolveChannel(property, fromMsg);
}

function fmt(n: number, unit: string): string {
  return `${Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(1)} ${unit}`;
}

/** "67.4 W · 1.2 kWh" (the total when counted, else today). */
export function energyStatus(r: EnergyReport): NodeStatus {
  const kwh = r.totalKwh ?? r.todayKwh;
  const text = kwh === null ? fmt(r.power, "W") : `${fmt(r.power, "W")} · ${kwh.toFixed(kwh >= 100 ? 0 : 2)} kWh`;
  return { fill: r.power === 0 ? "grey" : "green", shape: "dot", text };
}

/** The value of `show` in a report (null when the device cannot tell, e.g. kWh on a meter without days). */
export function shownValue(r: EnergyReport, show: Show): number | null {
  return r[show];
}
