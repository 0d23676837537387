/**
 * Which MAC and key each device uuid belongs to. A Meross login proves only that the client
 * knows some key (docs/protocol.md §5.2) and the uuid is whatever the client id says, so a
 * client holding any key could otherwise log in under another device's uuid. Once a uuid is
 * bound (from the device's signed Bind, an onboarding, or a meross-config naming the uuid and
 * its key), only its own MAC and key open its name.
 *
 * The book keeps a salted fingerprint of the key, never the key, in a JSON file written 0600.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { isObject, isUuid, normalizeMac } from "../protocol/rules";

export type IdentitySource = "bind" | "onboarding" | "config";

export interface IdentityRecord {
  mac: string;
  /** Fingerprint of the key (see keyId); the key itself is never stored. */
  keyId: string;
  source: IdentitySource;
  /** Epoch ms when it was learnt. */
  at: number;
}

/** The file name inside the broker's directory. */
export const IDENTITY_FILE = "device-identities.json";
/** More uuids than any home has; past it a new uuid is still served but not remembered. */
export const IDENTITY_LIMIT = 2048;

/** Salted with the uuid so one fingerprint says nothing about another device's key. */
export function keyId(uuid: string, key: string): string {
  return createHash("sha256").update(`meross-local identity\0${uuid}\0${key}`).digest("hex").slice(0, 32);
}

const SOURCE_TEXT: Record<IdentitySource, string> = {
  bind: "its signed Bind",
  onboarding: "its onboarding",
  config: "the node that names its uuid and key (meross-config, meross-onboard)",
};

export class IdentityBook {
  private readonly records = new Map<string, IdentityRecord>();

  /** `file`: where bindings persist across restarts (undefined: this run only). A damaged file is started afresh. */
  constructor(readonly file?: string) {
    if (file) this.load(file);
  }

  get size(): number {
    return this.records.size;
  }

  get(uuid: string): IdentityRecord | undefined {
    const r = this.records.get(uuid);
    return r ? { ...r } : undefined;
  }

  /**
   * Why a client proving `mac` and `key` may not use `uuid`, or undefined when it may (the
   * uuid is unbound, or bound to this very MAC and key).
   */
  conflict(uuid: string, mac: string, key: string): string | undefined {
    const r = this.records.get(uuid);
    if (!r) return undefined;
    const m = normalizeMac(mac) ?? mac.toLowerCase();
    const since = `since ${new Date(r.at).toISOString().slice(0, 10)}, learnt from ${SOURCE_TEXT[r.source]}`;
    if (r.mac !== m) return `device ${uuid} belongs to MAC ${r.mac} (${since}), not to ${m}`;
    if (r.keyId !== keyId(uuid, key)) {
      const fix = this.file ? `, or delete its entry from ${this.file}` : "";
      return (
        `device ${uuid} is bound to another key (${since}): another client is using its name. ` +
        `If you gave the device a new key, enter its uuid and new key in its meross-config${fix}`
      );
    }
    return undefined;
  }

  /** Binds `uuid` to `mac` and `key`; a meross-config's word replaces a learnt one. Returns false when not stored. */
  learn(uuid: string, mac: string, key: string, source: IdentitySource, now = Date.now()): boolean {
    const m = normalizeMac(mac);
    if (!isUuid(uuid) || !m || typeof key !== "string") return false;
    const before = this.records.get(uuid);
    const id = keyId(uuid, key);
    if (before && before.mac === m && before.keyId === id) return true;
    if (!before && this.records.size >= IDENTITY_LIMIT) return false;
    this.records.set(uuid, { mac: m, keyId: id, source, at: now });
    this.save();
    return true;
  }

  forget(uuid: string): void {
    if (this.records.delete(uuid)) this.save();
  }

  private load(file: string): void {
    let data: unknown;
    try {
      data = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
      return;
    }
    const devices = isObject(data) && isObject(data.devices) ? data.devices : {};
    for (const [uuid, v] of Object.entries(devices)) {
      if (this.records.size >= IDENTITY_LIMIT) break;
      if (!isUuid(uuid) || !isObject(v)) continue;
      const mac = normalizeMac(v.mac);
      const source = v.source === "bind" || v.source === "onboarding" || v.source === "config" ? v.source : undefined;
      if (!mac || typeof v.keyId !== "string" || !/^[0-9a-f]{32}$/.test(v.keyId) || !source) continue;
      this.records.set(uuid, { mac, keyId: v.keyId, source, at: typeof v.at === "number" ? v.at : 0 });
    }
  }

  private save(): void {
    const file = this.file;
    if (!file) return;
    const body = JSON.stringify({ version: 1, devices: Object.fromEntries(this.records) }, null, 1);
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, body, { mode: 0o600 });
      fs.renameSync(tmp, file);
      fs.chmodSync(file, 0o600);
    } catch {
      // The bindings still hold for this run; a read-only directory must not stop the broker.
    }
  }
}
