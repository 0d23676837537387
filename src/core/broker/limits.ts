/**
 * What an unauthenticated client on the LAN may cost the embedded broker. The MQTT parser
 * buffers a whole packet before anyone looks at it, and aedes waits 30 s for a CONNECT, so
 * without these bounds one TLS client could make it hold a 256 MB CONNECT or thousands of
 * half-open sessions.
 */
import type { Socket } from "node:net";

/** A device CONNECT is ~200 bytes (client id, MAC, password: docs/protocol.md §5.2). */
export const LOGIN_PACKET_LIMIT = 4 * 1024;
/** The largest payload accepted after login; device messages are a few KiB at most. */
export const PAYLOAD_LIMIT = 64 * 1024;
/** A packet may carry the payload plus its topic and header. */
export const PACKET_LIMIT = PAYLOAD_LIMIT + 1024;
/** Time from TCP connect to an accepted login. */
export const LOGIN_DEADLINE_MS = 10_000;
/** Connections one address may hold open before logging in (a device needs one). */
export const PENDING_PER_ADDRESS = 8;
/**
 * After an address sent an oversize packet (no Meross device ever does), its new connections are
 * closed at once for this long: each TLS handshake costs memory, and a flood of them is the attack.
 */
export const VIOLATION_COOLDOWN_MS = 2_000;
/** Addresses remembered in cool-down at most (a LAN has far fewer hosts; the oldest is forgotten first). */
const COOLDOWN_MAX_ADDRESSES = 1024;

export interface ConnectionLimits {
  loginPacket: number;
  packet: number;
  loginDeadlineMs: number;
  pendingPerAddress: number;
  violationCooldownMs: number;
}

export const DEFAULT_LIMITS: ConnectionLimits = {
  loginPacket: LOGIN_PACKET_LIMIT,
  packet: PACKET_LIMIT,
  loginDeadlineMs: LOGIN_DEADLINE_MS,
  pendingPerAddress: PENDING_PER_ADDRESS,
  violationCooldownMs: VIOLATION_COOLDOWN_MS,
};

const TYPE = 0;
const LENGTH = 1;
const BODY = 2;

/**
 * Follows the MQTT fixed headers in the bytes a connection delivers and says when a packet
 * announces more than `limit` bytes, before its body has arrived.
 */
export class PacketSizeWatch {
  private state = TYPE;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(public limit: number) {}

  /** False once a packet is over the limit or its length field is malformed. */
  feed(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === BODY) {
        const skip = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skip;
        i += skip;
        if (this.remaining === 0) this.state = TYPE;
        continue;
      }
      const b = chunk[i++];
      if (this.state === TYPE) {
        this.state = LENGTH;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (b & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (b & 0x80) {
        if (this.lengthBytes >= 4) return false;
        continue;
      }
      if (this.length > this.limit) return false;
      this.remaining = this.length;
      this.state = this.remaining > 0 ? BODY : TYPE;
    }
    return true;
  }
}

interface Pending {
  ip: string;
  timer: NodeJS.Timeout;
  watch: PacketSizeWatch;
}

function peer(sock: { remoteAddress?: string; remotePort?: number }): string {
  return `${sock.remoteAddress ?? ""}|${sock.remotePort ?? ""}`;
}

/**
 * Admits TCP connections (at most `pendingPerAddress` not yet logged in per address, each
 * dropped if not logged in within the deadline) and caps packet sizes: tight before login,
 * larger after.
 */
export class ConnectionGuard {
  private readonly pending = new Map<string, Pending>();
  private readonly perAddress = new Map<string, number>();
  private readonly watches = new Map<string, PacketSizeWatch>();
  /** Address → until when its new connections are closed at once. */
  private readonly cooling = new Map<string, number>();

  constructor(
    private readonly limits: ConnectionLimits = DEFAULT_LIMITS,
    private readonly onDrop: (ip: string, reason: string) => void = () => undefined,
  ) {}

  /** On the server's "connection" (raw TCP socket). */
  admit(sock: Socket): void {
    const ip = (sock.remoteAddress ?? "").replace(/^::ffff:/, "");
    const until = this.cooling.get(ip);
    if (until !== undefined) {
      if (Date.now() < until) {
        sock.destroy();
        return;
      }
      this.cooling.delete(ip);
    }
    const count = this.perAddress.get(ip) ?? 0;
    if (count >= this.limits.pendingPerAddress) {
      this.onDrop(ip, `more than ${this.limits.pendingPerAddress} connections from ${ip || "one address"} were waiting to log in`);
      sock.destroy();
      return;
    }
    const key = peer(sock);
    this.perAddress.set(ip, count + 1);
    const timer = setTimeout(() => {
      this.onDrop(
        ip,
        `the client at ${ip || "an unknown address"} did not log in within ${Math.round(this.limits.loginDeadlineMs / 1000)} s`,
      );
      sock.destroy();
    }, this.limits.loginDeadlineMs);
    timer.unref();
    const watch = new PacketSizeWatch(this.limits.loginPacket);
    this.pending.set(key, { ip, timer, watch });
    this.watches.set(key, watch);
    sock.once("close", () => {
      this.settle(key);
      this.watches.delete(key);
    });
  }

  /** On the TLS socket aedes reads from: every chunk it reads goes through the size watch. */
  watch(sock: Socket): void {
    const key = peer(sock);
    let watch = this.watches.get(key);
    if (!watch) {
      watch = new PacketSizeWatch(this.limits.loginPacket);
      this.watches.set(key, watch);
      sock.once("close", () => this.watches.delete(key));
    }
    const w = watch;
    // With aedes' "readable" listener in charge, "data" fires for exactly the chunks it reads, before it parses them.
    sock.on("data", (chunk: Buffer) => {
      if (w.feed(chunk)) return;
      const ip = (sock.remoteAddress ?? "").replace(/^::ffff:/, "");
      this.onDrop(ip, `the client at ${ip || "an unknown address"} sent an MQTT packet over ${w.limit} bytes`);
      this.coolDown(ip);
      sock.destroy();
    });
  }

  /** The client on this socket logged in: it no longer counts as pending and may send larger packets. */
  loggedIn(sock: { remoteAddress?: string; remotePort?: number }): void {
    const key = peer(sock);
    this.settle(key);
    const w = this.watches.get(key);
    if (w) w.limit = this.limits.packet;
  }

  /** Connections not yet logged in, by address. */
  pendingCount(ip?: string): number {
    if (ip !== undefined) return this.perAddress.get(ip) ?? 0;
    return this.pending.size;
  }

  private coolDown(ip: string): void {
    if (this.limits.violationCooldownMs <= 0) return;
    this.cooling.delete(ip);
    if (this.cooling.size >= COOLDOWN_MAX_ADDRESSES) this.cooling.delete(this.cooling.keys().next().value as string);
    this.cooling.set(ip, Date.now() + this.limits.violationCooldownMs);
  }

  private settle(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(key);
    const n = (this.perAddress.get(p.ip) ?? 1) - 1;
    if (n > 0) this.perAddress.set(p.ip, n);
    else this.perAddress.delete(p.ip);
  }

  /** Stops every timer (the broker stops). */
  clear(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.perAddress.clear();
    this.watches.clear();
    this.cooling.clear();
  }
}
