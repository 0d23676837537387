/**
 * Presence sensors (ms600): Appliance.Control.Sensor.LatestX. The device reports, per channel,
 * lists of readings by sensor key: `presence` `{value, distance, times, timestamp}` and `light`
 * `{value, timestamp}` (meross_lan's ms600 trace and sensor types). `value` 2 means someone is
 * there, 1 nobody ([ML] treats 2 as motion); `distance` is in millimetres; the light value's unit
 * is not documented ⚠, so it is passed on as the device's number. A GET must name the keys it
 * wants (`{latest: [{channel, data: ["presence", "light"]}]}`): `{latest: []}` answers an empty
 * list. The ms600 pushes LatestX when someone comes or goes; its System.All digest is empty.
 */
import { MerossError, explain } from "../errors";
import type { Envelope } from "../protocol/message";
import { MAX_CHANNELS } from "../protocol/rules";
import { modelOf, type Capability, type ChangeSource, type DeviceEvent, type DeviceSession, type Update } from "./types";
import { badReply, isObject, toNumber } from "./util";

export const NS_SENSOR_LATESTX = "Appliance.Control.Sensor.LatestX";

/** The sensor keys a LatestX GET asks for. */
const KEYS = ["presence", "light"] as const;
/** LatestX `presence.value` when someone is there. */
const PRESENT = 2;

/** What one channel of a presence sensor last reported. */
export interface PresenceState {
  channel: number;
  /** Someone is there. */
  present: boolean;
  /** Distance to the person in metres, when reported. */
  distance?: number;
  /** The light level as the device reports it (unit not documented ⚠). */
  lightLevel?: number;
  /** Device epoch seconds of the latest reading. */
  at?: number;
}

declare module "./types" {
  interface MutableDeviceState {
    /** Presence sensor readings per channel (Sensor.LatestX). */
    presence?: Map<number, PresenceState>;
  }
  interface CapabilityEvents {
    presence: { presence: PresenceState; source?: ChangeSource };
  }
}

type Reading = Partial<PresenceState> & { channel: number };

/** The newest entry of one sensor key's list (lists may hold several readings). */
function newest(list: unknown): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  let best: Record<string, unknown> | undefined;
  for (const e of list) {
    if (isObject(e) && (best === undefined || (toNumber(e.timestamp) ?? 0) >= (toNumber(best.timestamp) ?? 0))) best = e;
  }
  return best;
}

/** `{latest: [{channel, data: {presence: [...], light: [...]}}]}` → one partial reading per channel. */
export function parseLatestX(payload: unknown): Reading[] {
  const list = isObject(payload) ? payload.latest : undefined;
  if (!Array.isArray(list)) throw badReply("Sensor.LatestX", 'it has no "latest" list', payload);
  const out: Reading[] = [];
  for (const e of list) {
    const channel = isObject(e) ? toNumber(e.channel) : undefined;
    if (!isObject(e) || channel === undefined || !Number.isInteger(channel) || channel < 0 || channel >= MAX_CHANNELS) {
      throw badReply("Sensor.LatestX", "an entry has no valid channel", payload);
    }
    const data = isObject(e.data) ? e.data : {};
    const r: Reading = { channel };
    const p = newest(data.presence);
    const value = p ? toNumber(p.value) : undefined;
    if (p && value === undefined) throw badReply("Sensor.LatestX", "a presence reading has no value", payload);
    if (p) {
      r.present = value === PRESENT;
      const mm = toNumber(p.distance);
      if (mm !== undefined && mm >= 0) r.distance = Math.round(mm / 10) / 100;
      const at = toNumber(p.timestamp);
      if (at !== undefined) r.at = at;
    }
    const l = newest(data.light);
    const level = l ? toNumber(l.value) : undefined;
    if (level !== undefined) r.lightLevel = level;
    out.push(r);
  }
  return out;
}

function notePresence(readings: Reading[], source: ChangeSource): Update {
  return (state) => {
    const events: DeviceEvent[] = [];
    for (const r of readings) {
      const map = (state.presence ??= new Map());
      const before = map.get(r.channel);
      const next: PresenceState = { present: false, ...before, ...r };
      map.set(r.channel, next);
      const same = before && before.present === next.present && before.distance === next.distance && before.lightLevel === next.lightLevel;
      if (!same) events.push({ type: "presence", presence: { ...next }, source });
    }
    return events;
  };
}

export function hasPresence(s: Pick<DeviceSession, "has">): boolean {
  return s.has(NS_SENSOR_LATESTX);
}

/** Reads the sensor's latest presence and light level on `channel`. */
export async function getPresence(s: DeviceSession, channel = 0): Promise<PresenceState> {
  await s.ready();
  if (!hasPresence(s)) {
    throw new MerossError(
      "UNSUPPORTED",
      explain.unsupported(s.address, "GET", NS_SENSOR_LATESTX, `this ${modelOf(s)} is not a presence sensor`),
      { host: s.address, namespace: NS_SENSOR_LATESTX },
    );
  }
  const reply = await s.request("GET", NS_SENSOR_LATESTX, { latest: [{ channel, data: [...KEYS] }] });
  s.commit(notePresence(parseLatestX(reply.payload), "reply"));
  const mine = s.state.presence?.get(channel);
  if (!mine) throw badReply("Sensor.LatestX", `it reports nothing for channel ${channel}`, reply.payload);
  return { ...mine };
}

function describe(p: PresenceState): string {
  const where = p.present && p.distance !== undefined ? ` at ${p.distance} m` : "";
  return `${p.present ? "someone there" : "nobody"}${where}`;
}

export const presenceCapability: Capability = {
  name: "presence",
  namespaces: [NS_SENSOR_LATESTX],
  reduce: (env: Envelope, source: ChangeSource) => notePresence(parseLatestX(env.payload), source),
  poll: async (s) => {
    if (hasPresence(s)) await getPresence(s, 0);
  },
  // `occupancy` as zigbee2mqtt names it, so a Meross sensor can stand where a Zigbee one did.
  output: (ev) =>
    ev.type !== "presence"
      ? undefined
      : {
          kind: "presence",
          channel: ev.presence.channel,
          fields: { occupancy: ev.presence.present, distance: ev.presence.distance, lightLevel: ev.presence.lightLevel },
          status: describe(ev.presence),
        },
  current: (state) => [...(state.presence?.values() ?? [])].map((p) => ({ type: "presence", presence: { ...p } })),
};
