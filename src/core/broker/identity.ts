/**
 * Which MAC and key each device uuid belongs to. A Meross login proves only that the client
 * knows some key (docs/protocol.md §5.2) and the uuid is whatever the client id says, so a
 * client holding any accepted key could otherwise log in under another device's uuid.
 *
 * An entry is **proven** when it comes from proof that belongs to that device: an onboarding
 * that set its key, a node that names its uuid and key (meross-config, meross-onboard), or a
 * reply the device signed with that key naming that uuid (System.All over HTTP). Once proven,
 * only its own MAC and key open its name. An entry learnt from a Bind signed with some accepted
 * key is **unproven**: it keeps a second, different key out only while nothing better is known
 * (first come, first served among unproven logins), and proof for the uuid replaces it.
 *
 * The book is bounded: past IDENTITY_LIMIT the least recently used unproven entry goes first,
 * so a flood of invented uuids can neither evict a proven device nor keep a new proof out.
 * It keeps a salted fingerprint of the key, never the key, in a JSON file written 0600.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { isObject, isUuid, normalizeMac } from "../protocol/rules";

/** How an entry was learnt; "bind" (a Bind or login with some accepted key) is the only unproven one. */
export type IdentitySource = "bind" | "onboarding" | "config" | "device";

export interface IdentityRecord {
  mac: string;
  /** Fingerprint of the key (see keyId); the key itself is never stored. */
  keyId: string;
  source: IdentitySource;
  /** Epoch ms when it was learnt. */
  at: number;
  /** Epoch ms of its last use (a login under it): the least recently used unproven entry goes first. */
  seen: number;
}

/** The file name inside the broker's directory. */
export const IDENTITY_FILE = "device-identities.json";
/** More uuids than any home has; past it the least recently used unproven entry is dropped. */
export const IDENTITY_LIMIT = 2048;
/** Unproven entries are written at most once in this time (a flood must not rewrite the file per login). */
const UNPROVEN_SAVE_DELAY_MS = 1_000;
/**
 * Proven entries are written at once, up to PROVEN_SAVES_PER_SECOND a second; past that in one
 * batch when the second is over (a thousand devices proving their keys at start-up cost a few
 * writes, not a thousand rewrites of the whole file). A crash loses at most that second; the
 * devices prove themselves again.
 */
const PROVEN_SAVES_PER_SECOND = 4;

/** Books with a change not written yet: written when the process exits normally. */
const unsaved = new Set<IdentityBook>();
let exitHook = false;
function saveAtExit(book: IdentityBook): void {
  unsaved.add(book);
  if (exitHook) return;
  exitHook = true;
  process.once("exit", () => {
    for (const b of [...unsaved]) b.flush();
  });
}

/** Salted with the uuid so one fingerprint says nothing about another device's key. */
export function keyId(uuid: string, key: string): string {
  return createHash("sha256").update(`meross-local identity\0${uuid}\0${key}`).digest("hex").slice(0, 32);
}

export function isProven(source: IdentitySource): boolean {
  return source !== "bind";
}

const SOURCE_TEXT: Record<IdentitySource, string> = {
  bind: "its signed Bind",
  onboarding: "its onboarding",
  config: "the node that names its uuid and key (meross-config, meross-onboard)",
  device: "a reply the device signed with its key",
};

const SOURCES = new Set<string>(["bind", "onboarding", "config", "device"]);

export class IdentityBook {
  /** In least-recently-used order (a Map keeps insertion order; a use re-inserts). */
  private readonly records = new Map<string, IdentityRecord>();
  private saveTimer: NodeJS.Timeout | undefined;
  private saveDue = 0;
  private lastSave = -Infinity;
  /** When the last PROVEN_SAVES_PER_SECOND writes happened, oldest first. */
  private readonly recentSaves: number[] = [];
  private written = 0;

  /** `file`: where bindings persist across restarts (undefined: this run only). A damaged file is started afresh. */
  constructor(readonly file?: string) {
    if (file) this.load(file);
  }

  get size(): number {
    return this.records.size;
  }

  /** Times the file was written since this book was made. */
  get writes(): number {
    return this.written;
  }

  get(uuid: string): IdentityRecord | undefined {
    const r = this.records.get(uuid);
    return r ? { ...r } : undefined;
  }

  /** True when the uuid's entry comes from proof that belongs to the device. */
  proven(uuid: string): boolean {
    const r = this.records.get(uuid);
    return !!r && isProven(r.source);
  }

  /** The uuids whose entry is unproven, oldest use first. */
  unproven(): string[] {
    return [...this.records].filter(([, r]) => !isProven(r.source)).map(([uuid]) => uuid);
  }

