/**
 * Codec of on-device schedules (docs/protocol.md §6.10, docs/protocol-devices.md §18):
 * Control.TimerX entries (switch at a time on some weekdays), Control.TriggerX entries
 * (switch off some time after the channel turned on) and their Digest lists. Device replies
 * are untrusted (BAD_RESPONSE); what a flow or the CLI asks for is checked in schedule-fields.ts.
 */
import { randomBytes } from "node:crypto";
import { badReply, describeValue, isObject, toNumber, type Json } from "./util";
import { sunRuleFromAlias, type SunRule } from "./sun-timer";

export const NS_TIMERX = "Appliance.Control.TimerX";
export const NS_TRIGGERX = "Appliance.Control.TriggerX";
export const NS_DIGEST_TIMERX = "Appliance.Digest.TimerX";
export const NS_DIGEST_TRIGGERX = "Appliance.Digest.TriggerX";

export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * `week` bit of each day. The sources disagree (docs/protocol-devices.md §18.2 ⚠): this follows
 * [AR], bit 0 = Sunday … bit 6 = Saturday, whose trigger sample (week 193) then reads as the
 * weekend. Every conversion goes through these two functions, so a hardware test that settles
 * the question changes one line.
 */
const DAY_BIT: Record<Weekday, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
/** Bit 7: set by both sources on repeating entries ("repeat weekly" in [DK]). */
export const WEEK_REPEAT = 0x80;

export function weekFromDays(days: readonly Weekday[]): number {
  return days.reduce((w, d) => w | (1 << DAY_BIT[d]), WEEK_REPEAT);
}

export function daysFromWeek(week: number): Weekday[] {
  return WEEKDAYS.filter((d) => (week & (1 << DAY_BIT[d])) !== 0);
}

/** Timer `type` 1 = weekly, 2 = once: the codes both sources agree on (§18.2). */
export const TIMER_TYPE_WEEKLY = 1;
/** TriggerX `type` on [AR]'s and [DK]'s samples of an auto-off rule ⚠. */
export const TRIGGER_TYPE_AUTO_OFF = 1;

/** One `{channel, id, count}` of a digest; count perhaps a revision counter ⚠ (§18.1). */
export interface DigestItem {
  channel: number;
  id: string;
  count: number;
}

export interface TimerEntry {
  id: string;
  channel: number;
  enabled: boolean;
  days: Weekday[];
  /** "HH:MM" local time of the device. */
  time: string;
  /** Minutes after local midnight, as on the wire (0–1439). */
  minutes: number;
  /** What the timer does: switch the channel on (true) or off (false). */
  on: boolean;
  alias: string;
  type: number;
  week: number;
  /** The firmware's own field, reported as the device stores it (its meaning is not known ⚠). */
  sunOffset: number;
  /** A sunrise/sunset timer: the rule its name carries, `time` being today's sun time (sun-timer.ts). */
  sun?: SunRule;
  duration: number;
  createTime?: number;
}

export interface TriggerEntry {
  id: string;
  channel: number;
  enabled: boolean;
  days: Weekday[];
  /** Minutes after the channel turns on before the device switches it off. */
  afterOnMinutes: number;
  /** The same delay as on the wire: seconds. */
  durationSeconds: number;
  alias: string;
  type: number;
  week: number;
  createTime?: number;
}

/** Ids are 16 characters picked by whoever creates the entry, not necessarily hex (§10.3). */
const ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
export function newScheduleId(): string {
  return [...randomBytes(16)].map((b) => ID_ALPHABET[b % ID_ALPHABET.length]).join("");
}

