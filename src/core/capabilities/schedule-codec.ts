/**
 * Codec of on-device schedules (docs/protocol.md §6.10, docs/protocol-devices.md §18):
 * Control.TimerX entries (switch at a time on some weekdays), Control.TriggerX entries
 * (switch off some time after the channel turned on) and their Digest lists. Device replies
 * are untrusted (BAD_RESPONSE); what a flow or the CLI asks for is checked here (BAD_INPUT).
 */
import { randomBytes } from "node:crypto";
import { badInput, badReply, describeValue, isObject, toNumber, type Json } from "./util";
import { sunRuleFromAlias, sunRuleOf, withSunTag, withoutSunTag, type SunRule } from "./sun-timer";

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

// ---- user input ----------------------------------------------------------------------

const DAY_WORDS: Record<string, Weekday[]> = {
  everyday: [...WEEKDAYS],
  daily: [...WEEKDAYS],
  weekdays: ["mon", "tue", "wed", "thu", "fri"],
  weekend: ["sat", "sun"],
};

function dayOf(v: unknown): Weekday | undefined {
  if (typeof v !== "string") return undefined;
  const t = v.trim().toLowerCase().slice(0, 3);
  return v.trim().length >= 3 && (WEEKDAYS as readonly string[]).includes(t) ? (t as Weekday) : undefined;
}

/** Day names ("mon", "Tuesday"), a list of them, "weekdays", "weekend" or "everyday"; default every day. */
export function parseDays(v: unknown): Weekday[] {
  if (v === undefined || v === null) return [...WEEKDAYS];
  const list = typeof v === "string" ? v.split(",") : v;
  if (!Array.isArray(list) || list.length === 0) {
    throw badInput(`The days ${describeValue(v)} must be a list of weekdays like ["mon","tue"], or "weekdays", "weekend" or "everyday".`);
  }
  const out = new Set<Weekday>();
  for (const item of list) {
    const word = typeof item === "string" ? DAY_WORDS[item.trim().toLowerCase()] : undefined;
    const day = dayOf(item);
    if (word) word.forEach((d) => out.add(d));
    else if (day) out.add(day);
    else throw badInput(`${describeValue(item)} is not a day of the week: use sun, mon, tue, wed, thu, fri or sat.`);
  }
  return WEEKDAYS.filter((d) => out.has(d));
}

/** "07:30" (24-hour clock) or minutes after midnight. */
export function parseTime(v: unknown): number {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 1439) return v;
  const m = typeof v === "string" ? /^\s*(\d{1,2}):(\d{2})\s*$/.exec(v) : null;
  if (m && Number(m[1]) <= 23 && Number(m[2]) <= 59) return Number(m[1]) * 60 + Number(m[2]);
  throw badInput(`The time ${describeValue(v)} is not a time of day: use "HH:MM" on a 24-hour clock, from "00:00" to "23:59".`);
}

export function parseChannel(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 0xffffffff) return v;
  throw badInput(`The channel ${describeValue(v)} must be a whole number, 0 or more (0 for a single-outlet plug or a bulb).`);
}

function parseOnOff(v: unknown, what: string): boolean {
  if (typeof v === "boolean") return v;
  if (v === 1 || v === "on") return true;
  if (v === 0 || v === "off") return false;
  throw badInput(`${what} ${describeValue(v)} must say what the timer does: true (switch on) or false (switch off).`);
}

function parseEnabled(v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v === "boolean") return v;
  throw badInput(`"enabled" ${describeValue(v)} must be true or false.`);
}

/** Longest name stored with an entry; a sun timer's tag ("@sunset-15") counts in it. */
const MAX_ALIAS = 64;

function parseAlias(v: unknown, fallback: string, sun?: SunRule): string {
  if (v === undefined) return fallback;
  const room = MAX_ALIAS - (sun ? withSunTag("", sun).length + 1 : 0);
  if (typeof v === "string" && v.length <= room) return v;
  throw badInput(`The name ${describeValue(v)} must be text of at most ${room} characters.`);
}

/** What a flow asks for a timer; every field optional when changing one. */
export interface TimerInput {
  days?: unknown;
  /** "07:30", minutes after midnight, or "sunrise"/"sunset" with an offset ("sunset-15"). */
  time?: unknown;
  on?: unknown;
  enabled?: unknown;
  channel?: unknown;
  name?: unknown;
  /** Minutes after (negative: before) sunrise or sunset, instead of `time`. */
  sunrise?: unknown;
  sunset?: unknown;
}

