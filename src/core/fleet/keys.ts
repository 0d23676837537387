/**
 * The device keys the users of one broker know. Each user (a meross-config, an onboarding)
 * adds a source and keeps the function that withdraws it; the broker asks at each device
 * login and for each signature, so a key edited in a user is seen without a restart.
 */
import type { Unsubscribe } from "../events";

export class KeyRing {
  private readonly sources = new Map<string, () => readonly string[]>();

  /** `owner` replaces an earlier source of the same owner; the returned function withdraws only this one. */
  use(owner: string, keys: () => readonly string[]): Unsubscribe {
    this.sources.set(owner, keys);
    return () => {
      if (this.sources.get(owner) === keys) this.sources.delete(owner);
    };
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
