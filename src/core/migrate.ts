/**
 * Moving every Meross device found on the LAN to a broker of ours in one pass: discovery
 * (core/discovery.ts) with the account key says which devices the key fits, a second look with
 * the new key finds the ones moved already, each remaining device is re-bound
 * (core/onboarding/rebind.ts) a few at a time, and its login to the broker is awaited
 * (core/fleet/arrival.ts). Each device ends in one line: moved, already moved, wrong key,
 * unreachable, did not arrive, or failed; a device whose key is neither is never touched.
 */
import { MerossError, asMerossError, scrubSecrets } from "./errors";
import { discover, type FoundDevice } from "./discovery";
import { rebind, type RebindBroker } from "./onboarding/rebind";
import { ArrivalError, type ArrivalWatcher } from "./fleet/arrival";
import type { LoginAdder } from "./broker/dynsec";

/** Re-binds (and waits) running at once: few, so a home's devices do not all reconnect together. */
export const MIGRATE_CONCURRENCY = 4;
export const MIGRATE_WAIT_MS = 60_000;

export type MigrateOutcome = "moved" | "already moved" | "wrong key" | "unreachable" | "did not arrive" | "failed";

export interface MigrateLine {
  address: string;
  uuid?: string;
  name?: string;
  model?: string;
  outcome: MigrateOutcome;
  /** One sentence, never a key or a password. */
  why: string;
}

export interface MigrateOptions {
  addresses: string[];
  /** True for addresses given one by one: those that do not answer get an "unreachable" line. */
  listSilent?: boolean;
  /** The devices' HTTP port (80 on real ones). */
  devicePort?: number;
  /** The key the devices sign with now: the Meross account key for app-paired ones. */
  accountKey: string;
  newKey: string;
  /** What each device is told: host, port (and user id). */
  broker: RebindBroker & { port: number };
  /** Recording the broker's logins since before the first re-bind; without it arrivals are not watched. */
  watcher?: ArrivalWatcher;
  waitMs?: number;
  addLogin?: LoginAdder;
  concurrency?: number;
  /** Per-request timeout for discovery and the re-bind. */
  timeoutMs?: number;
  names?: ReadonlyMap<string, string>;
  signal?: AbortSignal;
  onLine?: (line: MigrateLine) => void;
}

type Plan = { found: FoundDevice; currentKey?: string; already?: boolean };

async function plan(opts: MigrateOptions): Promise<{ plans: Plan[]; silent: string[] }> {
  const ours = [`${opts.broker.host}:${opts.broker.port}`];
  const base = { port: opts.devicePort, timeoutMs: opts.timeoutMs, names: opts.names, ourBrokers: ours, signal: opts.signal };
  const found = await discover({ ...base, addresses: opts.addresses, key: opts.accountKey });
  const refused = found.filter((f) => !f.keyFits).map((f) => f.address);
  const again =
    refused.length > 0 && opts.newKey !== opts.accountKey ? await discover({ ...base, addresses: refused, key: opts.newKey }) : [];
  const withNewKey = new Map(again.filter((f) => f.keyFits).map((f) => [f.address, f]));
  const plans = found.map((f): Plan => {
    if (f.keyFits)
      return { found: f, currentKey: opts.accountKey, already: f.boundTo === "this-broker" && opts.newKey === opts.accountKey };
    const n = withNewKey.get(f.address);
    if (!n) return { found: f };
    return { found: { ...n, ...(f.name ? { name: f.name } : {}) }, currentKey: opts.newKey, already: n.boundTo === "this-broker" };
  });
  const seen = new Set(found.map((f) => f.address));
  return { plans, silent: opts.listSilent ? opts.addresses.filter((a) => !seen.has(a)) : [] };
}

function line(f: FoundDevice, outcome: MigrateOutcome, why: string): MigrateLine {
  return {
    address: f.address,
    uuid: f.uuid,
    ...(f.name ? { name: f.name } : {}),
    ...(f.model ? { model: f.model } : {}),
    outcome,
    why,
  };
}

