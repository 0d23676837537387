/**
 * On/off capability: Appliance.Control.ToggleX (newer firmware, docs/protocol.md §6.5) and
 * the legacy Appliance.Control.Toggle of MT7688 plugs (§6.6): codec, commands, reducer, plus
 * the loose on/off input a flow may send.
 */
import { MerossError, explain } from "../errors";
import type { Envelope } from "../protocol/message";
import { MAX_CHANNELS } from "../protocol/rules";
import {
  modelOf,
  type Capability,
  type ChangeSource,
  type DeviceEvent,
  type DeviceSession,
  type MutableDeviceState,
  type SystemDigest,
  type Update,
} from "./types";
import { badInput, badReply, describeValue, isObject, toNumber } from "./util";

export const NS_TOGGLEX = "Appliance.Control.ToggleX";
export const NS_TOGGLE = "Appliance.Control.Toggle";

declare module "./types" {
  interface MutableDeviceState {
    /** Last known on/off per channel. */
    toggles: Map<number, boolean>;
  }
  interface CapabilityEvents {
    toggle: { channel: number; on: boolean; source?: ChangeSource };
  }
}

/** One outlet (or bulb) on/off; lmTime is the epoch of its last change when the device reports it. */
export interface ChannelState {
  channel: number;
  on: boolean;
  lmTime?: number;
}

/** List-style ToggleX replies carry an outer channel 0xFFFFFFFF meaning "all" (mss305 trace). */
const ALL_CHANNELS = 0xffffffff;

function onoffOf(v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v;
  const n = toNumber(v);
  return n === undefined ? undefined : n !== 0;
}

function entryState(e: unknown, fallbackChannel: number, what: string, whole: unknown): ChannelState {
  if (!isObject(e)) throw badReply(what, "an entry is not an object", whole);
  const on = onoffOf(e.onoff);
  if (on === undefined) throw badReply(what, "an entry has no onoff value", whole);
  const ch = toNumber(e.channel);
  const state: ChannelState = {
    channel: ch !== undefined && Number.isInteger(ch) && ch >= 0 && ch !== ALL_CHANNELS ? ch : fallbackChannel,
    on,
  };
  const lm = toNumber(e.lmTime);
  if (lm !== undefined) state.lmTime = lm;
  return state;
}

/**
 * GET replies come as an object or a list depending on firmware, PUSHes and the
 * System.All digest as a list (§6.5); `{channel: 0}` alone (mrs100) means no state.
 */
export function parseToggleXPayload(payload: unknown): ChannelState[] {
  const what = "Control.ToggleX";
  if (Array.isArray(payload)) return payload.map((e) => entryState(e, 0, what, payload)).sort((a, b) => a.channel - b.channel);
  if (!isObject(payload)) throw badReply(what, "it is not an object", payload);
  const outer = toNumber(payload.channel);
  const fallback = outer !== undefined && Number.isInteger(outer) && outer >= 0 && outer !== ALL_CHANNELS ? outer : 0;
  const t = payload.togglex;
  if (t === undefined) {
    if (outer !== undefined) return [];
    throw badReply(what, 'it has no "togglex" field', payload);
  }
  const list = Array.isArray(t) ? t : [t];
  return list.map((e) => entryState(e, fallback, what, payload)).sort((a, b) => a.channel - b.channel);
}

/** Legacy `{toggle: {onoff, lmTime}}` (GET, PUSH, System.All control block): one channel. */
export function parseTogglePayload(payload: unknown): ChannelState[] {
  const what = "Control.Toggle";
  if (!isObject(payload) || !isObject(payload.toggle)) throw badReply(what, 'it has no "toggle" object', payload);
  const outer = toNumber(payload.channel);
  return [entryState(payload.toggle, outer !== undefined && Number.isInteger(outer) && outer >= 0 ? outer : 0, what, payload)];
}

function checkChannel(channel: unknown): number {
  if (typeof channel !== "number" || !Number.isInteger(channel) || channel < 0 || channel >= ALL_CHANNELS) {
    throw badInput(`The channel ${describeValue(channel)} must be a whole number, 0 or more (0 for a single-outlet plug or a bulb).`);
  }
  return channel;
}

/** ToggleX SET is a single object on every traced firmware (§6.5). */
export function buildToggleXSet(channel: number, on: boolean): { togglex: { channel: number; onoff: 0 | 1 } } {
  return { togglex: { channel: checkChannel(channel), onoff: on ? 1 : 0 } };
}

/** Legacy SET keeps the channel outside the toggle object (§6.6, [AR]). */
export function buildToggleSet(channel: number, on: boolean): { channel: number; toggle: { onoff: 0 | 1 } } {
  return { channel: checkChannel(channel), toggle: { onoff: on ? 1 : 0 } };
}

const ON_WORDS = new Set(["on", "true", "1", "yes"]);
const OFF_WORDS = new Set(["off", "false", "0", "no"]);

/**
 * Loose on/off from msg.payload. undefined means "not an on/off value": the caller
 * then decides (e.g. reads state, or treats the message as a trigger).
 */
