/**
 * Roller shutters (mrs100): Appliance.RollerShutter.State, .Position and .Config
 * (docs/protocol-devices.md §12): codec, commands, reducer.
 *
 * Position 0 is fully closed and 100 fully open; a SET of 100 opens, 0 closes, -1 stops and
 * 1–99 goes there (§12.2). The motor's movement comes from State (0 idle, 1 opening, 2 closing).
 */
import type { Envelope } from "../protocol/message";
import type { CoverMotion, CoverResult, CoverState } from "./cover";
import { noteCover } from "./cover";
import type { Capability, ChangeSource, DeviceSession, MutableDeviceState, Update } from "./types";
import { badReply, isObject, toNumber, type Json } from "./util";

export const NS_ROLLER_STATE = "Appliance.RollerShutter.State";
export const NS_ROLLER_POSITION = "Appliance.RollerShutter.Position";
export const NS_ROLLER_CONFIG = "Appliance.RollerShutter.Config";

/** The stop value of a Position SET (§12.2). */
export const ROLLER_STOP = -1;
/** Full travel when Config cannot be read: the fw 2.1.2 capture's 50 s (§12.2). */
export const DEFAULT_ROLLER_MS = 50_000;

export interface RollerMovement {
  channel: number;
  /** 0 idle, 1 opening, 2 closing. */
  state: number;
  stoppedBy?: number;
}

export interface RollerPosition {
  channel: number;
  position: number;
}

export interface RollerConfig {
  channel: number;
  /** Full travel times in ms. */
  signalOpen?: number;
  signalClose?: number;
}

function channelOf(v: unknown): number | undefined {
  const n = toNumber(v);
  return n !== undefined && Number.isInteger(n) && n >= 0 && n < 256 ? n : undefined;
}

/** Every roller reply puts its items in a list under one key; single objects are accepted too. */
function items(payload: unknown, key: string, what: string): Json[] {
  if (!isObject(payload)) throw badReply(what, "it is not an object", payload);
  const raw = payload[key];
  const list = Array.isArray(raw) ? raw : isObject(raw) ? [raw] : undefined;
  if (!list) throw badReply(what, `it has no "${key}" field`, payload);
  return list.map((e) => {
    if (!isObject(e) || channelOf(e.channel) === undefined) throw badReply(what, "an entry has no channel", payload);
    return e;
  });
}

export function parseRollerState(payload: unknown): RollerMovement[] {
  return items(payload, "state", "RollerShutter.State").map((e) => {
    const state = toNumber(e.state);
    if (state !== 0 && state !== 1 && state !== 2) throw badReply("RollerShutter.State", "a state is not 0, 1 or 2", payload);
    const m: RollerMovement = { channel: channelOf(e.channel) as number, state };
    const by = toNumber(e.stoppedBy);
    if (by !== undefined) m.stoppedBy = by;
    return m;
  });
}

export function parseRollerPosition(payload: unknown): RollerPosition[] {
  return items(payload, "position", "RollerShutter.Position").map((e) => {
    const p = toNumber(e.position);
    if (p === undefined || p < 0 || p > 100) throw badReply("RollerShutter.Position", "a position is not within 0–100", payload);
    return { channel: channelOf(e.channel) as number, position: Math.round(p) };
  });
}

export function parseRollerConfig(payload: unknown): RollerConfig[] {
  return items(payload, "config", "RollerShutter.Config").map((e) => {
    const c: RollerConfig = { channel: channelOf(e.channel) as number };
    const open = toNumber(e.signalOpen);
    const close = toNumber(e.signalClose);
    if (open !== undefined && open > 0) c.signalOpen = open;
    if (close !== undefined && close > 0) c.signalClose = close;
    return c;
  });
}

/** The SET every captured firmware takes: one object, -1 to stop (§12.2). */
export function buildRollerPosition(channel: number, position: number): { position: { channel: number; position: number } } {
  return { position: { channel, position } };
}

// ---- reducer -------------------------------------------------------------------------

/** Idle: fully open, fully closed, or stopped somewhere in between. */
function restingState(position: number | undefined): CoverMotion {
  return position === 100 ? "open" : position === 0 ? "closed" : "stopped";
}

function blank(channel: number): CoverState {
  return { kind: "roller", channel, state: "stopped" };
}

export function rollerWithMovement(before: CoverState | undefined, m: RollerMovement): CoverState {
  const base = { ...(before?.kind === "roller" ? before : blank(m.channel)) };
  delete base.until;
  base.state = m.state === 1 ? "opening" : m.state === 2 ? "closing" : restingState(base.position);
  if (m.stoppedBy !== undefined) base.stoppedBy = m.stoppedBy;
  else delete base.stoppedBy;
  return base;
}

