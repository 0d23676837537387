/**
 * Finding the Meross devices that answer on a subnet or a list of addresses (docs/protocol.md
 * §7): each address gets one signed `GET Appliance.System.All` on `POST /config`, at most
 * `concurrency` at a time and each within a short timeout, so a /24 takes seconds and never
 * floods the network. A device that refuses the key (5001) still names its uuid in the reply.
 */
import { MerossError, asMerossError } from "./errors";
import { isObject, isUuid } from "./protocol/rules";
import { parseSystemAll } from "./capabilities/system";
import { MerossDevice } from "./session/device";
import { NS } from "./session/types";

export const DISCOVER_CONCURRENCY = 32;
export const DISCOVER_TIMEOUT_MS = 1500;
/** Widest subnet scanned: a /22 is 1022 addresses. */
export const DISCOVER_MIN_PREFIX = 22;
const MAX_ADDRESSES = 1024;

export type BoundTo = "meross-cloud" | "this-broker" | "other-broker" | "none" | "unknown";

export interface FoundDevice {
  address: string;
  uuid: string;
  /** Model, firmware: known only when the key fits (System.All answered). */
  model?: string;
  firmware?: string;
  /** From the account's device list, when given. */
  name?: string;
  keyFits: boolean;
  boundTo: BoundTo;
  /** host:port of the MQTT server the device uses, when it told us. */
  broker?: string;
}

export interface DiscoverOptions {
  addresses: string[];
  key: string;
  /** HTTP port of the devices (80 on real ones). */
  port?: number;
  concurrency?: number;
  timeoutMs?: number;
  /** uuid → name, e.g. from `meross cloud`. */
  names?: ReadonlyMap<string, string>;
  /** Brokers that count as "this broker": host, or host:port. */
  ourBrokers?: readonly string[];
  signal?: AbortSignal;
}

function ipv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

/** `192.168.1.50:8080`: an IPv4 address with a port from 1 to 65535. */
function isAddressWithPort(text: string): boolean {
  const m = /^([\d.]+):(\d{1,5})$/.exec(text);
  return !!m && ipv4(m[1]) !== undefined && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
}

const dotted = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

/**
 * The addresses to try: one subnet in CIDR form (`192.168.1.0/24`, up to a /22) or IPv4
 * addresses (optionally with :port) separated by commas or spaces. BAD_INPUT with a sentence for anything else.
 */
export function parseTargets(text: string): string[] {
  const items = String(text ?? "")
    .split(/[\s,]+/)
    .filter((s) => s !== "");
  if (items.length === 0) {
    throw new MerossError("BAD_INPUT", "Give a subnet such as 192.168.1.0/24, or device addresses separated by commas. Nothing was sent.");
  }
  const out: string[] = [];
  for (const item of items) {
    const cidr = /^([^/]+)\/(\d{1,2})$/.exec(item);
    if (cidr) {
      const base = ipv4(cidr[1]);
      const prefix = Number(cidr[2]);
      if (base === undefined || prefix > 32) {
        throw new MerossError("BAD_INPUT", `"${item.slice(0, 40)}" is not a subnet: write it as 192.168.1.0/24. Nothing was sent.`);
      }
      if (prefix < DISCOVER_MIN_PREFIX) {
        throw new MerossError(
          "BAD_INPUT",
          `The subnet ${item} holds ${2 ** (32 - prefix)} addresses, too many to scan (at most a /${DISCOVER_MIN_PREFIX}, 1022 addresses): ` +
            `give the subnet of your home network, usually a /24 such as 192.168.1.0/24. Nothing was sent.`,
        );
      }
      const size = 2 ** (32 - prefix);
      const first = Math.floor(base / size) * size;
      // Skip the network and broadcast addresses of a real subnet (not of a /31 or /32).
      const [lo, hi] = size > 2 ? [first + 1, first + size - 2] : [first, first + size - 1];
      for (let n = lo; n <= hi; n++) out.push(dotted(n));
    } else if (ipv4(item) !== undefined || isAddressWithPort(item)) {
      out.push(item); // host:port: a device on another HTTP port than 80, as the simulator's are
    } else
      throw new MerossError(
        "BAD_INPUT",
        `"${item.slice(0, 40)}" is not an IPv4 address or a subnet like 192.168.1.0/24. Nothing was sent.`,
      );
    if (out.length > MAX_ADDRESSES) {
      throw new MerossError(
        "BAD_INPUT",
        `That is more than ${MAX_ADDRESSES} addresses: scan one /22 or a shorter list at a time. Nothing was sent.`,
      );
    }
  }
  return [...new Set(out)];
}

