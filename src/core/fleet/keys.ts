/**
 * The device keys the users of one broker know. Each user (a meross-config, an onboarding)
 * adds a source and keeps the function that withdraws it; the broker asks at each device
 * login and for each signature, so a key edited in a user is seen without a restart.
 */
import type { Unsubscribe } from "../events";

export class KeyRing {
  private readonly sources = new Map<string, () => readonly string[]>();
  /** The device uuid an owner's keys belong to (a meross-config that names its device). */
  private readonly uuids = new Map<string, () => string>();

  /**
   * `owner` replaces an earlier source of the same owner; the returned function withdraws only
   * this one. `uuid`: the device these keys belong to, when the owner names one.
   */
  use(owner: string, keys: () => readonly string[], uuid?: () => string): Unsubscribe {
    this.sources.set(owner, keys);
    if (uuid) this.uuids.set(owner, uuid);
    else this.uuids.delete(owner);
    return () => {
      if (this.sources.get(owner) !== keys) return;
      this.sources.delete(owner);
      this.uuids.delete(owner);
    };
  }

  /** The non-empty keys that owners naming `uuid` give for it: that device's key, by the user's word. */
  named(uuid: string): string[] {
    const out = new Set<string>();
    for (const [owner, of] of this.uuids) {
      let named: string;
      try {
        named = of();
      } catch {
        named = "";
      }
      if (named && named === uuid) for (const k of this.keysOf(owner)) if (k) out.add(k);
    }
    return [...out];
  }

  get owners(): number {
    return this.sources.size;
  }

  /** Every known key once, in the order the owners were added. */
  all(): string[] {
    const out = new Set<string>();
    for (const owner of this.sources.keys()) for (const k of this.keysOf(owner)) out.add(k);
    return [...out];
  }

  /** The first owner that knows `key`. */
  ownerOf(key: string): string | undefined {
    for (const owner of this.sources.keys()) if (this.keysOf(owner).includes(key)) return owner;
    return undefined;
  }

  private keysOf(owner: string): string[] {
    try {
      return (this.sources.get(owner)?.() ?? []).filter((k): k is string => typeof k === "string");
    } catch {
      // One user's broken key source must not lock every device out.
      return [];
    }
  }
}
