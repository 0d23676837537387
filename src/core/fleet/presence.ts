/**
 * Who is on the broker right now, and which identity each device proved: the registry
 * both fleet modes feed (logins on the embedded broker, signed messages on an existing one)
 * and report through the fleet's "device" and "gone" events.
 */
import type { TypedEvents } from "../events";
import type { BrokerPresence, FleetEvents } from "./types";

/** What a device proved about itself: the MAC it logged in or bound with, and whose key it holds. */
export interface IdentityBinding {
  mac?: string;
  /** The user (key source) whose key the device's login or signature matched. */
  keyOwner?: string;
}

export class PresenceRegistry {
  private readonly present = new Map<string, BrokerPresence>();
  private readonly bindings = new Map<string, IdentityBinding>();

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
    if (fresh || !before || JSON.stringify(before) !== JSON.stringify(next)) this.events.emit("device", { ...next });
  }

  drop(uuid: string): void {
    if (this.present.delete(uuid)) this.events.emit("gone", { uuid });
  }

  /** Reports every present device again (the connection came back: users re-check their paths). */
  replay(): void {
    for (const p of this.present.values()) this.events.emit("device", { ...p });
  }

  /** Forgets everyone; `report` sends a "gone" for each. */
  clear(report = false): void {
    const uuids = [...this.present.keys()];
    this.present.clear();
    this.bindings.clear();
    if (report) for (const uuid of uuids) this.events.emit("gone", { uuid });
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
