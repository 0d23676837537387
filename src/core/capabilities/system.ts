/**
 * System capability: Appliance.System.All and System.Ability (docs/protocol.md §6.2, §6.3),
 * who the device is and what it can do, plus the System.Online push. Both decide every
 * later request, so they are parsed leniently (string or number fields, anonymised traces)
 * but never trusted blindly.
 */
import type { Envelope } from "../protocol/message";
import type { Abilities, Capability, DeviceEvent, DeviceSession, SystemDigest, Update } from "./types";
import { badReply, isObject, toNumber, type Json } from "./util";

export const NS_ALL = "Appliance.System.All";
export const NS_ABILITY = "Appliance.System.Ability";
export const NS_ONLINE = "Appliance.System.Online";
export const NS_TIME = "Appliance.System.Time";

/** Identity from System.All; model is hardware.type, legacy means Control.Toggle firmware without a digest. */
export interface DeviceInfo {
  uuid: string;
  mac: string;
  model: string;
  subType?: string;
  hardwareVersion: string;
  firmwareVersion: string;
  chip?: string;
  ip?: string;
  userId?: string;
  server?: string;
  port?: number;
  encryptFlag: boolean;
  legacy: boolean;
}

/** The device clock as System.All told it (system.time), with when that was read. */
export interface DeviceClock {
  /** Device epoch seconds when System.All was read. */
  timestamp?: number;
  timezone?: string;
  /** The DST rule list (`[[start, offset, isDst], …]`), untrusted. */
  timeRule?: unknown;
  /** Our Date.now() when System.All was read: the device time now is timestamp + elapsed. */
  readAt: number;
}

declare module "./types" {
  interface MutableDeviceState {
    info?: DeviceInfo;
    /** system.time of the System.All digest (zone, DST rules, clock). */
    clock?: DeviceClock;
  }
  interface CapabilityEvents {
    info: { info: DeviceInfo };
    online: { online: boolean; source?: "push" | "broker" };
  }
}

