/**
 * meross-state's messages: the payload of each state change, the status line, and the last
 * known value of every item so only changes are sent. A message carries the change in
 * msg.payload (the new value first, then which part and `kind`) and the device in msg.meross
 * ({uuid, model}), so the debug sidebar's collapsed line starts with what changed.
 */
import {
  outletName,
  shortName,
  type MerossDevice,
  type DeviceEvent,
  MerossError,
  lightStateToOutput,
  type LightOutput,
  coverToOutput,
  type CoverState,
  climateOutput,
  type DiffuserState,
  type ElectricityReading,
  type AlarmType,
  type SubDeviceState,
  pollDevice,
  currentEvents,
  flowItemOf,
  describeValue,
} from "../../core";
import type { NodeStatus } from "node-red";
import { isBlank } from "./inputs";

export type Source = "push" | "poll" | "command";

/** One item's state as the node tracks it; `stateMessage` turns it into msg.payload and msg.meross. */
export interface StatePayload {
  uuid: string;
  model?: string;
  /** The kinds below, or one a capability declares with its `output` (e.g. "presence"). */
  kind: string;
  channel?: number;
  /** Hub sub-device id (kinds sensor and alarm). */
  subId?: string;
  /** Sub-device model: ms100, ms400, mts100v3… */
  subType?: string;
  temperature?: number;
  humidity?: number;
  battery?: number;
  /** Alarm kind: leak, smoke or door (door = open). */
  type?: AlarmType;
  active?: boolean;
  on?: boolean;
  light?: LightOutput | DiffuserState["light"];
  online?: boolean;
  /** Garage door or shutter: open, closed, opening, closing, stopped; `position` 0–100 for shutters. */
  state?: string;
  position?: number;
  /** Thermostat (°C; `current` is the room) or, for kind energy, amperes. */
  mode?: string;
  target?: number;
  current?: number;
  heating?: boolean;
  windowOpen?: boolean;
  power?: number;
  voltage?: number;
  spray?: string;
  source: Source;
  /** Status text of a kind a capability describes itself (not part of msg.payload). */
  statusText?: string;
}

/** The parts of a payload that say which item it is; everything else is the change itself. */
const WHERE = ["channel", "subId", "subType", "kind", "source"] as const;

/** msg.payload (the change first, then where and `kind`) and msg.meross ({uuid, model}) for one item. */
export function stateMessage(p: StatePayload, topic: string): { topic: string; payload: Record<string, unknown>; meross: object } {
  const { uuid, model, statusText: _status, ...rest } = p;
  const payload: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) if (!(WHERE as readonly string[]).includes(k) && v !== undefined) payload[k] = v;
  for (const k of WHERE) if (rest[k] !== undefined) payload[k] = rest[k];
  return { topic, payload, meross: withModel(uuid, model) };
}

/** One poll a second is already more than a device serving one request at a time should carry. */
export const MIN_POLL_S = 1;
export const MAX_POLL_S = 86_400;

export function pollSeconds(v: unknown): number {
  if (isBlank(v)) return 0;
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : NaN;
  if (!Number.isFinite(n) || n < 0 || (n > 0 && n < MIN_POLL_S) || n > MAX_POLL_S) {
    throw new MerossError(
      "BAD_INPUT",
      `The poll interval ${describeValue(v)} is not valid: use 0 (no polling) or a number of seconds from ${MIN_POLL_S} to ${MAX_POLL_S}.`,
    );
  }
  return n;
}

export function describe(p: StatePayload, prefix: string): NodeStatus {
  const who = prefix ? `${shortName(prefix)} · ` : "";
  if (p.kind === "alarm") {
    return { fill: p.active ? "red" : "green", shape: "dot", text: `${who}${p.subId} ${p.type} ${p.active ? "ALARM" : "clear"}` };
  }
  if (p.kind === "sensor") {
    const t = p.temperature !== undefined ? ` ${p.temperature} °C` : "";
    const b = p.battery !== undefined ? ` · ${p.battery}%` : "";
    return { fill: p.online === false ? "grey" : "green", shape: "dot", text: `${who}${p.subId}${t}${b}` };
  }
  if (p.kind === "online")
    return { fill: p.online ? "green" : "grey", shape: p.online ? "dot" : "ring", text: `${who}${p.online ? "online" : "offline"}` };
  if (p.kind === "toggle") {
    const ch = p.channel ? `${outletName(p.channel)} ` : "";
    return { fill: p.on ? "green" : "grey", shape: "dot", text: `${who}${ch}${p.on ? "on" : "off"} · ${p.source}` };
  }
  if (p.statusText !== undefined) return { fill: "green", shape: "dot", text: `${who}${p.statusText} · ${p.source}` };
  const other = describeOther(p);
  if (other) return { ...other, text: `${who}${other.text} · ${p.source}` };
  const l = p.light as LightOutput | undefined;
  const text =
    l?.on === false
      ? "off"
      : `${l?.on ? "on " : ""}${l?.brightness ?? ""}%${l?.mode === "rgb" ? ` ${l.rgb}` : l?.mode === "temperature" ? ` ${l.temperature}K` : ""}`;
  return { fill: l?.on === false ? "grey" : "green", shape: "dot", text: `${who}${text} · ${p.source}` };
}

