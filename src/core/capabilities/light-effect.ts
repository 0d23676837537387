/**
 * Appliance.Control.Light.Effect (docs/protocol-devices.md §16.2): the list of animations a
 * strip or lamp stores (msl320cpr, msl450), reading it and picking one. Picking follows [ML]:
 * SET the whole entry with `enable: 1`; the light then reports capacity bit 8 and `effect` =
 * the entry's position in the list. "No effect" is a Light SET without bit 8.
 */
import { MerossError, explain } from "../errors";
import { LIGHT_CAPACITY, lightChannel, noteLight, setLight, type LightState } from "./light";
import { sendSets, type MultipleItem } from "./multiple";
import { buildToggleXSet, hasToggle, isLegacyToggle, noteToggle, NS_TOGGLEX } from "./toggle";
import { modelOf, type Capability, type DeviceSession } from "./types";
import { badInput, badReply, describeValue, isObject, type Json } from "./util";

export const NS_LIGHT_EFFECT = "Appliance.Control.Light.Effect";

/** One stored effect; `index` is what Light reports as `effect` while it plays. */
export interface LightEffect {
  id: string;
  name: string;
  index: number;
  enabled: boolean;
}

/** Words that mean "stop the effect, show plain light again". */
const NO_EFFECT = new Set(["none", "off", "stop", ""]);

/** Entries keep every field the device sent: a SET must give the entry back whole ([ML]). */
function entries(payload: unknown): Json[] {
  const list = isObject(payload) ? payload.effect : undefined;
  if (!Array.isArray(list)) throw badReply("Light.Effect", 'it has no "effect" list', payload);
  return list.map((e) => {
    // The id member is spelt "Id" on every traced device (§16.2).
    if (!isObject(e) || typeof e.Id !== "string" || typeof e.effectName !== "string") {
      throw badReply("Light.Effect", "an entry has no Id or effectName", payload);
    }
    return e;
  });
}

export function parseEffectList(payload: unknown): LightEffect[] {
  return entries(payload).map((e, index) => ({ id: String(e.Id), name: String(e.effectName), index, enabled: e.enable === 1 }));
}

function requireEffects(s: DeviceSession): void {
  if (!s.has(NS_LIGHT_EFFECT)) {
    const why = `this ${modelOf(s)} has no stored light effects`;
    const message = explain.unsupported(s.address, "GET", NS_LIGHT_EFFECT, why);
    throw new MerossError("UNSUPPORTED", message, { host: s.address, namespace: NS_LIGHT_EFFECT });
  }
}

async function readEntries(s: DeviceSession): Promise<Json[]> {
  await s.ready();
  requireEffects(s);
  // The msl320cpr capture asks with an empty object (trace …03).
  return entries((await s.request("GET", NS_LIGHT_EFFECT, { effect: {} })).payload);
}

export async function getEffects(s: DeviceSession): Promise<LightEffect[]> {
  return parseEffectList({ effect: await readEntries(s) });
}

/** By name (any case), by Id, or by position in the list; BAD_INPUT naming what exists otherwise. */
export function findEffect(list: readonly LightEffect[], wanted: unknown): LightEffect {
  let found: LightEffect | undefined;
  if (typeof wanted === "number" && Number.isInteger(wanted)) found = list.find((e) => e.index === wanted);
  else if (typeof wanted === "string") {
    const w = wanted.trim().toLowerCase();
    found = list.find((e) => e.name.trim().toLowerCase() === w) ?? list.find((e) => e.id.toLowerCase() === w);
  }
  if (!found) {
    const names = list.map((e) => `"${e.name}"`).join(", ") || "none stored";
    throw badInput(`The effect ${describeValue(wanted)} is not on this light: use one of ${names} (or its number from 0), or "none".`);
  }
  return found;
}

/**
 * Plays a stored effect (or stops it with "none"), switching the light on in the same round
 * trip when it is not known to be on (Effect SET + ToggleX in one Control.Multiple).
 */
export async function setEffect(s: DeviceSession, wanted: unknown): Promise<{ light: LightState; effect?: LightEffect }> {
  if (typeof wanted === "string" && NO_EFFECT.has(wanted.trim().toLowerCase())) {
    await s.ready();
    const l = s.state.light;
    const white = !l || l.mode !== "rgb" || !(l.capacity & LIGHT_CAPACITY.RGB);
    const cmd = white ? { temperature: l?.temperature || 50 } : { rgb: l.rgb };
    return { light: await setLight(s, { ...cmd, luminance: l?.luminance || 100 }) };
  }
  const raw = await readEntries(s);
  const effect = findEffect(parseEffectList({ effect: raw }), wanted);
  const channel = lightChannel(s);
  const items: MultipleItem[] = [{ method: "SET", namespace: NS_LIGHT_EFFECT, payload: { effect: [{ ...raw[effect.index], enable: 1 }] } }];
  const switchOn = hasToggle(s) && !isLegacyToggle(s) && s.state.toggles.get(channel) !== true;
  if (switchOn) items.push({ method: "SET", namespace: NS_TOGGLEX, payload: buildToggleXSet(channel, true) });
  await sendSets(s, items);
  if (switchOn) s.commit((state) => noteToggle(state, channel, true));
  const base = s.state.light;
  const light: LightState = {
    capacity: (base?.capacity ?? 0) | LIGHT_CAPACITY.EFFECT,
    channel,
    rgb: base?.rgb ?? 0,
    temperature: base?.temperature ?? 0,
    luminance: base?.luminance ?? 100,
    mode: "effect",
    effect: effect.index,
    on: true,
  };
  if (base?.onoffField) light.onoffField = true;
  s.commit((state) => noteLight(state, light));
  return { light, effect };
}

/** No state of its own: the effect playing shows up in Control.Light (`effect`, capacity bit 8). */
export const lightEffectCapability: Capability = {
  name: "light-effect",
  namespaces: [NS_LIGHT_EFFECT],
};