/** A sun rule the caller resolved against the device's sun times (sun-timer.ts). */
export interface ResolvedSun {
  rule: SunRule;
  /** Today's minute of it, on the device's clock. */
  minutes: number;
}

/**
 * Checked fields of a timer; a change starts from the entry the device holds. A sun timer
 * (`sunRuleOf(input)`) needs `sun`, resolved by the caller; a fixed "time" ends a sun rule.
 */
export function timerFromInput(input: unknown, base?: TimerEntry, sun?: ResolvedSun): TimerEntry {
  if (!isObject(input)) {
    throw badInput(`The timer ${describeValue(input)} must be an object like {"days":["mon"],"time":"07:30","on":true}.`);
  }
  const asked = sunRuleOf(input);
  if (asked && !sun) throw new Error("timerFromInput: a sun timer needs its resolved time");
  if (!base && input.time === undefined && !asked) throw badInput('A new timer needs a "time" like "07:30" or "sunset-15".');
  if (!base && input.on === undefined) throw badInput('A new timer needs "on": true (switch on) or false (switch off).');
  const minutes = sun ? sun.minutes : input.time === undefined ? base!.minutes : parseTime(input.time);
  // The rule stays while only other fields change; a fixed time replaces it.
  const rule = sun ? sun.rule : input.time === undefined ? base?.sun : undefined;
  const name = parseAlias(input.name, withoutSunTag(base?.alias ?? ""), rule);
  const days = input.days === undefined && base ? base.days : parseDays(input.days);
  const week = weekFromDays(days);
  const entry: TimerEntry = {
    id: base?.id ?? newScheduleId(),
    channel: input.channel === undefined && base ? base.channel : parseChannel(input.channel),
    enabled: input.enabled === undefined && base ? base.enabled : parseEnabled(input.enabled),
    days,
    time: hhmm(minutes),
    minutes,
    on: input.on === undefined ? base!.on : parseOnOff(input.on, '"on"'),
    alias: withSunTag(name, rule),
    type: base?.type ?? TIMER_TYPE_WEEKLY,
    week,
    sunOffset: base?.sunOffset ?? 0,
    duration: base?.duration ?? 0,
    createTime: base?.createTime,
  };
  if (rule) entry.sun = rule;
  return entry;
}

/** What a flow asks for an auto-off trigger. */
export interface TriggerInput {
  afterOnMinutes?: unknown;
  days?: unknown;
  enabled?: unknown;
  channel?: unknown;
  name?: unknown;
}

/** Longest auto-off delay accepted: a day (the field is seconds; no source gives a limit ⚠). */
const MAX_AFTER_ON_MINUTES = 24 * 60;

export function triggerFromInput(input: unknown, base?: TriggerEntry): TriggerEntry {
  if (!isObject(input)) throw badInput(`The trigger ${describeValue(input)} must be an object like {"afterOnMinutes":30}.`);
  let seconds = base?.durationSeconds;
  if (input.afterOnMinutes !== undefined || !base) {
    const m = input.afterOnMinutes;
    if (typeof m !== "number" || !Number.isFinite(m) || m <= 0 || m > MAX_AFTER_ON_MINUTES || !Number.isInteger(m * 60)) {
      throw badInput(
        `"afterOnMinutes" ${describeValue(m)} must be a number of minutes above 0 and at most ${MAX_AFTER_ON_MINUTES} (whole seconds), ` +
          "e.g. 30 to switch off 30 minutes after it turns on.",
      );
    }
    seconds = m * 60;
  }
  const days = input.days === undefined && base ? base.days : parseDays(input.days);
  return {
    id: base?.id ?? newScheduleId(),
    channel: input.channel === undefined && base ? base.channel : parseChannel(input.channel),
    enabled: input.enabled === undefined && base ? base.enabled : parseEnabled(input.enabled),
    days,
    afterOnMinutes: seconds! / 60,
    durationSeconds: seconds!,
    alias: parseAlias(input.name, base?.alias ?? ""),
    type: base?.type ?? TRIGGER_TYPE_AUTO_OFF,
    week: weekFromDays(days),
    createTime: base?.createTime,
  };
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

/** The id a delete or change names. */
export function parseId(v: unknown): string {
  if (typeof v === "string" && /^[0-9A-Za-z]{1,32}$/.test(v)) return v;
  throw badInput(`The id ${describeValue(v)} is not a timer or trigger id: use an "id" from the list this node outputs.`);
}