/**
 * The last known value of every item of one device, so that only changes are emitted and
 * an input message can be answered with the current state.
 */
export class Tracker {
  private readonly items = new Map<string, StatePayload>();

  /** Records `p`; returns true when it is a change worth emitting. The first read is a baseline. */
  note(p: StatePayload): boolean {
    const k = itemKey(p);
    const before = this.items.get(k);
    this.items.set(k, p);
    if (!before) return p.source === "push" || p.kind === "online";
    const { source: _a, model: _b, ...was } = before;
    const { source: _c, model: _d, ...now } = p;
    return JSON.stringify(was) !== JSON.stringify(now);
  }

  all(): StatePayload[] {
    return [...this.items.values()].sort(
      (a, b) =>
        a.uuid.localeCompare(b.uuid) ||
        a.kind.localeCompare(b.kind) ||
        (a.channel ?? 0) - (b.channel ?? 0) ||
        itemKey(a).localeCompare(itemKey(b)),
    );
  }
}

/** Status of the kinds beyond on/off and light; undefined for those two. */
function describeOther(p: StatePayload): { fill: "green" | "grey" | "blue" | "yellow"; shape: "dot"; text: string } | undefined {
  const ch = p.channel ? `door ${p.channel} ` : "";
  if (p.kind === "cover") return { fill: p.state === "closed" ? "grey" : "green", shape: "dot", text: `${ch}${p.state}` };
  if (p.kind === "thermostat") {
    const text = p.on ? `${p.current} → ${p.target} °C${p.heating ? " · heating" : ""}` : `off · ${p.current} °C`;
    return { fill: p.on ? (p.heating ? "yellow" : "green") : "grey", shape: "dot", text };
  }
  if (p.kind === "energy") return { fill: "green", shape: "dot", text: `${p.power} W` };
  if (p.kind === "diffuser") return { fill: p.spray === "off" ? "grey" : "blue", shape: "dot", text: `spray ${p.spray}` };
  return undefined;
}

function coverFields(c: CoverState): Omit<StatePayload, "uuid" | "source"> {
  const { state, position, channel } = coverToOutput(c);
  return { kind: "cover", state, ...(position === undefined ? {} : { position }), channel };
}

function energyFields(r: ElectricityReading): Omit<StatePayload, "uuid" | "source"> {
  return { kind: "energy", power: r.power, voltage: r.voltage, current: r.current, channel: r.channel };
}

function diffuserFields(d: DiffuserState): Omit<StatePayload, "uuid" | "source"> {
  return { kind: "diffuser", spray: d.spray, light: { ...d.light }, channel: d.channel };
}

/** `capacity`: the bulb's light capacity when known, so a white-only lamp reports no rgb. */
export function fromEvent(
  uuid: string,
  model: string | undefined,
  ev: DeviceEvent,
  source: Source,
  capacity = 0,
): StatePayload | undefined {
  const base = { uuid, ...(model ? { model } : {}) };
  if (ev.type === "cover") return { ...base, ...coverFields(ev.cover), source };
  if (ev.type === "thermostat")
    return { ...base, kind: "thermostat", ...climateOutput(ev.thermostat), channel: ev.thermostat.channel, source };
  if (ev.type === "electricity") return { ...base, ...energyFields(ev.reading), source };
  if (ev.type === "diffuser") return { ...base, ...diffuserFields(ev.diffuser), source };
  if (ev.type === "toggle") return { ...base, kind: "toggle", channel: ev.channel, on: ev.on, source };
  if (ev.type === "light")
    return { ...base, kind: "light", channel: ev.light.channel ?? 0, light: lightStateToOutput(ev.light, capacity), source };
  if (ev.type === "online") return { ...base, kind: "online", online: ev.online, source };
  if (ev.type === "subdevice") return { ...base, ...sensorFields(ev.sub), source };
  if (ev.type === "alarm") return { ...base, kind: "alarm", subId: ev.subId, type: ev.alarm, active: ev.active, source };
  const item = flowItemOf(ev);
  // A kind a capability describes itself: its fields go into msg.payload as they are.
  return item && { ...(item.fields as object), ...base, kind: item.kind, channel: item.channel, statusText: item.status, source };
}