/** Where a device's MQTT server points (System.All firmware.server/port). */
export function classifyBroker(server: string | undefined, port: number | undefined, ours: readonly string[]): BoundTo {
  const host = (server ?? "").trim().toLowerCase();
  if (!host) return "none";
  if (host === "meross.com" || host.endsWith(".meross.com")) return "meross-cloud";
  for (const b of ours) {
    const [h, p] = b.toLowerCase().split(":");
    if (h === host && (p === undefined || Number(p) === port)) return "this-broker";
  }
  return "other-broker";
}

/** The uuid a 5001 reply names: header.uuid, or the `from` topic /appliance/<uuid>/publish (§1.3). */
function uuidOfReply(reply: unknown): string | undefined {
  const h = isObject(reply) && isObject(reply.header) ? reply.header : undefined;
  if (!h) return undefined;
  if (isUuid(h.uuid)) return h.uuid.toLowerCase();
  const m = typeof h.from === "string" ? /\/appliance\/([0-9A-Za-z]{32})\//.exec(h.from) : null;
  return m ? m[1].toLowerCase() : undefined;
}

/** `address` is as given (an explicit host:port stays so); `opts.port` is added only to a bare address. */
async function probe(address: string, opts: DiscoverOptions): Promise<FoundDevice | undefined> {
  const target = opts.port && !address.includes(":") ? `${address}:${opts.port}` : address;
  const device = new MerossDevice({
    address: target,
    key: opts.key,
    timeoutMs: opts.timeoutMs ?? DISCOVER_TIMEOUT_MS,
    http: { retries: 0 },
  });
  const named = (uuid: string) => (opts.names?.get(uuid) !== undefined ? { name: opts.names.get(uuid) } : {});
  try {
    const reply = await device.request("GET", NS.ALL, {}, { checkAbility: false, signal: opts.signal });
    const { info } = parseSystemAll(reply.payload);
    const boundTo = classifyBroker(info.server, info.port, opts.ourBrokers ?? []);
    const uuid = info.uuid.toLowerCase();
    return {
      address,
      uuid,
      model: info.model,
      firmware: info.firmwareVersion,
      ...named(uuid),
      keyFits: true,
      boundTo,
      ...(info.server ? { broker: `${info.server}:${info.port ?? ""}` } : {}),
    };
  } catch (err) {
    const e = asMerossError(err);
    const uuid = e.code === "WRONG_KEY" ? uuidOfReply(e.details.reply) : undefined;
    // Only a device that answered as a Meross device is listed; silence and other servers are not.
    return uuid ? { address, uuid, ...named(uuid), keyFits: false, boundTo: "unknown" } : undefined;
  } finally {
    await device.close().catch(() => undefined);
  }
}

/** Tries every address, `concurrency` at a time; resolves with the devices found, in address order. */
export async function discover(opts: DiscoverOptions): Promise<FoundDevice[]> {
  const limit = Math.max(1, Math.min(opts.concurrency ?? DISCOVER_CONCURRENCY, 64));
  const results: Array<FoundDevice | undefined> = new Array(opts.addresses.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < opts.addresses.length && !opts.signal?.aborted) {
      const i = next++;
      const a = opts.addresses[i];
      results[i] = await probe(a, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, opts.addresses.length) }, worker));
  return results.filter((r): r is FoundDevice => r !== undefined);
}
