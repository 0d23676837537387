/** Network facts about this machine that the broker side and the CLI both need. */
import * as os from "node:os";

/**
 * The first non-internal IPv4 address: what a device on the same LAN can reach this machine
 * at when the user named no host. 127.0.0.1 when there is none (a real device cannot use it).
 */
export function firstLanAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === "IPv4" && !a.internal) return a.address;
    }
  }
  return "127.0.0.1";
}

/**
 * Whether `ip` is an address on a local network or this machine: IPv4 10/8, 172.16/12,
 * 192.168/16, 127/8; IPv6 ::1 and unique-local fc00::/7 (and IPv4-mapped forms of the
 * above). Link-local 169.254/16 and fe80::/10 (where cloud metadata services answer) and
 * public addresses are not: the admin endpoints that sign or scan only ever talk to a LAN.
 */
export function isLanAddress(ip: string): boolean {
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/i.exec(ip);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  const v6 = ip.toLowerCase();
  if (!/^[0-9a-f:]+$/.test(v6) || !v6.includes(":")) return false;
  if (v6 === "::1") return true;
  return /^f[cd][0-9a-f]{0,2}:/.test(v6);
}
