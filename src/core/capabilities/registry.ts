/**
 * The capabilities a device can have, and which ones a given device has. Adding a
 * capability is its own module plus one line here.
 */
import type { Envelope } from "../protocol/message";
import { diffuserCapability } from "./diffuser";
import { electricityCapability } from "./electricity";
import { fanCapability } from "./fan";
import { garageCapability } from "./garage";
import { hubCapability } from "./hub";
import { lightCapability } from "./light";
import { lightEffectCapability } from "./light-effect";
import { multipleCapability } from "./multiple";
import { presenceCapability } from "./presence";
import { scheduleCapability } from "./schedule";
import { rollerCapability } from "./roller";
import { systemCapability } from "./system";
import { thermostatCapability } from "./thermostat";
import { thermostatModeCCapability } from "./thermostat-modec";
import { toggleCapability } from "./toggle";
import type { Abilities, Capability, ChangeSource, DeviceEvent, DeviceState, FlowItem, Update } from "./types";

export const CAPABILITIES: readonly Capability[] = [
  systemCapability,
  toggleCapability,
  lightCapability,
  electricityCapability,
  multipleCapability,
  scheduleCapability,
  lightEffectCapability,
  fanCapability,
  garageCapability,
  rollerCapability,
  thermostatCapability,
  thermostatModeCCapability,
  hubCapability,
  diffuserCapability,
  presenceCapability,
];

/**
 * The capabilities of a device with this ability list. System is always there (every
 * firmware answers System.All/Ability); before the list is known every capability is
 * assumed, so a session that only follows pushes still understands them.
 */
export function composeCapabilities(abilities: Abilities | undefined): readonly Capability[] {
  if (!abilities) return CAPABILITIES;
  let composed = composedFor.get(abilities);
  if (!composed) {
    composed = CAPABILITIES.filter((c) => c === systemCapability || c.namespaces.some((ns) => ns in abilities));
    composedFor.set(abilities, composed);
  }
  return composed;
}

/** Ability lists are shared and never change (parseAbility): each is composed once, not at every push. */
const composedFor = new WeakMap<Abilities, Capability[]>();

/** The state update an envelope means for a device with these capabilities, if any. */
export function reduceEnvelope(capabilities: readonly Capability[], env: Envelope, source: ChangeSource): Update | undefined {
  const ns = env.header.namespace;
  for (const c of capabilities) {
    if (c.reduce && c.namespaces.includes(ns)) return c.reduce(env, source);
  }
  return undefined;
}

/** What a flow sees of an event, from the capability that declares an `output` for it. */
export function flowItemOf(ev: DeviceEvent): FlowItem | undefined {
  for (const c of CAPABILITIES) {
    const item = c.output?.(ev);
    if (item) return item;
  }
  return undefined;
}

/** The events describing what the state holds, from every capability with a `current` (in registry order). */
export function currentEvents(state: DeviceState): DeviceEvent[] {
  return CAPABILITIES.flatMap((c) => c.current?.(state) ?? []);
}
