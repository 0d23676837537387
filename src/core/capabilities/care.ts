/**
 * Device care: the status LED (System.DNDMode, docs/protocol.md §6.4: mode 1 = do not disturb =
 * LED off), Wi-Fi signal (System.Runtime, §6.4), a one-shot device report (identity, network,
 * uptime, time zone), and pushing the time zone with its DST rules (System.Time SET, §3.8) to a
 * device reached over HTTP, whose daily energy dates follow that zone (docs/protocol-devices.md §17.1).
 */
import { MerossError, explain } from "../errors";
import { buildSystemTimePayload } from "../onboarding/system-time";
import { NS_TIME } from "./system";
import { modelOf, type DeviceSession } from "./types";
import { badInput, badReply, describeValue, isObject, toNumber } from "./util";

export const NS_DND = "Appliance.System.DNDMode";
export const NS_RUNTIME = "Appliance.System.Runtime";
export const NS_DEBUG = "Appliance.System.Debug";

/** DNDMode `{mode}`: true = do not disturb (LED off). */
export function parseDndMode(payload: unknown): boolean {
  const mode = isObject(payload) && isObject(payload.DNDMode) ? toNumber(payload.DNDMode.mode) : undefined;
  if (mode !== 0 && mode !== 1) throw badReply("System.DNDMode", "it has no mode 0 or 1", payload);
  return mode === 1;
}

/** Runtime `{signal}`: Wi-Fi quality in percent (docs/protocol-devices.md §18.4). */
export function parseRuntime(payload: unknown): { signal: number } {
  const signal = isObject(payload) && isObject(payload.runtime) ? toNumber(payload.runtime.signal) : undefined;
  if (signal === undefined || signal < 0 || signal > 100) throw badReply("System.Runtime", "it has no signal between 0 and 100", payload);
  return { signal };
}

/** "12h3m4s" (System.Debug sysUpTime) → seconds; undefined when it is not that shape. */
export function parseUptime(v: unknown): number | undefined {
  if (typeof v !== "string") return toNumber(v);
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(v.trim());
  if (!m || v.trim() === "") return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

function requireNs(s: DeviceSession, method: "GET" | "SET", ns: string, why: string): void {
  if (!s.has(ns)) throw new MerossError("UNSUPPORTED", explain.unsupported(s.address, method, ns, why), { host: s.address, namespace: ns });
}

export async function getDnd(s: DeviceSession): Promise<boolean> {
  await s.ready();
  requireNs(s, "GET", NS_DND, `this ${modelOf(s)} has no do-not-disturb setting`);
  return parseDndMode((await s.request("GET", NS_DND, { DNDMode: {} })).payload);
}

/** Do not disturb on = status LED off. */
export async function setDnd(s: DeviceSession, on: boolean): Promise<boolean> {
  if (typeof on !== "boolean") throw badInput(`Do-not-disturb must be on or off, not ${describeValue(on)}.`);
  await s.ready();
  requireNs(s, "SET", NS_DND, `this ${modelOf(s)} has no do-not-disturb setting`);
  await s.request("SET", NS_DND, { DNDMode: { mode: on ? 1 : 0 } });
  return on;
}

/** What a person wants to know about a device, read fresh. Fields a firmware lacks are left out. */
export interface DeviceReport {
  model: string;
  uuid: string;
  mac: string;
  hardwareVersion: string;
  firmwareVersion: string;
  ip?: string;
  /** Wi-Fi signal in percent. */
  signal?: number;
  /** Seconds since the device booted (System.Debug). */
  uptime?: number;
  timezone?: string;
  /** The device's clock, epoch seconds. */
  time?: number;
  dnd?: boolean;
}

async function optional<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    // A missing or odd optional part leaves its field out; a dead device still fails the report.
    const optionalPart = err instanceof MerossError && ["BAD_RESPONSE", "UNSUPPORTED", "DEVICE_ERROR"].includes(err.code);
    if (optionalPart) return undefined;
    throw err;
  }
}

export async function readDeviceReport(s: DeviceSession): Promise<DeviceReport> {
  await s.ready();
  // Identity and clock come from the System.All digest read once per session (system.ts).
  const info = s.state.info;
  if (!info) throw badReply("System.All", "it was not read", undefined);
  const report: DeviceReport = {
    model: info.model,
    uuid: info.uuid,
    mac: info.mac,
    hardwareVersion: info.hardwareVersion,
    firmwareVersion: info.firmwareVersion,
  };
  if (info.ip) report.ip = info.ip;
  const clock = s.state.clock;
  if (clock?.timezone !== undefined) report.timezone = clock.timezone;
  // The device clock now: what the digest said, plus the time since it was read.
  if (clock?.timestamp !== undefined) report.time = clock.timestamp + Math.floor((Date.now() - clock.readAt) / 1000);
  if (s.has(NS_RUNTIME)) {
    const rt = await optional(async () => parseRuntime((await s.request("GET", NS_RUNTIME, { runtime: {} })).payload));
    if (rt) report.signal = rt.signal;
  }
  if (s.has(NS_DEBUG)) {
    const dbg = await optional(async () => (await s.request("GET", NS_DEBUG, {})).payload);
    const up = isObject(dbg) && isObject(dbg.debug) && isObject(dbg.debug.system) ? parseUptime(dbg.debug.system.sysUpTime) : undefined;
    if (up !== undefined) report.uptime = up;
  }
  if (s.has(NS_DND)) {
    const dnd = await optional(async () => parseDndMode((await s.request("GET", NS_DND, { DNDMode: {} })).payload));
    if (dnd !== undefined) report.dnd = dnd;
  }
  return report;
}

/**
 * Sets the device clock, zone and DST rules (docs/protocol.md §3.8). Devices on our broker get
 * them at connect; one reached over HTTP only has them when someone sends them.
 */
export async function syncTime(
  s: DeviceSession,
  timeZone?: string,
  nowSec = Math.floor(Date.now() / 1000),
): Promise<{ timezone: string; timestamp: number }> {
  const payload = buildSystemTimePayload(nowSec, timeZone);
  await s.ready();
  requireNs(s, "SET", NS_TIME, `this ${modelOf(s)} does not take the time`);
  await s.request("SET", NS_TIME, payload);
  const clock = { timestamp: payload.time.timestamp, timezone: payload.time.timezone, timeRule: payload.time.timeRule, readAt: Date.now() };
  s.commit((state) => {
    state.clock = clock;
    return [];
  });
  return { timezone: payload.time.timezone, timestamp: payload.time.timestamp };
}

/** The device-care words meross-request takes in msg.payload. */
export type CareCommand = { kind: "dnd"; on: boolean } | { kind: "info" } | { kind: "sync time" };

/** "dnd on" | "dnd off" | "info" | "sync time" (any case, extra spaces); undefined for anything else. */
export function parseCareCommand(input: unknown): CareCommand | undefined {
  if (typeof input !== "string") return undefined;
  const t = input.trim().toLowerCase().replace(/\s+/g, " ");
  if (t === "dnd on" || t === "led off") return { kind: "dnd", on: true };
  if (t === "dnd off" || t === "led on") return { kind: "dnd", on: false };
  if (t === "info") return { kind: "info" };
  if (t === "sync time") return { kind: "sync time" };
  return undefined;
}
