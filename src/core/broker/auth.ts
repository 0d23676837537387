/**
 * Who may log in to the embedded broker (docs/protocol.md §5.2): devices prove they hold a
 * known key through their MQTT password, other clients (Node-RED elsewhere, mosquitto_sub)
 * use a configured user name and password.
 */
import type { Socket } from "node:net";
import { timingSafeEqual } from "node:crypto";
import type { Client } from "aedes";
import { md5Hex, type Envelope } from "../protocol/message";
import { isUuid, macFromUuid, macMatchesUuid, normalizeMac } from "../protocol/rules";
import type { Certificates } from "./certs";
import type { IdentityBook } from "./identity";
import type { ConnectionLimits } from "./limits";

/** Returns the key(s) a device may use; called at each device login. */
export type KeyResolver = (device: {
  uuid: string;
  mac: string;
}) => string | readonly string[] | undefined | Promise<string | readonly string[] | undefined>;

export interface BrokerUser {
  username: string;
  password: string;
}

export interface BrokerOptions {
  /** TCP port; default 8883, 0 picks a free one (see `port` after start). */
  port?: number;
  /** Bind address; default all interfaces, since devices connect from the LAN. */
  host?: string;
  certs: Pick<Certificates, "serverCert" | "serverKey">;
  /** Device keys: a list tried for every device, a map by uuid or MAC, or a resolver. */
  keys?: readonly string[] | Readonly<Record<string, string>> | KeyResolver;
  /** Credentials for non-device clients (Node-RED elsewhere, mosquitto_sub, ...). */
  users?: readonly BrokerUser[];
  /** Let non-device clients in without credentials. Default false. */
  allowAnonymous?: boolean;
  /** Optional filter on the `<userId>` part of device passwords. */
  userIdCheck?: (userId: string) => boolean;
  /** IANA zone sent to devices in System.Time; default: this machine's zone. */
  timeZone?: string;
  /**
   * Accept device logins with the empty key (a device set up without one). Default false:
   * anyone can compute that password for any MAC, so it proves nothing.
   */
  acceptEmptyKey?: boolean;
  /** Which MAC and key each uuid belongs to; learnt from signed Binds and kept (see identity.ts). */
  identities?: IdentityBook;
  /** Keys users tied to a uuid (a meross-config naming both): that uuid may log in with these only. */
  namedKeys?: (uuid: string) => readonly string[];
  /** Bounds on clients that have not logged in (defaults in limits.ts; tests shorten the deadline). */
  limits?: Partial<ConnectionLimits>;
}

export interface BrokerDevice {
  uuid: string;
  mac: string;
  ip: string;
  clientId: string;
  userId: string;
  model?: string;
  firmware?: string;
  /** Epoch milliseconds of the MQTT login. */
  connectedAt: number;
  /**
   * The login was made with a key proven to be this device's own (named for its uuid, or its
   * identity book entry is proven); false: some accepted key, which another device may hold.
   */
  proven: boolean;
}

export interface RefusedEvent {
  clientId: string;
  username: string;
  ip: string;
  reason: string;
}

export interface BrokerMessageEvent {
  uuid: string;
  topic: string;
  envelope: Envelope;
}

/** `fmware:<uuid>_<random>` is how every Meross firmware names itself (docs/protocol.md §5.2). */
const DEVICE_CLIENT_ID = /^fmware:([^_]*)(?:_.*)?$/;
/** aedes return codes: 4 = bad user name or password, 5 = not authorised. */
const RC_BAD_CREDENTIALS = 4;
const RC_NOT_AUTHORIZED = 5;

export interface DeviceAuth {
  device: BrokerDevice;
  key: string;
}

/** Why a login was turned down; `returnCode` is what aedes answers the client. */
export class LoginRefusal extends Error {
  constructor(
    readonly returnCode: number,
    readonly event: RefusedEvent,
  ) {
    super(event.reason);
  }
}