export function rollerWithPosition(before: CoverState | undefined, p: RollerPosition): CoverState {
  const base = { ...(before?.kind === "roller" ? before : blank(p.channel)), position: p.position };
  if (base.state !== "opening" && base.state !== "closing") base.state = restingState(p.position);
  return base;
}

function noteMovements(list: RollerMovement[], source: ChangeSource): Update {
  return (st: MutableDeviceState) => list.flatMap((m) => noteCover(st, rollerWithMovement(st.covers?.get(m.channel), m), source));
}

function notePositions(list: RollerPosition[], source: ChangeSource): Update {
  return (st: MutableDeviceState) => list.flatMap((p) => noteCover(st, rollerWithPosition(st.covers?.get(p.channel), p), source));
}

export const rollerCapability: Capability = {
  name: "roller",
  namespaces: [NS_ROLLER_STATE, NS_ROLLER_POSITION, NS_ROLLER_CONFIG],
  reduce(env: Envelope, source: ChangeSource): Update | undefined {
    const ns = env.header.namespace;
    if (ns === NS_ROLLER_STATE) return noteMovements(parseRollerState(env.payload), source);
    if (ns === NS_ROLLER_POSITION) return notePositions(parseRollerPosition(env.payload), source);
    return undefined;
  },
  /** Every shutter's position, then movement. */
  poll: async (s) => {
    if (!hasRoller(s)) return;
    s.commit(notePositions(parseRollerPosition((await s.request("GET", NS_ROLLER_POSITION, { position: [] })).payload), "reply"));
    if (s.has(NS_ROLLER_STATE)) {
      s.commit(noteMovements(parseRollerState((await s.request("GET", NS_ROLLER_STATE, { state: [] })).payload), "reply"));
    }
  },
};

// ---- commands ------------------------------------------------------------------------

export function hasRoller(s: Pick<DeviceSession, "has">): boolean {
  return s.has(NS_ROLLER_POSITION);
}

/** Position first, then movement, so an idle shutter is named after where it stands. */
export async function getRoller(s: DeviceSession, channel = 0): Promise<CoverState> {
  const positions = parseRollerPosition((await s.request("GET", NS_ROLLER_POSITION, { position: [] })).payload);
  s.commit(notePositions(positions, "reply"));
  if (s.has(NS_ROLLER_STATE)) {
    s.commit(noteMovements(parseRollerState((await s.request("GET", NS_ROLLER_STATE, { state: [] })).payload), "reply"));
  }
  const mine = s.state.covers?.get(channel);
  if (!mine || !positions.some((p) => p.channel === channel)) {
    const list = positions.map((p) => p.channel).join(", ") || "none";
    throw badReply("RollerShutter.Position", `it has no channel ${channel}, only ${list}`);
  }
  return { ...mine };
}

async function travelMs(s: DeviceSession, channel: number, opening: boolean): Promise<number> {
  if (!s.has(NS_ROLLER_CONFIG)) return DEFAULT_ROLLER_MS;
  try {
    const c = parseRollerConfig((await s.request("GET", NS_ROLLER_CONFIG, { config: [] })).payload).find((e) => e.channel === channel);
    return (opening ? c?.signalOpen : c?.signalClose) ?? DEFAULT_ROLLER_MS;
  } catch {
    // Timing only paces a follow-up read.
    return DEFAULT_ROLLER_MS;
  }
}

/** Sends the position (ROLLER_STOP stops), then reads back where the shutter is and where it goes. */
export async function setRoller(s: DeviceSession, channel: number, position: number): Promise<CoverResult> {
  const from = s.state.covers?.get(channel)?.position;
  await s.request("SET", NS_ROLLER_POSITION, buildRollerPosition(channel, position));
  const now = await getRoller(s, channel);
  if (position === ROLLER_STOP || (now.state !== "opening" && now.state !== "closing")) return { ...now, sent: true };
  const start = now.position ?? from ?? (now.state === "opening" ? 0 : 100);
  const full = await travelMs(s, channel, now.state === "opening");
  // A short move may have ended (and been pushed) while Config was read: answer with the latest.
  const latest = s.state.covers?.get(channel) ?? now;
  if (latest.state !== "opening" && latest.state !== "closing") return { ...latest, sent: true };
  return { ...latest, sent: true, settleMs: Math.round((full * Math.abs(position - start)) / 100) };
}
