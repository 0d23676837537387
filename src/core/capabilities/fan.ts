/**
 * Appliance.Control.Fan (docs/protocol-devices.md §16.1): fan speed on ceiling fans (mfc100)
 * and purifiers (map100). The key is `fan`, a list of `{channel, speed, maxSpeed}`; a GET must
 * name the channel. On/off stays with ToggleX ([ML]); this module only sets the speed, and
 * switches the fan's ToggleX channel on in the same round trip when a speed is asked of a fan
 * known to be off.
 */
import { MerossError, explain } from "../errors";
import { lightChannel } from "./light";
import { sendSets, type MultipleItem } from "./multiple";
import { buildToggleXSet, noteToggle, NS_TOGGLEX } from "./toggle";
import { modelOf, type Capability, type DeviceSession, type Update } from "./types";
import { badInput, badReply, describeValue, isObject, toNumber } from "./util";

export const NS_FAN = "Appliance.Control.Fan";

declare module "./types" {
  interface MutableDeviceState {
    /** Fan speed and maxSpeed per channel, learnt from a GET (maxSpeed does not change while a device runs). */
    fans?: Map<number, FanState>;
  }
}

export interface FanState {
  channel: number;
  /** 0 = stopped (map100). */
  speed: number;
  maxSpeed: number;
}

/** Reads `{fan: [...]}` (or a single object); entries without numbers are a bad reply. */
export function parseFanPayload(payload: unknown): FanState[] {
  const raw = isObject(payload) ? payload.fan : undefined;
  const list = Array.isArray(raw) ? raw : isObject(raw) ? [raw] : undefined;
  if (!list) throw badReply("Control.Fan", 'it has no "fan" list', payload);
  return list.map((f) => {
    const channel = isObject(f) ? toNumber(f.channel) : undefined;
    const speed = isObject(f) ? toNumber(f.speed) : undefined;
    const max = isObject(f) ? toNumber(f.maxSpeed) : undefined;
    if (channel === undefined || speed === undefined || max === undefined || max < 0 || max > 100) {
      throw badReply("Control.Fan", "an entry lacks channel, speed or maxSpeed", payload);
    }
    return { channel: Math.round(channel), speed: Math.max(0, Math.round(speed)), maxSpeed: Math.round(max) };
  });
}

/**
 * The fan's channel. A ceiling fan numbers its light 1 and its fan 2 (mfc100 trace …18; channel
 * 0 there answers as a one-speed fan that is not the fan); a purifier without a light on its
 * own channel uses 0 (map100). So: the channel after the light's when the light is not on 0.
 */
export function fanChannel(s: Pick<DeviceSession, "state">): number {
  const lc = lightChannel(s);
  return lc > 0 ? lc + 1 : 0;
}

/** Records a fan reading in the session's state (no event: no fan push is known, §16.1 ⚠). */
function noteFan(fan: FanState): Update {
  return (state) => {
    state.fans ??= new Map();
    state.fans.set(fan.channel, fan);
    return [];
  };
}

function requireFan(s: DeviceSession): void {
  if (!s.has(NS_FAN)) {
    throw new MerossError("UNSUPPORTED", explain.unsupported(s.address, "SET", NS_FAN, `this ${modelOf(s)} has no fan`), {
      host: s.address,
      namespace: NS_FAN,
    });
  }
}

export async function getFan(s: DeviceSession, channel?: number): Promise<FanState> {
  await s.ready();
  requireFan(s);
  const ch = channel ?? fanChannel(s);
  const list = parseFanPayload((await s.request("GET", NS_FAN, { fan: [{ channel: ch }] })).payload);
  const mine = list.find((f) => f.channel === ch);
  if (!mine) throw badReply("Control.Fan", `it does not report channel ${ch}`, undefined);
  s.commit(noteFan(mine));
  return mine;
}

/** Speed words a flow may send besides a number. */
function speedFrom(input: unknown, max: number, current = 0): number {
  if (typeof input === "string") {
    const w = input.trim().toLowerCase();
    if (w === "off" || w === "stop") return 0;
    // "on": keep a running fan's speed, start a stopped one at 1 (purifiers without ToggleX, §16.1).
    if (w === "on") return Math.max(1, current);
    if (w === "max" || w === "full") return max;
    if (/^\d+$/.test(w)) return speedFrom(Number(w), max);
  }
  if (typeof input !== "number" || !Number.isInteger(input) || input < 0 || input > max) {
    const range = `a whole number from 0 (stopped) to ${max}, "on", "off" or "max"`;
    throw badInput(`The fan speed ${describeValue(input)} is not valid: this fan takes ${range}.`);
  }
  return input;
}

/** Sets the speed (0..maxSpeed); reads maxSpeed first when this session has not seen it yet. */
export async function setFanSpeed(s: DeviceSession, input: unknown, channel?: number): Promise<FanState> {
  await s.ready();
  requireFan(s);
  const ch = channel ?? fanChannel(s);
  const cur = s.state.fans?.get(ch) ?? (await getFan(s, ch));
  const speed = speedFrom(input, cur.maxSpeed, cur.speed);
  const items: MultipleItem[] = [{ method: "SET", namespace: NS_FAN, payload: { fan: [{ channel: ch, speed }] } }];
  const switchOn = speed > 0 && s.has(NS_TOGGLEX) && s.state.toggles.get(ch) === false;
  if (switchOn) items.push({ method: "SET", namespace: NS_TOGGLEX, payload: buildToggleXSet(ch, true) });
  await sendSets(s, items);
  if (switchOn) s.commit((state) => noteToggle(state, ch, true));
  const next = { ...cur, speed };
  s.commit(noteFan(next));
  return next;
}

/** No fan push is known (§16.1 ⚠): speeds are read on demand and kept in the `fans` slot. */
export const fanCapability: Capability = {
  name: "fan",
  namespaces: [NS_FAN],
};
