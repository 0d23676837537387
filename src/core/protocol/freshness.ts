/**
 * Is a device's PUSH fresh, or a replay? A signature proves who wrote a message, not when it
 * was sent: a captured push (or one a broker kept as retained) can be delivered again years
 * later. Each device's pushes are checked against its own clock (docs/protocol.md §1.1, §3.8):
 *
 * - A timestamp below `EPOCH_FLOOR_S` is seconds since boot (a device that has no time yet):
 *   it cannot be placed in time, only its messageId is checked.
 * - Within `SYNCED_WITHIN_S` of our clock: fresh (our broker gives devices our time at login,
 *   System.Clock and System.Time), and it becomes the device's newest time, even when an
 *   earlier push came from a clock running ahead that has since been corrected.
 * - Otherwise the device's clock is off: tolerated up to `MAX_SKEW_S` (a time-zone mistake),
 *   but never more than `SYNCED_WITHIN_S` older than the newest push seen from that device.
 * - A messageId seen recently from the same device is a replay (the last `RECENT_IDS` are kept).
 */

/** 2001-09-09: below this a timestamp is an uptime counter, not a date. */
export const EPOCH_FLOOR_S = 1_000_000_000;
/** A device whose clock was set by us stays this close to our clock; also how far pushes may come out of order. */
export const SYNCED_WITHIN_S = 15 * 60;
/** How far a device clock that was never seen synced may be off (time-zone mistakes fit). */
export const MAX_SKEW_S = 24 * 3600;
/** messageIds remembered per device. */
export const RECENT_IDS = 256;
/** Devices remembered; the least recently heard is forgotten first. */
export const MAX_DEVICES = 4096;

interface Clock {
  newest: number;
  ids: RecentIds;
}

/**
 * The last RECENT_IDS messageIds of one device, each kept as a 64-bit hash (two 32-bit FNV-1a
 * lanes over the whole id) in a ring that starts small and doubles up to RECENT_IDS: a full
 * window is 2 KB, not the 12 KB a Set of id strings takes, which at one push a second per device
 * is what a large fleet holds after a few minutes. A replay repeats the id, so it always hashes
 * the same; a fresh id taken for a replay would need a 64-bit collision with one of the last
 * RECENT_IDS ids.
 */
class RecentIds {
  /** hi, lo of each hash, oldest first until the ring is full, then from `next` on. */
  private keys = new Uint32Array(2 * 16);
  private count = 0;
  private next = 0;

  has(hi: number, lo: number): boolean {
    const k = this.keys;
    for (let i = 0; i < 2 * this.count; i += 2) if (k[i + 1] === lo && k[i] === hi) return true;
    return false;
  }

  add(hi: number, lo: number): void {
    if (this.count === this.keys.length / 2 && this.count < RECENT_IDS) {
      const grown = new Uint32Array(2 * Math.min(RECENT_IDS, this.count * 2));
      grown.set(this.keys);
      this.keys = grown;
    }
    const capacity = this.keys.length / 2;
    let at: number;
    if (this.count < capacity) {
      at = this.count++;
    } else {
      // Full: the oldest is overwritten (before the first wrap the oldest is at 0).
      at = this.next;
      this.next = (this.next + 1) % capacity;
    }
    this.keys[2 * at] = hi;
    this.keys[2 * at + 1] = lo;
  }
}

/** Two FNV-1a lanes (different offset bases, one over the id reversed): a 64-bit hash without allocating. */
function hashId(id: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0, j = id.length - 1; i < id.length; i++, j--) {
    a = Math.imul(a ^ id.charCodeAt(i), 0x01000193);
    b = Math.imul(b ^ id.charCodeAt(j), 0x01000193);
  }
  return [a >>> 0, b >>> 0];
}

export class PushFreshness {
  private readonly devices = new Map<string, Clock>();

  /**
   * Records the push of `uuid` and returns why it is stale or a replay, or undefined when
   * it is fresh. `nowMs`: our clock.
   */
  check(uuid: string, header: { messageId?: unknown; timestamp?: unknown }, nowMs = Date.now()): string | undefined {
    const now = Math.floor(nowMs / 1000);
    let c = this.devices.get(uuid);
    if (c) this.devices.delete(uuid);
    else c = { newest: 0, ids: new RecentIds() };
    this.devices.set(uuid, c);
    if (this.devices.size > MAX_DEVICES) this.devices.delete(this.devices.keys().next().value as string);

    const id = typeof header.messageId === "string" ? header.messageId : "";
    const [hi, lo] = id ? hashId(id) : [0, 0];
    if (id && c.ids.has(hi, lo)) return `messageId ${id.slice(0, 32)} was already seen from this device (a replay)`;
    const ts = Number(header.timestamp);
    if (Number.isFinite(ts) && ts >= EPOCH_FLOOR_S) {
      const off = Math.abs(ts - now);
      if (off <= SYNCED_WITHIN_S) c.newest = ts;
      else if (off > MAX_SKEW_S) return `its timestamp ${stamp(ts)} is ${describeOff(ts - now)} (stale or replayed)`;
      else if (c.newest && ts < c.newest - SYNCED_WITHIN_S)
        return `its timestamp ${stamp(ts)} is older than a push already seen from this device (a replay)`;
      else c.newest = Math.max(c.newest, ts);
    }
    if (id) c.ids.add(hi, lo);
    return undefined;
  }

  /** Forgets a device (it logged in again: its clock may have been reset). */
  forget(uuid: string): void {
    this.devices.delete(uuid);
  }
}

function stamp(ts: number): string {
  const d = new Date(ts * 1000);
  return Number.isNaN(d.getTime()) ? String(ts) : d.toISOString();
}

function describeOff(deltaS: number): string {
  const a = Math.abs(deltaS);
  const text =
    a >= 86_400 ? `${Math.round(a / 86_400)} days` : a >= 3600 ? `${Math.round(a / 3600)} hours` : `${Math.round(a / 60)} minutes`;
  return `${text} ${deltaS < 0 ? "behind" : "ahead of"} our clock`;
}