async function moveOne(p: Plan, opts: MigrateOptions): Promise<MigrateLine> {
  const f = p.found;
  const at = `${opts.broker.host}:${opts.broker.port}`;
  if (p.currentKey === undefined) {
    return line(
      f,
      "wrong key",
      "it refuses the account key and the new key: it was set up with another account or by another broker; left untouched",
    );
  }
  if (p.already) return line(f, "already moved", `it answers with the new key and uses ${at}; nothing sent`);
  const secrets = [opts.accountKey, opts.newKey];
  let result;
  try {
    result = await rebind({
      address: opts.devicePort && !f.address.includes(":") ? `${f.address}:${opts.devicePort}` : f.address,
      currentKey: p.currentKey,
      newKey: opts.newKey,
      broker: opts.broker,
      timeoutMs: opts.timeoutMs,
      addLogin: opts.addLogin,
      signal: opts.signal,
    });
  } catch (err) {
    const e = asMerossError(err);
    const why = scrubSecrets(e.message, secrets);
    if (e.code === "WRONG_KEY") return line(f, "wrong key", `${why} (left untouched)`);
    if (e.code === "UNREACHABLE" || e.code === "TIMEOUT") return line(f, "unreachable", why);
    return line(f, "failed", why);
  }
  const from = p.currentKey === opts.accountKey ? "" : " (it had the new key already)";
  if (!opts.watcher) return line(f, "moved", `re-bound to ${at}${from}; its login there is not watched from here`);
  const t0 = Date.now();
  try {
    const a = await opts.watcher.wait({
      uuid: result.device.uuid,
      mac: result.device.mac,
      timeoutMs: opts.waitMs ?? MIGRATE_WAIT_MS,
      signal: opts.signal,
    });
    const s = (Math.max(0, Date.now() - t0) / 1000).toFixed(1);
    return line(f, "moved", `re-bound${from} and logged in to ${at} from ${a.ip || "its address"} after ${s} s`);
  } catch (err) {
    const e = asMerossError(err);
    const why = scrubSecrets(e.message, secrets);
    return line(f, e instanceof ArrivalError || e.code === "TIMEOUT" ? "did not arrive" : "failed", why);
  }
}

/**
 * Runs the migration; resolves with one line per device found (and per silent address with
 * `listSilent`), in address order. Throws only on bad options (BAD_INPUT), before anything is sent.
 */
export async function migrate(opts: MigrateOptions): Promise<MigrateLine[]> {
  if (typeof opts?.accountKey !== "string" || typeof opts.newKey !== "string") {
    throw new MerossError("BAD_INPUT", "Moving devices needs the account key (from meross cloud) and the new key, as text.");
  }
  if (!opts.broker || typeof opts.broker.host !== "string" || opts.broker.host.trim() === "") {
    throw new MerossError("BAD_INPUT", "Give the host name or IP address of the MQTT broker the devices should move to.");
  }
  const { plans, silent } = await plan(opts);
  const lines: MigrateLine[] = [];
  const emit = (l: MigrateLine): void => {
    lines.push(l);
    opts.onLine?.(l);
  };
  for (const address of silent) {
    emit({ address, outcome: "unreachable", why: "nothing answered there as a Meross device; left untouched" });
  }
  const limit = Math.max(1, Math.min(opts.concurrency ?? MIGRATE_CONCURRENCY, 16));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < plans.length) {
      const p = plans[next++];
      if (opts.signal?.aborted) {
        emit(line(p.found, "failed", "cancelled before it was touched"));
        continue;
      }
      emit(await moveOne(p, opts));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, plans.length) }, worker));
  const order = new Map(opts.addresses.map((a, i) => [a, i]));
  return lines.sort((a, b) => (order.get(a.address) ?? 0) - (order.get(b.address) ?? 0));
}
