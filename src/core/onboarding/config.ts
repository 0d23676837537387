/**
 * Binding a device to our own broker: Config.Key (docs/protocol.md §3.2), the MQTT
 * credentials the device will log in with (§5.2) and System.Time with its DST rules (§3.8).
 * These are onboarding payloads, not device capabilities with state, hence onboarding/.
 */
import { md5Hex } from "../protocol/message";
import { badInput, describeValue, toNumber } from "../capabilities/util";

/** Where the device should connect after onboarding, and the key and userId it will sign with. */
export interface ConfigKeyOptions {
  host: string;
  port: number;
  secondHost?: string;
  secondPort?: number;
  key: string;
  userId: string | number;
}

export type ConfigKeyPayload = {
  key: {
    gateway: { host: string; port: number; secondHost: string; secondPort: number; redirect: 1 };
    key: string;
    userId: string;
  };
};

function checkHost(v: unknown, field: string): string {
  if (typeof v !== "string" || v.trim() === "") {
    throw badInput(`The MQTT broker ${field} ${describeValue(v)} is empty: give the host name or IP address the device should connect to.`);
  }
  return v.trim();
}

function checkPort(v: unknown, field: string): number {
  const n = toNumber(v);
  if (n === undefined || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw badInput(`The MQTT broker ${field} ${describeValue(v)} must be a whole number from 1 to 65535 (8883 is usual for TLS).`);
  }
  return n;
}

/**
 * Second broker defaults to the first, as [BS] and [ML] do; `redirect: 1` is what
 * both send (2 is the cloud's "move to another broker"). userId goes out as a string.
 */
export function buildConfigKeyPayload(o: ConfigKeyOptions): ConfigKeyPayload {
  if (typeof o !== "object" || o === null) throw badInput("The Config.Key options must be an object with host, port, key and userId.");
  const host = checkHost(o.host, "host");
  const port = checkPort(o.port, "port");
  const secondHost = o.secondHost === undefined || o.secondHost === "" ? host : checkHost(o.secondHost, "second host");
  const secondPort = o.secondPort === undefined ? port : checkPort(o.secondPort, "second port");
  if (typeof o.key !== "string") throw badInput("The device key must be text (it may be empty).");
  if (typeof o.userId !== "string" && !(typeof o.userId === "number" && Number.isInteger(o.userId) && o.userId >= 0)) {
    throw badInput(`The user id ${describeValue(o.userId)} must be a whole number or text such as "0".`);
  }
  return {
    key: {
      gateway: { host, port, secondHost, secondPort, redirect: 1 },
      key: o.key,
      userId: String(o.userId),
    },
  };
}

/** Devices log in to MQTT with their MAC in lowercase with colons (§5.2). */
export function mqttUsername(mac: string): string {
  if (typeof mac !== "string" || mac.trim() === "") throw badInput("The device MAC address is missing (read it from System.All).");
  return mac.trim().toLowerCase();
}

/** `<userId>_<md5hex(mac + key)>` ([AR], [BS], [ML]; ✔ vectors §8.2). */
export function mqttPassword(mac: string, key: string, userId: string | number): string {
  if (typeof key !== "string") throw badInput("The device key must be text (it may be empty).");
  return `${String(userId)}_${md5Hex(mqttUsername(mac) + key)}`;
}

/** [utcEpoch when it starts, UTC offset in seconds, 1 if daylight saving] as devices store it (§3.8). */
export type TimeRule = [number, number, 0 | 1];

export type SystemTimePayload = {
  time: { timestamp: number; timezone: string; timeRule: TimeRule[] };
};

export const DAY_S = 86_400;
export const YEAR_S = 366 * DAY_S;
/** Devices keep ~20 entries from the cloud; the current and next ~2 years is plenty (§3.8). */
export const YEARS_AHEAD = 2;

export function offsetFormatter(timeZone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" });
  } catch {
    throw badInput(`The time zone ${describeValue(timeZone)} is not known: use an IANA name such as "Europe/Berlin" or "UTC".`);
  }
}

/** UTC offset in seconds at `sec`, parsed from "GMT+01:00" (or "GMT" for zero). */
export function offsetAt(fmt: Intl.DateTimeFormat, sec: number): number {
  const name = fmt.formatToParts(new Date(sec * 1000)).find((p) => p.type === "timeZoneName")?.value ?? "GMT";
  const m = /^GMT([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(name);
  if (!m) return 0;
  const s = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return m[1] === "-" ? -s : s;
}

/** The first second at which the offset differs from the one at `lo` (lo < hi, offsets differ). */
export function bisect(fmt: Intl.DateTimeFormat, lo: number, hi: number): number {
  const before = offsetAt(fmt, lo);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(fmt, mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * System.Time SET: transitions are found with Node's built-in ICU (works offline) by
 * scanning day by day and bisecting to the second. The list starts with the rule in
 * force now, as real devices store it (trace timeRule lists). isDst = offset above
 * the zone's smallest offset in the window. A zone without DST gets one rule with its
 * fixed offset, or none for UTC+0.
 */
export function buildSystemTimePayload(nowSec: number, timeZone?: string): SystemTimePayload {
  if (typeof nowSec !== "number" || !Number.isFinite(nowSec) || nowSec < 0) {
    throw badInput(`The time ${describeValue(nowSec)} must be Unix epoch seconds.`);
  }
  const now = Math.floor(nowSec);
  const zone = timeZone ?? new Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
  if (typeof zone !== "string" || zone === "") throw badInput('The time zone must be an IANA name such as "Europe/Berlin".');
  const fmt = offsetFormatter(zone);
  const start = now - YEAR_S;
  const end = now + (YEARS_AHEAD + 1) * YEAR_S;
  const changes: Array<{ at: number; offset: number }> = [];
  let prevT = start;
  let prevOffset = offsetAt(fmt, start);
  let minOffset = prevOffset;
  for (let t = start + DAY_S; t <= end; t += DAY_S) {
    const off = offsetAt(fmt, t);
    if (off !== prevOffset) {
      const at = bisect(fmt, prevT, t);
      changes.push({ at, offset: offsetAt(fmt, at) });
      prevOffset = off;
    }
    minOffset = Math.min(minOffset, off);
    prevT = t;
  }
  let timeRule: TimeRule[];
  if (changes.length === 0) {
    const offset = offsetAt(fmt, now);
    timeRule = offset === 0 ? [] : [[start, offset, 0]];
  } else {
    const lastBefore = changes.filter((c) => c.at <= now).pop();
    const upcoming = changes.filter((c) => c.at > now && c.at <= now + YEARS_AHEAD * YEAR_S);
    const chosen = [lastBefore ?? { at: start, offset: offsetAt(fmt, start) }, ...upcoming];
    timeRule = chosen.map((c) => [c.at, c.offset, c.offset > minOffset ? 1 : 0]);
  }
  return { time: { timestamp: now, timezone: zone, timeRule } };
}
