/**
 * System capability: Appliance.System.All and System.Ability (docs/protocol.md §6.2, §6.3),
 * who the device is and what it can do, plus the System.Online push. Both decide every
 * later request, so they are parsed leniently (string or number fields, anonymised traces)
 * but never trusted blindly.
 */
import type { Envelope } from "../protocol/message";
import { hubFromAll, noteSubDevices, type Patch } from "./hub";
import { noteLight, parseLightPayload, type LightState } from "./light";
import { noteToggle, parseTogglePayload, parseToggleXPayload, type ChannelState } from "./toggle";
import type { Abilities, Capability, DeviceEvent, DeviceSession, Update } from "./types";
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
 * show it). Toggle state comes from digest.togglex, or from the legacy control.toggle
 * of MT7688 firmware (§6.6).
 */
export function parseSystemAll(payload: unknown): {
  info: DeviceInfo;
  toggles: ChannelState[];
  light?: LightState;
  online?: number;
  hub?: Patch[];
} {
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

  let toggles: ChannelState[] = [];
  if (digest && digest.togglex !== undefined) toggles = parseToggleXPayload({ togglex: digest.togglex });
  else if (control && control.toggle !== undefined) toggles = parseTogglePayload({ toggle: control.toggle });

  const result: { info: DeviceInfo; toggles: ChannelState[]; light?: LightState; online?: number; hub?: Patch[] } = { info, toggles };
  if (digest && digest.light !== undefined) result.light = parseLightPayload({ light: digest.light });
  // Hub sub-devices and their types: the digest has them on every hub, with or without Digest.Hub (§14.1).
  if (digest && isObject(digest.hub)) result.hub = hubFromAll({ digest });
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
  return out;
}

// ---- reducer -------------------------------------------------------------------------

/** What System.All + System.Ability mean for the state: identity, abilities and the digest. */
export function applySystem(all: SystemAll, abilities: Abilities): Update {
  return (state) => {
    state.abilities = abilities;
    state.info = all.info;
    const events: DeviceEvent[] = [];
    for (const t of all.toggles) events.push(...noteToggle(state, t.channel, t.on));
    if (all.light) events.push(...noteLight(state, all.light));
    if (all.hub) events.push(...noteSubDevices(state, all.hub, "reply"));
    events.push({ type: "info", info: all.info });
    return events;
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
};

// ---- commands ------------------------------------------------------------------------

/** Reads System.All then System.Ability (both answered before the ability list is known). */
export async function readSystem(s: Pick<DeviceSession, "request">): Promise<{ all: SystemAll; abilities: Abilities }> {
  const all = parseSystemAll((await s.request("GET", NS_ALL, {}, { checkAbility: false })).payload);
  const abilities = parseAbility((await s.request("GET", NS_ABILITY, {}, { checkAbility: false })).payload);
  return { all, abilities };
}
