/**
 * Garage door openers (msg100, msg200): Appliance.GarageDoor.State, .Config and
 * .MultipleConfig (docs/protocol-devices.md §11): codec, commands, reducer.
 *
 * The device reports a contact reading only (`open` 1 = not shut, §11.2); "opening" and
 * "closing" are what we know from our own command until the reading reaches the target.
 * A command goes out as a relay pulse, and a pulse on a moving door stops or reverses it
 * on firmware that does not check (§11.2, ML#272): so a command whose target the door is
 * already at, or moving to, is answered from the known state without sending anything.
 */
import { MerossError } from "../errors";
import type { Envelope } from "../protocol/message";
import type { CoverResult, CoverState } from "./cover";
import { noteCover } from "./cover";
import {
  modelOf,
  type Capability,
  type ChangeSource,
  type DeviceSession,
  type DeviceState,
  type MutableDeviceState,
  type Update,
} from "./types";
import { badReply, isObject, toNumber, type Json } from "./util";

export const NS_GARAGE_STATE = "Appliance.GarageDoor.State";
export const NS_GARAGE_CONFIG = "Appliance.GarageDoor.Config";
export const NS_GARAGE_MULTICONFIG = "Appliance.GarageDoor.MultipleConfig";

/** Travel time when the device does not say (docs/protocol-devices.md §11.5). */
export const DEFAULT_DOOR_MS = 30_000;

/** One channel's reading as the device reports it. */
export interface GarageReading {
  channel: number;
  open: boolean;
  lmTime?: number;
  /** SETACK only: 1 the relay pulsed, 0 nothing done (§11.2 ⚠). */
  execute?: number;
  /** msg200: 0 = door disabled in the app. */
  doorEnable?: number;
}

/** Door timing and options; durations in ms (§11.3). */
export interface GarageConfig {
  channel?: number;
  signalDuration?: number;
  buzzerEnable?: number;
  doorOpenDuration?: number;
  doorCloseDuration?: number;
  doorEnable?: number;
}

function channelOf(v: unknown): number | undefined {
  const n = toNumber(v);
  return n !== undefined && Number.isInteger(n) && n >= 0 && n < 256 ? n : undefined;
}

/** `state` is an object on msg100 fw 4.2.1 and a list on msg200 and in pushes (§11.2): accept both. */
export function parseGarageState(payload: unknown): GarageReading[] {
  const what = "GarageDoor.State";
  if (!isObject(payload)) throw badReply(what, "it is not an object", payload);
  const raw = payload.state;
  const list = Array.isArray(raw) ? raw : isObject(raw) ? [raw] : undefined;
  if (!list) throw badReply(what, 'it has no "state" field', payload);
  const out: GarageReading[] = [];
  for (const e of list) {
    if (!isObject(e)) throw badReply(what, "an entry is not an object", payload);
    const channel = channelOf(e.channel);
    const open = toNumber(e.open);
    if (channel === undefined || (open !== 0 && open !== 1)) throw badReply(what, "an entry has no channel or no open value 0/1", payload);
    const r: GarageReading = { channel, open: open === 1 };
    for (const k of ["lmTime", "execute", "doorEnable"] as const) {
      const v = toNumber(e[k]);
      if (v !== undefined) r[k] = v;
    }
    out.push(r);
  }
  return out.sort((a, b) => a.channel - b.channel);
}

/** GarageDoor.Config is one object; MultipleConfig a list per channel (§11.3). */
export function parseGarageConfig(payload: unknown): GarageConfig[] {
  const what = "GarageDoor config";
  if (!isObject(payload)) throw badReply(what, "it is not an object", payload);
  const raw = payload.config;
  const list = Array.isArray(raw) ? raw : isObject(raw) ? [raw] : undefined;
  if (!list) throw badReply(what, 'it has no "config" field', payload);
  return list.filter(isObject).map((e: Json) => {
    const c: GarageConfig = {};
    for (const k of ["channel", "signalDuration", "buzzerEnable", "doorOpenDuration", "doorCloseDuration", "doorEnable"] as const) {
      const v = toNumber(e[k]);
      if (v !== undefined && v >= 0) c[k] = v;
    }
    return c;
  });
}

/** The captured command form, without the uuid some clients add (§11.2 ⚠ both work). */
export function buildGarageSet(channel: number, open: boolean): { state: { channel: number; open: 0 | 1 } } {
  return { state: { channel, open: open ? 1 : 0 } };
}

// ---- reducer -------------------------------------------------------------------------

/**
 * A reading ends a transition we started only when the contact reaches its target; while
 * the door travels the old reading stays (the contact closes last when closing).
 */
export function garageFromReading(before: CoverState | undefined, r: GarageReading): CoverState {
  const base: CoverState = { kind: "garage", channel: r.channel, state: r.open ? "open" : "closed" };
  if (r.lmTime !== undefined) base.lmTime = r.lmTime;
  // A transition that outlived its travel time (blocked door, lost push) ends with the reading.
  const live = before?.until === undefined || before.until > Date.now();
  if (live && before?.state === "opening" && !r.open) return { ...base, state: "opening", until: before.until };
  if (live && before?.state === "closing" && r.open) return { ...base, state: "closing", until: before.until };
  return base;
}

