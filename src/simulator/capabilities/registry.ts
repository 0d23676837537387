/**
 * Composes a device from its model: one live capability per spec the model names, and a table
 * from namespace to the capability answering it. The registry knows no capability by name; a
 * namespace is answered only when the model's ability list has it AND one of its capabilities
 * claims it. Everything else gets ERROR 5000, like firmware meeting an unknown namespace.
 */
import { MerossError } from "../../core/errors";
import { isObject, type Json } from "../../core/protocol/rules";
import type { DeviceModel } from "../models";
import type { Capability, SimContext, SimPush } from "./types";

/** Deep merge of System.All parts: objects merge, anything else replaces. */
function mergeInto(target: Json, part: Json): void {
  for (const [k, v] of Object.entries(part)) {
    const cur = target[k];
    if (isObject(cur) && isObject(v)) mergeInto(cur, v);
    else target[k] = isObject(v) ? { ...v } : v;
  }
}

/**
 * The namespaces a model answers: those of its ability list a capability claims. Throws when two
 * capabilities claim the same namespace, which is a mistake in the catalogue.
 */
export function answeredNamespaces(model: DeviceModel): Map<string, number> {
  const owner = new Map<string, number>();
  model.capabilities.forEach((spec, i) => {
    for (const ns of spec.namespaces) {
      if (owner.has(ns)) {
        const other = model.capabilities[owner.get(ns)!].name;
        const clash = `Model ${model.name}: both ${other} and ${spec.name} claim ${ns}`;
        throw new MerossError("BAD_INPUT", `${clash}; give each namespace one capability.`);
      }
      owner.set(ns, i);
    }
  });
  for (const ns of [...owner.keys()]) if (!(ns in model.ability)) owner.delete(ns);
  return owner;
}

export class CapabilitySet {
  readonly list: readonly Capability[];
  private readonly byNamespace = new Map<string, Capability>();

  constructor(model: DeviceModel, ctx: SimContext) {
    this.list = model.capabilities.map((spec) => spec.create(ctx));
    for (const [ns, i] of answeredNamespaces(model)) this.byNamespace.set(ns, this.list[i]);
  }

  /** The capability answering `namespace` on this device, if any. */
  handlerFor(namespace: string): Capability | undefined {
    return this.byNamespace.get(namespace);
  }

  get namespaces(): string[] {
    return [...this.byNamespace.keys()];
  }

  /** The live capability of a given class (for the device's own API, e.g. setLight). */
  find<T extends Capability>(cls: abstract new (...args: never[]) => T): T | undefined {
    return this.list.find((c): c is T => c instanceof cls);
  }

  boot(): void {
    for (const c of this.list) c.boot?.();
  }

  all(): Json {
    const out: Json = {};
    for (const c of this.list) if (c.all) mergeInto(out, c.all());
    return out;
  }

  /** Every capability's pushes, in model order; each marks its state as reported. */
  pushes(): SimPush[] {
    return this.list.flatMap((c) => c.pushes?.() ?? []);
  }
}