export function clientIp(client: Client): string {
  const sock = client.conn as Partial<Socket>;
  const ip = typeof sock.remoteAddress === "string" ? sock.remoteAddress : "";
  return ip.replace(/^::ffff:/, "");
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function toKeyList(v: string | readonly string[] | undefined): string[] {
  if (typeof v === "string") return [v];
  return Array.isArray(v) ? v.filter((k): k is string => typeof k === "string") : [];
}

/**
 * Checks one MQTT login (docs/protocol.md §5.2): a non-device client against the configured
 * users, a device by the MD5 of its MAC and a known key. Resolves with the device's
 * identity (undefined for a non-device client); rejects with a LoginRefusal.
 */
export async function checkLogin(
  opts: BrokerOptions,
  client: Client,
  username: string | undefined,
  password: Buffer | undefined,
): Promise<DeviceAuth | undefined> {
  const clientId = client.id;
  const ip = clientIp(client);
  const user = username ?? "";
  const pass = password ? password.toString("utf8") : "";
  const refuse = (code: number, reason: string): never => {
    throw new LoginRefusal(code, { clientId, username: user, ip, reason });
  };
  const m = DEVICE_CLIENT_ID.exec(clientId);
  if (!m) {
    const users = opts.users ?? [];
    if (users.some((u) => sameText(u.username, user) && sameText(u.password, pass))) return undefined;
    if (opts.allowAnonymous && !user && !pass) return undefined;
    if (opts.allowAnonymous && users.length === 0) return undefined;
    return refuse(RC_BAD_CREDENTIALS, user ? "unknown user name or wrong password" : "anonymous clients are not allowed");
  }
  const uuid = m[1];
  if (!isUuid(uuid)) return refuse(RC_NOT_AUTHORIZED, "the client id names no valid device uuid (fmware:<32 letters and digits>_…)");
  const given = user.trim().toLowerCase();
  if (!given) return refuse(RC_BAD_CREDENTIALS, "the device sent no user name (its MAC address)");
  const mac = normalizeMac(given);
  // Firmware's uuid ends with its MAC (docs/protocol.md §7, every capture): a login under a uuid that is not its own fails here.
  if (!mac || !macMatchesUuid(mac, uuid)) {
    const want = macFromUuid(uuid);
    return refuse(
      RC_NOT_AUTHORIZED,
      `the login names device ${uuid} but its user name ${given} is not ${want ? `that device's MAC ${want}` : "a MAC address"}`,
    );
  }
  const sep = pass.lastIndexOf("_");
  if (sep < 0) return refuse(RC_BAD_CREDENTIALS, "the device password is not in the <userId>_<hash> form");
  const userId = pass.slice(0, sep);
  const hash = pass.slice(sep + 1).toLowerCase();
  if (opts.userIdCheck) {
    let ok: boolean;
    try {
      ok = opts.userIdCheck(userId);
    } catch {
      ok = false;
    }
    if (!ok) return refuse(RC_NOT_AUTHORIZED, `user id ${userId} is not accepted`);
  }
  let candidates: string[];
  let named: string[];
  try {
    candidates = await keysFor(opts.keys, uuid, mac);
    named = toKeyList(opts.namedKeys?.(uuid));
  } catch {
    return refuse(RC_NOT_AUTHORIZED, "the device key lookup failed");
  }
  // Firmware hashes its MAC as it stores it: lowercase in every capture; the raw form is a fallback.
  const macForms = [...new Set([given, user])];
  const matches = (k: string): boolean => macForms.some((f) => sameText(md5Hex(f + k), hash));
  let key = [...named, ...candidates].find(matches);
  if (key === undefined && named.length === 0 && opts.acceptEmptyKey && matches("")) key = "";
  // A device set up without a key is common: say so, rather than "wrong password", even when nobody listed the empty key.
  const emptyKey = key === "" || (key === undefined && matches(""));
  if (key === undefined && !emptyKey) {
    return refuse(
      RC_BAD_CREDENTIALS,
      candidates.length ? "wrong password: no known device key matches" : "no device key is configured for this device",
    );
  }
  if (key === undefined && opts.acceptEmptyKey) {
    return refuse(
      RC_NOT_AUTHORIZED,
      `device ${uuid} has another key in its meross-config, not the empty key: this login is not from that device`,
    );
  }
  if (key === undefined || (emptyKey && !opts.acceptEmptyKey)) {
    return refuse(
      RC_NOT_AUTHORIZED,
      "the device logged in with the empty key, which anyone can compute: give it a key (onboard it again), " +
        'or turn on "accept devices with no key" on the broker',
    );
  }
  const book = opts.identities;
  let proven: boolean;
  if (named.length > 0) {
    // A node names this uuid and its key (or the device proved it over HTTP): only that key opens it.
    if (!named.includes(key))
      return refuse(RC_NOT_AUTHORIZED, `device ${uuid} has another key in its meross-config: this login is not from that device`);
    book?.learn(uuid, mac, key, "config");
    proven = true;
  } else {
    // A proven entry admits only its own MAC and key; an unproven one (first Bind) keeps other keys out until proof comes.
    const conflict = book?.conflict(uuid, mac, key);
    if (conflict) return refuse(RC_NOT_AUTHORIZED, conflict);
    proven = !!book?.proven(uuid);
    book?.touch(uuid);
  }
  return { key, device: { uuid, mac, ip, clientId, userId, connectedAt: Date.now(), proven } };
}

async function keysFor(k: BrokerOptions["keys"], uuid: string, mac: string): Promise<string[]> {
  if (k === undefined) return [];
  if (typeof k === "function") return toKeyList(await (k as KeyResolver)({ uuid, mac }));
  if (Array.isArray(k)) return toKeyList(k as readonly string[]);
  const map = k as Readonly<Record<string, string>>;
  const out: string[] = [];
  for (const [id, key] of Object.entries(map)) {
    if (typeof key === "string" && (id === uuid || id.toLowerCase() === mac)) out.push(key);
  }
  return out;
}