export function parseOnOffInput(input: unknown): boolean | "toggle" | undefined {
  if (typeof input === "boolean") return input;
  if (typeof input === "number") return input === 1 ? true : input === 0 ? false : undefined;
  if (typeof input === "string") {
    const t = input.trim().toLowerCase();
    if (ON_WORDS.has(t)) return true;
    if (OFF_WORDS.has(t)) return false;
    if (t === "toggle") return "toggle";
  }
  return undefined;
}

// ---- reducer -------------------------------------------------------------------------

/** Records on/off of one channel (ours or pushed); the light of that channel follows. */
export function noteToggle(state: MutableDeviceState, channel: number, on: boolean, source: ChangeSource = "reply"): DeviceEvent[] {
  const before = state.toggles.get(channel);
  state.toggles.set(channel, on);
  if (state.light && state.light.channel === channel) state.light = { ...state.light, on };
  return before === on ? [] : [{ type: "toggle", channel, on, source }];
}

/** One change per channel (the last entry wins), channels beyond MAX_CHANNELS ignored. */
function noteAll(states: ChannelState[], source: ChangeSource): Update {
  const last = new Map<number, boolean>();
  for (const t of states) if (t.channel < MAX_CHANNELS) last.set(t.channel, t.on);
  return (state) => [...last].flatMap(([channel, on]) => noteToggle(state, channel, on, source));
}

export const toggleCapability: Capability = {
  name: "toggle",
  namespaces: [NS_TOGGLEX, NS_TOGGLE],
  reduce(env: Envelope, source: ChangeSource): Update | undefined {
    const ns = env.header.namespace;
    if (ns === NS_TOGGLEX) return noteAll(parseToggleXPayload(env.payload), source);
    if (ns === NS_TOGGLE) return noteAll(parseTogglePayload(env.payload), source);
    return undefined;
  },
  digest: readToggleDigest,
  poll: pollToggles,
};

/** digest.togglex of current firmware, or the legacy control.toggle of MT7688 firmware (§6.6). */
function readToggleDigest(all: SystemDigest): Update | undefined {
  if (all.digest.togglex !== undefined) return noteAll(parseToggleXPayload({ togglex: all.digest.togglex }), "reply");
  if (all.control.toggle !== undefined) return noteAll(parseTogglePayload({ toggle: all.control.toggle }), "reply");
  return undefined;
}

/** Every channel known (channel 0 when none is yet). */
async function pollToggles(s: DeviceSession): Promise<void> {
  if (!hasToggle(s)) return;
  const channels = s.state.toggles.size > 0 ? [...s.state.toggles.keys()] : [0];
  for (const ch of channels) await getToggle(s, ch);
}

// ---- commands ------------------------------------------------------------------------

/** Whether on/off goes through legacy Control.Toggle (old MT7688 firmware) instead of ToggleX. */
export function isLegacyToggle(s: Pick<DeviceSession, "has">): boolean {
  return !s.has(NS_TOGGLEX) && s.has(NS_TOGGLE);
}

export function hasToggle(s: Pick<DeviceSession, "has">): boolean {
  return s.has(NS_TOGGLEX) || s.has(NS_TOGGLE);
}

function requireToggle(s: DeviceSession): void {
  if (!hasToggle(s)) {
    throw new MerossError("UNSUPPORTED", explain.unsupported(s.address, "SET", NS_TOGGLEX, `this ${modelOf(s)} has no on/off switch`), {
      host: s.address,
      namespace: NS_TOGGLEX,
    });
  }
}

export async function getToggle(s: DeviceSession, channel = 0): Promise<ChannelState> {
  await s.ready();
  requireToggle(s);
  const states = isLegacyToggle(s)
    ? parseTogglePayload((await s.request("GET", NS_TOGGLE, {})).payload)
    : parseToggleXPayload((await s.request("GET", NS_TOGGLEX, { togglex: { channel } })).payload);
  s.commit(noteAll(states, "reply"));
  const mine = states.find((t) => t.channel === channel);
  if (!mine) {
    throw new MerossError(
      "BAD_INPUT",
      `Channel ${channel} does not exist on this ${modelOf(s)}: it reports channels ${states.map((t) => t.channel).join(", ") || "none"}.`,
      { host: s.address },
    );
  }
  return mine;
}

/** Switches a channel; "toggle" reads the current state first when we do not know it. */
export async function setToggle(s: DeviceSession, channel: number, on: boolean | "toggle"): Promise<ChannelState> {
  await s.ready();
  requireToggle(s);
  const target = on === "toggle" ? !(s.state.toggles.get(channel) ?? (await getToggle(s, channel)).on) : on;
  if (isLegacyToggle(s)) await s.request("SET", NS_TOGGLE, buildToggleSet(channel, target));
  else await s.request("SET", NS_TOGGLEX, buildToggleXSet(channel, target));
  s.commit((state) => noteToggle(state, channel, target));
  return { channel, on: target };
}