function idOf(v: unknown): string | undefined {
  if (typeof v === "string" && v !== "") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

function channelOf(v: unknown): number {
  const n = toNumber(v);
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : 0;
}

function flag(v: unknown, fallback: boolean): boolean {
  if (typeof v === "boolean") return v;
  const n = toNumber(v);
  return n === undefined ? fallback : n !== 0;
}

export function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

// ---- replies -------------------------------------------------------------------------

/** `{"digest": [...]}`; `{}` (mts200b [T …0C]) and `{"digest": {}}` mean none. */
export function parseDigest(payload: unknown, what: string): DigestItem[] {
  if (!isObject(payload)) throw badReply(what, "it is not an object", payload);
  const list = payload.digest;
  if (list === undefined || (isObject(list) && Object.keys(list).length === 0)) return [];
  if (!Array.isArray(list)) throw badReply(what, 'its "digest" is not a list', payload);
  return list.map((e) => {
    const id = isObject(e) ? idOf(e.id) : undefined;
    if (!isObject(e) || id === undefined) throw badReply(what, "a digest item has no id", payload);
    return { channel: channelOf(e.channel), id, count: toNumber(e.count) ?? 0 };
  });
}

export function parseTimerEntry(e: unknown, whole: unknown = e): TimerEntry {
  const what = "Control.TimerX";
  if (!isObject(e)) throw badReply(what, "an entry is not an object", whole);
  const id = idOf(e.id);
  if (id === undefined) throw badReply(what, "an entry has no id", whole);
  const minutes = toNumber(e.time);
  if (minutes === undefined || !Number.isInteger(minutes) || minutes < 0 || minutes > 1439) {
    throw badReply(what, `entry ${describeValue(id)} has no time between 0 and 1439 minutes`, whole);
  }
  const week = toNumber(e.week) ?? 0;
  const extend = isObject(e.extend) ? e.extend : {};
  const toggle = isObject(extend.toggle) ? extend.toggle : isObject(extend.togglex) ? extend.togglex : undefined;
  if (!toggle) throw badReply(what, `entry ${describeValue(id)} does not say whether it switches on or off`, whole);
  const entry: TimerEntry = {
    id,
    channel: channelOf(e.channel),
    enabled: flag(e.enable, true),
    days: daysFromWeek(week),
    time: hhmm(minutes),
    minutes,
    on: flag(toggle.onoff, false),
    alias: typeof e.alias === "string" ? e.alias : "",
    type: toNumber(e.type) ?? TIMER_TYPE_WEEKLY,
    week,
    sunOffset: toNumber(e.sunOffset) ?? 0,
    duration: toNumber(e.duration) ?? 0,
  };
  const created = toNumber(e.createTime);
  if (created !== undefined) entry.createTime = created;
  const sun = sunRuleFromAlias(entry.alias);
  if (sun) entry.sun = sun;
  return entry;
}

export function parseTriggerEntry(e: unknown, whole: unknown = e): TriggerEntry {
  const what = "Control.TriggerX";
  if (!isObject(e)) throw badReply(what, "an entry is not an object", whole);
  const id = idOf(e.id);
  if (id === undefined) throw badReply(what, "an entry has no id", whole);
  const rule = isObject(e.rule) ? e.rule : undefined;
  const seconds = rule ? toNumber(rule.duration) : undefined;
  if (!rule || seconds === undefined || seconds < 0) throw badReply(what, `entry ${describeValue(id)} has no delay (rule.duration)`, whole);
  const week = toNumber(rule.week) ?? 0;
  const entry: TriggerEntry = {
    id,
    channel: channelOf(e.channel),
    enabled: flag(e.enable, true),
    days: daysFromWeek(week),
    afterOnMinutes: Math.round((seconds / 60) * 100) / 100,
    durationSeconds: seconds,
    alias: typeof e.alias === "string" ? e.alias : "",
    type: toNumber(e.type) ?? TRIGGER_TYPE_AUTO_OFF,
    week,
  };
  const created = toNumber(e.createTime);
  if (created !== undefined) entry.createTime = created;
  return entry;
}

/**
 * GET by id answers `{timerx: {...}}` (or a one-element list); an unknown id, or a GET without
 * one, gets `{timerx: {}}` [T …05, …06]: undefined.
 */
export function parseEntryReply<T>(payload: unknown, key: "timerx" | "triggerx", parse: (e: unknown, whole: unknown) => T): T | undefined {
  if (!isObject(payload)) throw badReply(key === "timerx" ? "Control.TimerX" : "Control.TriggerX", "it is not an object", payload);
  let e = payload[key];
  if (Array.isArray(e)) e = e[0];
  if (e === undefined || (isObject(e) && Object.keys(e).length === 0)) return undefined;
  return parse(e, payload);
}

// ---- requests ------------------------------------------------------------------------

/** SET payload creating or replacing a timer (a new id creates, a known id replaces, §18.2). */
export function buildTimerXSet(t: TimerEntry, now: number): Json {
  return {
    timerx: {
      id: t.id,
      alias: t.alias,
      type: t.type,
      enable: t.enabled ? 1 : 0,
      channel: t.channel,
      createTime: t.createTime ?? now,
      week: t.week,
      time: t.minutes,
      sunOffset: t.sunOffset,
      duration: t.duration,
      extend: { toggle: { onoff: t.on ? 1 : 0, lmTime: 0 } },
    },
  };
}

export function buildTriggerXSet(t: TriggerEntry, now: number): Json {
  return {
    triggerx: {
      id: t.id,
      alias: t.alias,
      type: t.type,
      enable: t.enabled ? 1 : 0,
      channel: t.channel,
      createTime: t.createTime ?? now,
      rule: { week: t.week, duration: t.durationSeconds },
    },
  };
}
