/**
 * On-device schedules (docs/protocol.md §6.10, docs/protocol-devices.md §18): weekly on/off
 * timers (Control.TimerX) and auto-off triggers (Control.TriggerX). The device runs them on
 * its own clock, so they keep working while Node-RED is stopped. Entries are addressed by id
 * and found through the Digest namespaces; the codec is in schedule-codec.ts, the checks of what a flow asks in schedule-fields.ts.
 */
import { MerossError, explain } from "../errors";
import type { Envelope } from "../protocol/message";
import { nowSeconds } from "../protocol/message";
import {
  NS_DIGEST_TIMERX,
  NS_DIGEST_TRIGGERX,
  NS_TIMERX,
  NS_TRIGGERX,
  buildTimerXSet,
  buildTriggerXSet,
  parseDigest,
  parseEntryReply,
  parseTimerEntry,
  parseTriggerEntry,
  type DigestItem,
  type TimerEntry,
  type TriggerEntry,
} from "./schedule-codec";
import { parseChannel, parseId, timerFromInput, triggerFromInput, type ResolvedSun } from "./schedule-fields";
import { sunClock, sunMinutes, sunRuleOf, type Place, type SunClock } from "./sun-timer";
import { modelOf, type Capability, type ChangeSource, type DeviceSession, type SystemDigest, type Update } from "./types";
import { badInput, describeValue, isObject } from "./util";

declare module "./types" {
  interface MutableDeviceState {
    /**
     * Timer and trigger ids from the System.All digest, for firmware without Digest.TimerX /
     * Digest.TriggerX (§18.1); kept current by this module's own adds and deletes.
     */
    scheduleDigest?: { timer: DigestItem[]; trigger: DigestItem[] };
  }
  interface CapabilityEvents {
    /** The device's timers or auto-off triggers changed; nothing is cached, re-read them. */
    schedule: { kind: "timer" | "trigger"; source?: ChangeSource };
  }
}

export * from "./schedule-codec";
export * from "./schedule-fields";
export * from "./sun-timer";

/** For sunrise/sunset timers: where the device is, when the device itself does not know (sun-timer.ts). */
export interface SunOptions {
  place?: Place;
  /** The time "today" is taken from (tests); default now. */
  nowMs?: number;
}

/** The input's sun rule resolved to today's minute on the device's clock, or undefined for a fixed time. */
async function resolveSun(s: DeviceSession, input: unknown, opts: SunOptions): Promise<ResolvedSun | undefined> {
  const rule = isObject(input) ? sunRuleOf(input) : undefined;
  if (!rule) return undefined;
  return { rule, minutes: sunMinutes(await sunClock(s, opts.place, opts.nowMs), rule) };
}

export type ScheduleKind = "timer" | "trigger";

/** Everything programmed on a device, timers and auto-off triggers, sorted by channel then time. */
export interface ScheduleList {
  timers: TimerEntry[];
  triggers: TriggerEntry[];
}

const KINDS = {
  timer: { ns: NS_TIMERX, digest: NS_DIGEST_TIMERX, key: "timerx" },
  trigger: { ns: NS_TRIGGERX, digest: NS_DIGEST_TRIGGERX, key: "triggerx" },
} as const;

export function hasSchedules(s: Pick<DeviceSession, "has">): boolean {
  return s.has(NS_TIMERX) || s.has(NS_TRIGGERX);
}

/** Whether the ability list allows sunrise/sunset offsets on timers (`sunOffsetSupport`, §18.2). */
export function supportsSunOffset(s: Pick<DeviceSession, "state">): boolean {
  const a = s.state.abilities?.[NS_TIMERX];
  return isObject(a) && Number(a.sunOffsetSupport) === 1;
}

function requireKind(s: DeviceSession, kind: ScheduleKind, method: string): void {
  const ns = KINDS[kind].ns;
  if (s.has(ns)) return;
  const what = kind === "timer" ? "on/off timers" : "auto-off triggers";
  throw new MerossError("UNSUPPORTED", explain.unsupported(s.address, method, ns, `this ${modelOf(s)} has no ${what}`), {
    host: s.address,
    namespace: ns,
  });
}

/** The digest of one kind; without its Digest namespace, the same list from System.All (§18.1). */
async function digestOf(s: DeviceSession, kind: ScheduleKind): Promise<DigestItem[]> {
  const k = KINDS[kind];
  if (s.has(k.digest)) return parseDigest((await s.request("GET", k.digest, { digest: [] })).payload, k.digest.slice(10));
  return [...(s.state.scheduleDigest?.[kind] ?? [])];
}