/** One item per device, channel or hub sub-device (and alarm type). */
export function itemKey(p: Pick<StatePayload, "uuid" | "kind" | "channel" | "subId" | "type">): string {
  return `${p.uuid}|${p.kind}|${p.channel ?? ""}|${p.subId ?? ""}|${p.type ?? ""}`;
}

function sensorFields(d: Readonly<SubDeviceState>): Omit<StatePayload, "uuid" | "source"> {
  const out: Omit<StatePayload, "uuid" | "source"> = { kind: "sensor", subId: d.id };
  if (d.type) out.subType = d.type;
  if (d.temperature !== undefined) out.temperature = d.temperature;
  else if (d.valve?.room !== undefined) out.temperature = d.valve.room;
  if (d.humidity !== undefined) out.humidity = d.humidity;
  if (d.battery !== undefined) out.battery = d.battery;
  if (d.online !== undefined) out.online = d.online;
  return out;
}

/** "Hub name / 1A00694ACBC7" for a hub sub-device, the device's name otherwise. */
export function topicWithSub(deviceName: string, p: StatePayload): string {
  return p.subId ? `${deviceName} / ${p.subId}` : deviceName;
}

/**
 * Reads what the System.All digest's toggles and light do not cover, before an on-demand answer:
 * every other capability's poll() (hub sub-devices, doors and shutters, thermostats…). The
 * Poller reads the same on each poll. Energy is not read here: meross-energy reads it (its own interval).
 */
export async function refreshExtras(device: MerossDevice): Promise<void> {
  // Toggles and light came with the System.All digest; the other families read themselves (their poll()).
  await pollDevice(device, (c) => c.name !== "toggle" && c.name !== "light" && c.name !== "electricity");
}

/** What a device session already knows, as payloads (toggles, then the light). */
export function known(device: MerossDevice, uuid: string, model: string | undefined, source: Source): StatePayload[] {
  const out: StatePayload[] = [];
  for (const [channel, on] of [...device.toggles.entries()].sort((a, b) => a[0] - b[0])) {
    const p = fromEvent(uuid, model, { type: "toggle", channel, on }, source);
    if (p) out.push(p);
  }
  if (device.light) {
    const p = fromEvent(uuid, model, { type: "light", light: device.light }, source, device.lightCapacity);
    if (p) out.push(p);
  }
  const s = device.state;
  for (const c of s.covers?.values() ?? []) out.push({ ...withModel(uuid, model), ...coverFields(c), source });
  for (const thermostat of s.thermostats?.values() ?? []) {
    const p = fromEvent(uuid, model, { type: "thermostat", thermostat }, source);
    if (p) out.push(p);
  }
  for (const r of s.electricity?.values() ?? []) out.push({ ...withModel(uuid, model), ...energyFields(r), source });
  if (s.diffuser) out.push({ ...withModel(uuid, model), ...diffuserFields(s.diffuser), source });
  for (const sub of device.state.subdevices?.values() ?? []) {
    out.push({ ...withModel(uuid, model), ...sensorFields(sub), source });
    for (const [type, v] of [
      ["leak", sub.leak],
      ["smoke", sub.smoke],
      ["door", sub.open],
    ] as const) {
      if (v !== undefined) out.push({ ...withModel(uuid, model), kind: "alarm", subId: sub.id, type, active: v, source });
    }
  }
  for (const ev of currentEvents(device.state)) {
    const p = fromEvent(uuid, model, ev, source);
    if (p) out.push(p);
  }
  return out;
}

/** The identity part of a payload: `model` only when known. */
export function withModel(uuid: string, model: string | undefined): { uuid: string; model?: string } {
  return { uuid, ...(model ? { model } : {}) };
}

/**
 * Holds a light fade's steps back and passes on the state it ends in (`afterFade` runs its callback
 * when the fade playing now ends, false when none plays); every other item passes at once.
 */
export function holdFades(emit: (p: StatePayload) => void, afterFade: (then: () => void) => boolean): (p: StatePayload) => void {
  let held: StatePayload | undefined;
  const flush = (): void => {
    const last = held;
    held = undefined;
    if (last) emit(last);
  };
  return (p) => {
    if (p.kind !== "light") return emit(p);
    const waiting = held !== undefined;
    held = p;
    if (!waiting && !afterFade(flush)) flush();
  };
}

/** Answers an input message with every known item (one message each, the first reusing msg). */
export function answerWith<M extends object>(
  msg: M,
  clone: (m: M) => M,
  items: StatePayload[],
  topicFor: (p: StatePayload) => string,
): M[] {
  return items.map((p, i) => Object.assign(i === 0 ? msg : clone(msg), stateMessage(p, topicFor(p))));
}