/**
 * Multi-door openers (MultipleConfig in the ability list: msg200) number their doors 1..3 (§10.2);
 * a channel-0 item there is the bogus one msg200 pushes now and then (ML#428, §11.2): not a door.
 */
function doorsOnly(state: Pick<DeviceState, "abilities">, readings: GarageReading[]): GarageReading[] {
  return state.abilities && NS_GARAGE_MULTICONFIG in state.abilities ? readings.filter((r) => r.channel !== 0) : readings;
}

function noteReadings(readings: GarageReading[], source: ChangeSource): Update {
  return (state: MutableDeviceState) =>
    doorsOnly(state, readings).flatMap((r) => noteCover(state, garageFromReading(state.covers?.get(r.channel), r), source));
}

export const garageCapability: Capability = {
  name: "garage",
  namespaces: [NS_GARAGE_STATE, NS_GARAGE_CONFIG, NS_GARAGE_MULTICONFIG],
  reduce(env: Envelope, source: ChangeSource): Update | undefined {
    if (env.header.namespace !== NS_GARAGE_STATE) return undefined;
    return noteReadings(parseGarageState(env.payload), source);
  },
  /** One read returns every door (a multi-door opener has no door 0). */
  poll: async (s) => {
    if (!hasGarage(s)) return;
    const readings = parseGarageState((await s.request("GET", NS_GARAGE_STATE, { state: {} })).payload);
    s.commit(noteReadings(doorsOnly(s.state, readings), "reply"));
  },
};

// ---- commands ------------------------------------------------------------------------

export function hasGarage(s: Pick<DeviceSession, "has">): boolean {
  return s.has(NS_GARAGE_STATE);
}

function channelError(s: DeviceSession, channel: number, channels: number[]): MerossError {
  const list = channels.join(", ") || "none";
  const sentence = `Door ${channel} does not exist on this ${modelOf(s)}: it reports doors (channels) ${list}.`;
  return new MerossError("BAD_INPUT", sentence, { host: s.address });
}

/** Reads every door; answers the one on `channel`. */
export async function getGarage(s: DeviceSession, channel = 0): Promise<CoverState> {
  const readings = doorsOnly(s.state, parseGarageState((await s.request("GET", NS_GARAGE_STATE, { state: {} })).payload));
  s.commit(noteReadings(readings, "reply"));
  const mine = s.state.covers?.get(channel);
  if (!mine || !readings.some((r) => r.channel === channel))
    throw channelError(
      s,
      channel,
      readings.map((r) => r.channel),
    );
  return { ...mine };
}

/** Door travel time from GarageDoor.Config or MultipleConfig, else 30 s. */
export async function garageTravelMs(s: DeviceSession, channel: number, opening: boolean): Promise<number> {
  const ns = s.has(NS_GARAGE_MULTICONFIG) ? NS_GARAGE_MULTICONFIG : s.has(NS_GARAGE_CONFIG) ? NS_GARAGE_CONFIG : undefined;
  if (!ns) return DEFAULT_DOOR_MS;
  try {
    const list = parseGarageConfig((await s.request("GET", ns, { config: ns === NS_GARAGE_MULTICONFIG ? [{ channel }] : {} })).payload);
    const c = list.find((e) => e.channel === undefined || e.channel === channel);
    const ms = opening ? c?.doorOpenDuration : c?.doorCloseDuration;
    return ms && ms > 0 ? ms : DEFAULT_DOOR_MS;
  } catch {
    // The timing only paces a follow-up read; the command itself already succeeded.
    return DEFAULT_DOOR_MS;
  }
}

/** Opens or closes one door, unless it already is there or on its way (then nothing is sent). */
export async function setGarage(s: DeviceSession, channel: number, open: boolean): Promise<CoverResult> {
  // Always read first: over HTTP nothing tells us about a press on the wall button.
  const known = await getGarage(s, channel);
  const target = open ? "open" : "closed";
  const moving = open ? "opening" : "closing";
  if (known.state === target || known.state === moving) {
    const note = `The door is already ${known.state}, so nothing was sent (another pulse could stop or reverse it).`;
    return { ...known, sent: false, note };
  }
  // Read before the SET, so a push that ends the move cannot arrive before we record its start.
  const settleMs = await garageTravelMs(s, channel, open);
  const reply = await s.request("SET", NS_GARAGE_STATE, buildGarageSet(channel, open));
  // The SETACK carries the reading before the command plus `execute` (§11.2); some firmware answers `{}`.
  let before: GarageReading | undefined;
  try {
    before = parseGarageState(reply.payload).find((r) => r.channel === channel);
  } catch {
    before = undefined;
  }
  if (before && before.execute === 0) {
    s.commit(noteReadings([before], "reply"));
    const now = s.state.covers?.get(channel) ?? known;
    return { ...now, sent: true, note: "The device did nothing: it reports the door is already where it was asked to go." };
  }
  // Half as long again as the travel time before a transition no reading ended is dropped.
  const next: CoverState = { kind: "garage", channel, state: moving, until: Date.now() + settleMs * 1.5 };
  s.commit((st) => noteCover(st, next, "reply"));
  return { ...next, sent: true, settleMs };
}