function text(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

function nonEmpty(v: unknown): string | undefined {
  const t = text(v);
  return t === undefined || t.trim() === "" ? undefined : t.trim();
}

import { macFromUuid, normalizeMac } from "../protocol/rules";

export type SystemAll = ReturnType<typeof parseSystemAll>;

export { macFromUuid };

/**
 * `{all: {system, digest | control}}` (also the inner object alone, as trace headers
 * show it): the identity, and the parts each capability's digest hook reads (toggle reads
 * digest.togglex or the legacy control.toggle of MT7688 firmware, §6.6; light digest.light…).
 */
export function parseSystemAll(payload: unknown): { info: DeviceInfo; online?: number; parts: SystemDigest } {
  const all = isObject(payload) && isObject(payload.all) ? payload.all : payload;
  const system = isObject(all) ? all.system : undefined;
  if (!isObject(all) || !isObject(system) || !isObject(system.hardware)) {
    throw badReply("System.All", "it has no system.hardware block", payload);
  }
  const hw = system.hardware;
  const fw: Json = isObject(system.firmware) ? system.firmware : {};
  const digest = isObject(all.digest) ? all.digest : undefined;
  const control = isObject(all.control) ? all.control : undefined;
  const uuid = nonEmpty(hw.uuid) ?? "";
  const reported = nonEmpty(hw.macAddress);
  const mac = normalizeMac(reported) ?? macFromUuid(uuid) ?? "";

  const info: DeviceInfo = {
    uuid,
    mac,
    model: nonEmpty(hw.type) ?? "unknown",
    hardwareVersion: nonEmpty(hw.version) ?? "",
    firmwareVersion: nonEmpty(fw.version) ?? "",
    encryptFlag: toNumber(fw.encrypt) === 1,
    legacy: control !== undefined && control.toggle !== undefined && digest === undefined,
  };
  const optional: Array<[keyof DeviceInfo, string | undefined]> = [
    ["subType", nonEmpty(hw.subType)],
    ["chip", nonEmpty(hw.chipType)],
    ["ip", nonEmpty(fw.innerIp)],
    ["userId", nonEmpty(fw.userId)],
    ["server", nonEmpty(fw.server)],
  ];
  for (const [k, v] of optional) if (v !== undefined) (info as unknown as Json)[k] = v;
  const port = toNumber(fw.port);
  if (port !== undefined && Number.isInteger(port) && port > 0 && port <= 65535) info.port = port;

  const result: { info: DeviceInfo; online?: number; parts: SystemDigest } = {
    info,
    parts: { system, digest: digest ?? {}, control: control ?? {} },
  };
  const online = isObject(system.online) ? toNumber(system.online.status) : undefined;
  if (online !== undefined) result.online = online;
  return result;
}

/**
 * The reply is `{payloadVersion, ability: {...}}`; trace headers show only the inner
 * map, so both are accepted. Non-object parameter values become {}.
 */
export function parseAbility(payload: unknown): Record<string, Record<string, unknown>> {
  const map = isObject(payload) && isObject(payload.ability) ? payload.ability : payload;
  if (!isObject(map)) throw badReply("System.Ability", "it has no ability map", payload);
  const out: Record<string, Record<string, unknown>> = {};
  for (const [ns, params] of Object.entries(map)) {
    if (!ns.startsWith("Appliance.")) continue;
    out[ns] = isObject(params) ? params : {};
  }
  if (Object.keys(out).length === 0) throw badReply("System.Ability", "it lists no Appliance.* namespaces", payload);
  return sharedAbilities(out);
}

/** Ability lists kept, by their JSON: one per model and firmware a fleet has. */
const ABILITY_LISTS_MAX = 256;
const abilityLists = new Map<string, Abilities>();

/**
 * Devices of one model and firmware list the same abilities: they share one frozen copy (about
 * 2 KB per device in a large fleet), which nothing may change. The only module-level map in
 * the capabilities, and it holds no device's state: equal lists are the same value.
 */
function sharedAbilities(list: Abilities): Abilities {
  const key = JSON.stringify(list);
  const known = abilityLists.get(key);
  if (known) return known;
  for (const params of Object.values(list)) Object.freeze(params);
  Object.freeze(list);
  if (abilityLists.size >= ABILITY_LISTS_MAX) abilityLists.delete(abilityLists.keys().next().value as string);
  abilityLists.set(key, list);
  return list;
}

// ---- reducer -------------------------------------------------------------------------

/**
 * What System.All + System.Ability mean for the state: identity, abilities, then each
 * capability's part of the digest (its `digest` hook), then the "info" event. The hooks run
 * before anything changes, so a broken part fails the whole read (BAD_RESPONSE).
 */
export function applySystem(all: SystemAll, abilities: Abilities, capabilities: readonly Capability[]): Update {
  const parts = applyDigest(all, capabilities);
  return (state) => {
    state.abilities = abilities;
    state.info = all.info;
    const events: DeviceEvent[] = parts(state);
    events.push({ type: "info", info: all.info });
    return events;
  };
}

/** Every capability's part of a System.All digest (their `digest` hooks), as one update. */
export function applyDigest(all: SystemAll, capabilities: readonly Capability[]): Update {
  const parts = capabilities.map((c) => c.digest?.(all.parts)).filter((u): u is Update => u !== undefined);
  return (state) => parts.flatMap((u) => u(state));
}

/** system.time of the digest: zone, DST rules and the device clock (care, sun timers). */
function readClock(all: SystemDigest): Update | undefined {
  const time = isObject(all.system.time) ? all.system.time : undefined;
  if (!time) return undefined;
  const clock: DeviceClock = { readAt: Date.now() };
  const ts = toNumber(time.timestamp);
  if (ts !== undefined) clock.timestamp = ts;
  if (typeof time.timezone === "string") clock.timezone = time.timezone;
  if (time.timeRule !== undefined) clock.timeRule = time.timeRule;
  return (state) => {
    state.clock = clock;
    return [];
  };
}

/** Identity and abilities learnt elsewhere (onboarding reads them step by step). */
export function learnIdentity(info: DeviceInfo | undefined, abilities: Abilities | undefined): Update {
  return (state) => {
    if (info) state.info = info;
    if (abilities) state.abilities = abilities;
    return [];
  };
}

function reduceOnline(env: Envelope): Update | undefined {
  const online = isObject(env.payload.online) ? toNumber(env.payload.online.status) : undefined;
  if (online === undefined) return undefined;
  return () => [{ type: "online", online: online === 1, source: "push" }];
}

export const systemCapability: Capability = {
  name: "system",
  namespaces: [NS_ALL, NS_ABILITY, NS_ONLINE],
  reduce: (env) => (env.header.namespace === NS_ONLINE ? reduceOnline(env) : undefined),
  digest: readClock,
};

// ---- commands ------------------------------------------------------------------------

/** Reads System.All then System.Ability (both answered before the ability list is known). */
export async function readSystem(s: Pick<DeviceSession, "request">): Promise<{ all: SystemAll; abilities: Abilities }> {
  const all = parseSystemAll((await s.request("GET", NS_ALL, {}, { checkAbility: false })).payload);
  const abilities = parseAbility((await s.request("GET", NS_ABILITY, {}, { checkAbility: false })).payload);
  return { all, abilities };
}

/** System.All read again (DeviceSession.rereadDigest): what its digest means for these capabilities. */
export async function readDigest(s: Pick<DeviceSession, "request">, capabilities: readonly Capability[]): Promise<Update> {
  return applyDigest(parseSystemAll((await s.request("GET", NS_ALL, {}, { checkAbility: false })).payload), capabilities);
}