  /** True when `mac` and `key` are exactly what the uuid is bound to. */
  matches(uuid: string, mac: string, key: string): boolean {
    const r = this.records.get(uuid);
    const m = normalizeMac(mac) ?? mac.toLowerCase();
    return !!r && r.mac === m && r.keyId === keyId(uuid, key);
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
      const unproven = isProven(r.source)
        ? ""
        : " (unproven: a Bind only shows the client held an accepted key; the uuid and key named in a meross-config, or an onboarding, replace it)";
      return (
        `device ${uuid} is bound to another key (${since})${unproven}: another client is using its name. ` +
        `If you gave the device a new key, enter its uuid and new key in its meross-config${fix}`
      );
    }
    return undefined;
  }

  /** A login used this entry: it is the most recently used now (kept in memory; written with the next change). */
  touch(uuid: string, now = Date.now()): void {
    const r = this.records.get(uuid);
    if (!r) return;
    this.records.delete(uuid);
    this.records.set(uuid, { ...r, seen: now });
  }

  /**
   * Binds `uuid` to `mac` and `key`. Proof replaces anything; an unproven Bind never replaces a
   * proven entry. Returns false when not stored (invalid, or the book is full of proven entries).
   */
  learn(uuid: string, mac: string, key: string, source: IdentitySource, now = Date.now()): boolean {
    const m = normalizeMac(mac);
    if (!isUuid(uuid) || !m || typeof key !== "string" || !SOURCES.has(source)) return false;
    const before = this.records.get(uuid);
    const id = keyId(uuid, key);
    const proven = isProven(source);
    if (before && before.mac === m && before.keyId === id && (isProven(before.source) || !proven)) {
      this.touch(uuid, now);
      return true;
    }
    if (before && isProven(before.source) && !proven) return false;
    if (!before && this.records.size >= IDENTITY_LIMIT && !this.makeRoom(proven)) return false;
    this.records.delete(uuid);
    this.records.set(uuid, { mac: m, keyId: id, source, at: now, seen: now });
    this.saveSoon(proven);
    return true;
  }

  forget(uuid: string): void {
    if (this.records.delete(uuid)) this.save();
  }

  /** Writes pending changes now (a batched unproven entry). */
  flush(): void {
    if (this.saveTimer) this.save();
  }

  /** Drops the least recently used unproven entry; for a proven newcomer, else the least recently used proven one. */
  private makeRoom(forProven: boolean): boolean {
    for (const [uuid, r] of this.records) {
      if (isProven(r.source)) continue;
      this.records.delete(uuid);
      return true;
    }
    if (!forProven) return false;
    const oldest = this.records.keys().next().value;
    if (oldest === undefined) return false;
    this.records.delete(oldest);
    return true;
  }

  private load(file: string): void {
    let data: unknown;
    try {
      data = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
      return;
    }
    const devices = isObject(data) && isObject(data.devices) ? data.devices : {};
    const loaded: Array<[string, IdentityRecord]> = [];
    for (const [uuid, v] of Object.entries(devices)) {
      if (!isUuid(uuid) || !isObject(v)) continue;
      const mac = normalizeMac(v.mac);
      const source = typeof v.source === "string" && SOURCES.has(v.source) ? (v.source as IdentitySource) : undefined;
      if (!mac || typeof v.keyId !== "string" || !/^[0-9a-f]{32}$/.test(v.keyId) || !source) continue;
      const at = typeof v.at === "number" ? v.at : 0;
      loaded.push([uuid, { mac, keyId: v.keyId, source, at, seen: typeof v.seen === "number" ? v.seen : at }]);
    }
    // Proven entries first, so an over-full file (edited by hand, an older version) keeps them.
    loaded.sort((a, b) => Number(isProven(b[1].source)) - Number(isProven(a[1].source)));
    for (const [uuid, r] of loaded.slice(0, IDENTITY_LIMIT).sort((a, b) => a[1].seen - b[1].seen)) this.records.set(uuid, r);
  }

  /**
   * Writes now, unless the rate is used up (proven: PROVEN_SAVES_PER_SECOND a second; unproven:
   * one per UNPROVEN_SAVE_DELAY_MS): then once, later, with every change made meanwhile (a pending
   * later write is brought forward for a proof).
   */
  private saveSoon(proven: boolean): void {
    if (!this.file) return;
    const now = Date.now();
    const full = this.recentSaves.length >= PROVEN_SAVES_PER_SECOND;
    const due = proven ? (full ? this.recentSaves[0] + 1_000 : now) : this.lastSave + UNPROVEN_SAVE_DELAY_MS;
    if (this.saveTimer && this.saveDue <= due) return;
    if (due <= now) return this.save();
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveDue = due;
    this.saveTimer = setTimeout(() => this.save(), due - now);
    this.saveTimer.unref();
    saveAtExit(this);
  }

  private save(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    unsaved.delete(this);
    const file = this.file;
    if (!file) return;
    this.lastSave = Date.now();
    this.recentSaves.push(this.lastSave);
    if (this.recentSaves.length > PROVEN_SAVES_PER_SECOND) this.recentSaves.shift();
    this.written++;
    const body = JSON.stringify({ version: 2, devices: Object.fromEntries(this.records) }, null, 1);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      // A fresh temporary file (never one planted there), then an atomic rename over the book.
      fs.rmSync(tmp, { force: true });
      fs.writeFileSync(tmp, body, { mode: 0o600, flag: "wx" });
      fs.renameSync(tmp, file);
      fs.chmodSync(file, 0o600);
    } catch {
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        // Nothing more to tidy.
      }
      // The bindings still hold for this run; a read-only directory must not stop the broker.
    }
  }
}
