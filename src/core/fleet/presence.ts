/**
 * Who is on the broker right now, and which identity each device proved: the registry
 * both fleet modes feed (logins on the embedded broker, signed messages on an existing one)
 * and report through the fleet's "device" and "gone" events.
 */
import { KeyedEvents, type TypedEvents, type Unsubscribe } from "../events";
import type { BrokerPresence, Fleet, FleetEvents } from "./types";

/** What a device proved about itself: the MAC it logged in or bound with, and whose key it holds. */
export interface IdentityBinding {
  mac?: string;
  /** The user (key source) whose key the device's login or signature matched. */
  keyOwner?: string;
}

export class PresenceRegistry {
  private readonly present = new Map<string, BrokerPresence>();
  private readonly bindings = new Map<string, IdentityBinding>();
  /** The same reports by uuid (undefined: gone), for whoever follows one device: a map lookup per change. */
  readonly byUuid = new KeyedEvents<BrokerPresence | undefined>("presence of");

  constructor(
    private readonly events: TypedEvents<FleetEvents>,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.present.size;
  }

  has(uuid: string): boolean {
    return this.present.has(uuid);
  }

  get(uuid: string): BrokerPresence | undefined {
    const p = this.present.get(uuid);
    return p ? { ...p } : undefined;
  }

  list(): BrokerPresence[] {
    return [...this.present.values()].map((p) => ({ ...p }));
  }

  /**
   * Merges `patch` into the device's entry and reports it when something changed.
   * `fresh`: a new session of the device (a Bind), reported even when nothing else changed.
   */
  upsert(uuid: string, patch: Partial<BrokerPresence>, fresh = false): void {
    const before = this.present.get(uuid);
    const next: BrokerPresence = { ...(before ?? { uuid, listening: false, since: this.now() }), ...patch, uuid };
    for (const k of Object.keys(next) as Array<keyof BrokerPresence>) if (next[k] === undefined) delete next[k];
    this.present.set(uuid, next);
    if (fresh || !before || !samePresence(before, next)) this.report(next);
  }

  drop(uuid: string): void {
    if (this.present.delete(uuid)) this.reportGone(uuid);
  }

  private report(p: BrokerPresence): void {
    this.events.emit("device", { ...p });
    this.byUuid.emit(p.uuid, { ...p });
  }

  private reportGone(uuid: string): void {
    this.events.emit("gone", { uuid });
    this.byUuid.emit(uuid, undefined);
  }

  /** Reports every present device again (the connection came back: users re-check their paths). */
  replay(): void {
    for (const p of this.present.values()) this.report(p);
  }

  /** Forgets everyone; `report` sends a "gone" for each. */
  clear(report = false): void {
    const uuids = [...this.present.keys()];
    this.present.clear();
    this.bindings.clear();
    if (report) for (const uuid of uuids) this.reportGone(uuid);
  }

  bind(uuid: string, binding: IdentityBinding): void {
    const merged = { ...this.bindings.get(uuid), ...binding };
    for (const k of Object.keys(merged) as Array<keyof IdentityBinding>) if (merged[k] === undefined) delete merged[k];
    this.bindings.set(uuid, merged);
  }

  binding(uuid: string): IdentityBinding | undefined {
    const b = this.bindings.get(uuid);
    return b ? { ...b } : undefined;
  }
}

/** Same fields with the same values (a presence entry holds only strings, numbers and booleans). */
function samePresence(a: BrokerPresence, b: BrokerPresence): boolean {
  const ka = Object.keys(a) as Array<keyof BrokerPresence>;
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** A watch on one device's presence; `rewatch()` after its uuid became known. */
export interface PresenceWatch {
  rewatch(): void;
  close(): void;
}

/**
 * Follows the presence of the device `uuidOf()` names: by uuid (Fleet.watchDevice, a map lookup)
 * once the uuid is known; before that (a config that learns its uuid from the device), every
 * report filtered by the uuid of the moment. `on` gets the presence, or undefined when it left.
 */
export function watchPresence(
  fleet: Pick<Fleet, "events" | "watchDevice">,
  uuidOf: () => string,
  on: (p: BrokerPresence | undefined) => void,
): PresenceWatch {
  let watched: string | undefined;
  let offs: Unsubscribe[] = [];
  const rewatch = (): void => {
    const uuid = uuidOf();
    if (offs.length > 0 && watched === uuid) return;
    for (const off of offs.splice(0)) off();
    watched = uuid;
    offs = uuid
      ? [fleet.watchDevice(uuid, on)]
      : [
          fleet.events.on("device", (p) => void (p.uuid === uuidOf() && on(p))),
          fleet.events.on("gone", (g) => void (g.uuid === uuidOf() && on(undefined))),
        ];
  };
  rewatch();
  return { rewatch, close: () => offs.splice(0).forEach((off) => off()) };
}