/** The System.All digest's timerx/triggerx lists (read once per session, in ready()). */
function readScheduleDigest(all: SystemDigest): Update | undefined {
  const { timerx, triggerx } = all.digest;
  if (timerx === undefined && triggerx === undefined) return undefined;
  let lists: { timer: DigestItem[]; trigger: DigestItem[] };
  try {
    lists = { timer: parseDigest({ digest: timerx ?? [] }, "System.All"), trigger: parseDigest({ digest: triggerx ?? [] }, "System.All") };
  } catch {
    // An odd schedule list must not fail the device's first read: its timers just list as none.
    return undefined;
  }
  return (state) => {
    state.scheduleDigest = lists;
    return [];
  };
}

/** Keeps the System.All copy of the ids current after our own add or delete. */
function noteDigest(s: DeviceSession, kind: ScheduleKind, id: string, channel?: number): void {
  if (s.has(KINDS[kind].digest)) return;
  s.commit((state) => {
    const lists = (state.scheduleDigest ??= { timer: [], trigger: [] });
    lists[kind] = lists[kind].filter((d) => d.id !== id);
    if (channel !== undefined) lists[kind].push({ channel, id, count: 0 });
    return [];
  });
}

async function getEntry(s: DeviceSession, kind: "timer", id: string): Promise<TimerEntry | undefined>;
async function getEntry(s: DeviceSession, kind: "trigger", id: string): Promise<TriggerEntry | undefined>;
async function getEntry(s: DeviceSession, kind: ScheduleKind, id: string): Promise<TimerEntry | TriggerEntry | undefined> {
  const k = KINDS[kind];
  // A GET must name the id: without one firmware answers an empty object (§18.2).
  const reply = await s.request("GET", k.ns, { [k.key]: { id } });
  return kind === "timer"
    ? parseEntryReply(reply.payload, "timerx", parseTimerEntry)
    : parseEntryReply(reply.payload, "triggerx", parseTriggerEntry);
}

/** Every timer and trigger of the device (of one channel when given). */
export async function listSchedules(s: DeviceSession, channel?: number): Promise<ScheduleList> {
  await s.ready();
  if (!hasSchedules(s)) requireKind(s, "timer", "GET");
  const want = channel === undefined ? undefined : parseChannel(channel);
  const out: ScheduleList = { timers: [], triggers: [] };
  if (s.has(NS_TIMERX)) {
    for (const d of await digestOf(s, "timer")) {
      if (want !== undefined && d.channel !== want) continue;
      const t = await getEntry(s, "timer", d.id);
      if (t) out.timers.push(t);
    }
  }
  if (s.has(NS_TRIGGERX)) {
    for (const d of await digestOf(s, "trigger")) {
      if (want !== undefined && d.channel !== want) continue;
      const t = await getEntry(s, "trigger", d.id);
      if (t) out.triggers.push(t);
    }
  }
  out.timers.sort((a, b) => a.channel - b.channel || a.minutes - b.minutes || a.id.localeCompare(b.id));
  out.triggers.sort((a, b) => a.channel - b.channel || a.id.localeCompare(b.id));
  return out;
}

/**
 * Creates a weekly timer from flow input (`{days, time, on, channel?, enabled?, name?}`);
 * `time: "sunset-15"` (or `sunrise`/`sunset` minutes) makes a sunrise/sunset timer.
 */
export async function addTimer(s: DeviceSession, input: unknown, opts: SunOptions = {}): Promise<TimerEntry> {
  await s.ready();
  requireKind(s, "timer", "SET");
  const entry = timerFromInput(input, undefined, await resolveSun(s, input, opts));
  await s.request("SET", NS_TIMERX, buildTimerXSet(entry, nowSeconds()));
  noteDigest(s, "timer", entry.id, entry.channel);
  return entry;
}

/** Creates an auto-off trigger from flow input (`{afterOnMinutes, channel?, days?, enabled?, name?}`). */
export async function addTrigger(s: DeviceSession, input: unknown): Promise<TriggerEntry> {
  await s.ready();
  requireKind(s, "trigger", "SET");
  const entry = triggerFromInput(input);
  await s.request("SET", NS_TRIGGERX, buildTriggerXSet(entry, nowSeconds()));
  noteDigest(s, "trigger", entry.id, entry.channel);
  return entry;
}

/** Which kind an id is, read from the digests; BAD_INPUT when the device has no such entry. */
async function kindOf(s: DeviceSession, id: string): Promise<ScheduleKind> {
  for (const kind of ["timer", "trigger"] as const) {
    if (s.has(KINDS[kind].ns) && (await digestOf(s, kind)).some((d) => d.id === id)) return kind;
  }
  throw badInput(`This ${modelOf(s)} has no timer or trigger with id ${describeValue(id)}: list them to see the ids it holds.`);
}

