/**
 * Keeping a running fleet across a full deploy. Node-RED stops every node on a full deploy
 * and creates new ones; for a broker that would drop every device session, and real devices
 * back off for a long time before they dial again. So the stopped node parks its fleet here
 * under its node id and a fingerprint of its settings, and the new node with the same id
 * adopts it when its settings give the same fingerprint. Changed settings stop the parked
 * fleet (the caller learns which ones, by name); a fleet nobody adopts is stopped after a
 * grace period, or at once when the caller knows no adopter will come (`expire`).
 *
 * One instance per Node-RED runtime (owned by whoever registers the node type), never a
 * module-level one: two runtimes in one process must not trade fleets.
 */
import { createHmac, randomBytes } from "node:crypto";

/** What a parked fleet must offer: a way to stop it. */
export interface Parkable {
  close(reason?: string): Promise<void>;
}

/** Setting name → keyed hash of its value: comparable, but no password or key in clear. */
export type Fingerprint = ReadonlyMap<string, string>;

export interface Taken<F> {
  /** The parked fleet, when its settings were unchanged; undefined otherwise. */
  fleet: F | undefined;
  /** Names of the settings that differ from the parked fleet's (empty when adopted or nothing was parked). */
  changed: string[];
  /** Resolves once the replaced fleet has stopped (its port is free); never rejects. */
  released: Promise<void>;
}

export interface HandoverOptions {
  /** How long a parked fleet waits for its adopter before it is stopped. */
  graceMs?: number;
  /** Why an unadopted fleet stopped (the fleet's "stopped" event carries it). */
  expiredReason?: string;
}

interface Parked<F> {
  fleet: F;
  print: Fingerprint;
  timer: NodeJS.Timeout;
}

/** A full deploy stops and starts the nodes within milliseconds; seconds leave room for a slow machine. */
export const HANDOVER_GRACE_MS = 5_000;

export class FleetHandover<F extends Parkable> {
  private readonly parked = new Map<string, Parked<F>>();
  // Per instance and never stored: the hashes cannot be compared with anything outside this process.
  private readonly salt = randomBytes(32);
  private readonly graceMs: number;
  private readonly expiredReason: string;

  constructor(opts: HandoverOptions = {}) {
    this.graceMs = opts.graceMs ?? HANDOVER_GRACE_MS;
    this.expiredReason = opts.expiredReason ?? "the broker was stopped: no node took it over after the deploy";
  }

  /** Fleets waiting for their adopter. */
  get size(): number {
    return this.parked.size;
  }

  has(id: string): boolean {
    return this.parked.has(id);
  }

  /** Every setting hashed with this instance's secret salt; undefined values count as absent. */
  fingerprint(settings: Readonly<Record<string, unknown>>): Fingerprint {
    const out = new Map<string, string>();
    for (const name of Object.keys(settings).sort()) {
      const v = settings[name];
      if (v === undefined) continue;
      out.set(
        name,
        createHmac("sha256", this.salt)
          .update(JSON.stringify(v) ?? String(v))
          .digest("hex"),
      );
    }
    return out;
  }

  /** Keeps `fleet` for the node that replaces node `id`; stopped after the grace period unless adopted. */
  park(id: string, print: Fingerprint, fleet: F): void {
    const before = this.parked.get(id);
    if (before && before.fleet !== fleet) void this.stop(before, this.expiredReason);
    if (before) clearTimeout(before.timer);
    const entry: Parked<F> = { fleet, print, timer: setTimeout(() => void this.release(id, entry), this.graceMs) };
    // A parked fleet must never keep a stopping process alive.
    entry.timer.unref();
    this.parked.set(id, entry);
  }

  /** The fleet parked for node `id` when `print` matches; a mismatch stops it (`released` says when). */
  adopt(id: string, print: Fingerprint): Taken<F> {
    const entry = this.parked.get(id);
    if (!entry) return { fleet: undefined, changed: [], released: Promise.resolve() };
    this.parked.delete(id);
    clearTimeout(entry.timer);
    const changed = changedSettings(entry.print, print);
    if (changed.length === 0) return { fleet: entry.fleet, changed, released: Promise.resolve() };
    return { fleet: undefined, changed, released: this.stop(entry, `restarted: ${describeChanges(changed)}`) };
  }

  /** Stops every parked fleet now (the new flows have started, or the runtime is shutting down). */
  async expire(reason = this.expiredReason): Promise<void> {
    const entries = [...this.parked.entries()];
    this.parked.clear();
    await Promise.all(entries.map(([, e]) => (clearTimeout(e.timer), this.stop(e, reason))));
  }

  private release(id: string, entry: Parked<F>): Promise<void> {
    if (this.parked.get(id) !== entry) return Promise.resolve();
    this.parked.delete(id);
    return this.stop(entry, this.expiredReason);
  }

  private stop(entry: Parked<F>, reason: string): Promise<void> {
    return entry.fleet.close(reason).catch(() => undefined);
  }
}

/** Names whose hashes differ, or that only one side has, in a stable order. */
export function changedSettings(before: Fingerprint, after: Fingerprint): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => before.get(n) !== after.get(n)).sort();
}

/** "port changed", "port and bind host changed", "port, mode and url changed". */
export function describeChanges(names: readonly string[]): string {
  if (names.length === 0) return "settings changed";
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  return `${list} changed`;
}
