/**
 * What a flow or the CLI asks of on-device schedules, checked field by field (BAD_INPUT with a
 * sentence naming the value): days, times (fixed or sun-relative), on/off, channel, name, and
 * the auto-off delay. The wire format is schedule-codec.ts's.
 */
import {
  TIMER_TYPE_WEEKLY,
  TRIGGER_TYPE_AUTO_OFF,
  WEEKDAYS,
  hhmm,
  newScheduleId,
  weekFromDays,
  type TimerEntry,
  type TriggerEntry,
  type Weekday,
} from "./schedule-codec";
import { sunRuleOf, withSunTag, withoutSunTag, type SunRule } from "./sun-timer";
import { badInput, describeValue, isObject } from "./util";

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

/** The id a delete or change names. */
export function parseId(v: unknown): string {
  if (typeof v === "string" && /^[0-9A-Za-z]{1,32}$/.test(v)) return v;
  throw badInput(`The id ${describeValue(v)} is not a timer or trigger id: use an "id" from the list this node outputs.`);
}
