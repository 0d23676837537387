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