/** Replaces the fields `input` names in the entry with this id; the rest stays as the device holds it. */
export async function changeSchedule(
  s: DeviceSession,
  idValue: unknown,
  input: unknown,
  opts: SunOptions = {},
): Promise<TimerEntry | TriggerEntry> {
  await s.ready();
  if (!hasSchedules(s)) requireKind(s, "timer", "SET");
  const id = parseId(idValue);
  const kind = await kindOf(s, id);
  const gone = (): MerossError =>
    badInput(`The ${kind} ${describeValue(id)} disappeared from this ${modelOf(s)} while it was being changed.`);
  if (kind === "timer") {
    const base = await getEntry(s, "timer", id);
    if (!base) throw gone();
    const entry = timerFromInput(input, base, await resolveSun(s, input, opts));
    await s.request("SET", NS_TIMERX, buildTimerXSet(entry, nowSeconds()));
    return entry;
  }
  const base = await getEntry(s, "trigger", id);
  if (!base) throw gone();
  const entry = triggerFromInput(input, base);
  await s.request("SET", NS_TRIGGERX, buildTriggerXSet(entry, nowSeconds()));
  return entry;
}

/** What re-timing the sunrise/sunset timers did. */
export interface RetimeResult {
  /** Timers moved to today's sun time. */
  moved: TimerEntry[];
  /** Sun timers left as they were, with the reason (no place known, the offset leaves the day…). */
  skipped: { id: string; alias: string; reason: string }[];
}

/**
 * Moves every sunrise/sunset timer of the device to today's sun time (sun-timer.ts); one SET
 * per timer whose time changed, nothing when none did. Reads nothing more than the digest and
 * the entries when the device holds no sun timer.
 */
export async function retimeSunTimers(s: DeviceSession, opts: SunOptions = {}): Promise<RetimeResult> {
  await s.ready();
  const out: RetimeResult = { moved: [], skipped: [] };
  if (!s.has(NS_TIMERX)) return out;
  const sunTimers = (await listSchedules(s)).timers.filter((t) => t.sun);
  if (sunTimers.length === 0) return out;
  let clock: SunClock;
  try {
    clock = await sunClock(s, opts.place, opts.nowMs);
  } catch (err) {
    if (!(err instanceof MerossError) || err.code !== "BAD_INPUT") throw err;
    out.skipped = sunTimers.map((t) => ({ id: t.id, alias: t.alias, reason: err.message }));
    return out;
  }
  for (const t of sunTimers) {
    let minutes: number;
    try {
      minutes = sunMinutes(clock, t.sun!);
    } catch (err) {
      if (!(err instanceof MerossError)) throw err;
      out.skipped.push({ id: t.id, alias: t.alias, reason: err.message });
      continue;
    }
    if (minutes === t.minutes) continue;
    const entry = timerFromInput({}, t, { rule: t.sun!, minutes });
    await s.request("SET", NS_TIMERX, buildTimerXSet(entry, nowSeconds()));
    out.moved.push(entry);
  }
  return out;
}

/** What a delete did: removed the entry, or (firmware without DELETE) only paused it. */
export interface DeleteResult {
  kind: ScheduleKind;
  /** false: the device refused DELETE, so the entry was disabled (`enable: 0`) instead and is still listed. */
  deleted: boolean;
}

/**
 * Removes an entry. Only [DK] shows how: the method DELETE with `{timerx: {id}}` (§18.2 ⚠).
 * Firmware that refuses it (ERROR 5000) gets the safe fallback of docs/protocol-devices.md §19:
 * the entry is disabled, so it stops running, and the result says it was not removed.
 */
export async function deleteSchedule(s: DeviceSession, idValue: unknown): Promise<DeleteResult> {
  await s.ready();
  if (!hasSchedules(s)) requireKind(s, "timer", "DELETE");
  const id = parseId(idValue);
  const kind = await kindOf(s, id);
  const k = KINDS[kind];
  try {
    await s.request("DELETE", k.ns, { [k.key]: { id } });
    noteDigest(s, kind, id);
    return { kind, deleted: true };
  } catch (err) {
    if (!(err instanceof MerossError) || err.code !== "UNSUPPORTED") throw err;
  }
  await changeSchedule(s, id, { enabled: false });
  return { kind, deleted: false };
}

// ---- reducer -------------------------------------------------------------------------

/**
 * A push of any of these namespaces means the device's schedules changed (the app, or an
 * entry that ran once). Nothing is cached: listeners hear which kind changed and re-read.
 */
function scheduleChanged(env: Envelope, source: ChangeSource): Update | undefined {
  const ns = env.header.namespace;
  const isTimer = ns === NS_TIMERX || ns === NS_DIGEST_TIMERX;
  const kind: ScheduleKind | undefined = isTimer ? "timer" : ns === NS_TRIGGERX || ns === NS_DIGEST_TRIGGERX ? "trigger" : undefined;
  if (!kind || !isObject(env.payload)) return undefined;
  return () => [{ type: "schedule", kind, source }];
}

export const scheduleCapability: Capability = {
  name: "schedule",
  namespaces: [NS_TIMERX, NS_TRIGGERX, NS_DIGEST_TIMERX, NS_DIGEST_TRIGGERX],
  reduce: scheduleChanged,
  digest: readScheduleDigest,
};
