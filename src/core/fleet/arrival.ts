/**
 * Waiting for a freshly onboarded device to log in to our broker (docs/protocol.md §3.9: it
 * reboots, joins Wi-Fi, then connects over TLS). When it never arrives, the sentence names
 * the most likely of the three ways this fails, because the device itself cannot tell us.
 */
import { isUuid } from "../protocol/rules";
import { randomBytes } from "node:crypto";
import { MerossError } from "../errors";
import { MerossDevice, NS } from "../session/device";
import { TypedEvents, type Unsubscribe } from "../events";
import { MerossBroker, type BrokerDevice, type RefusedEvent } from "../broker/broker";
import type { BrokerPresence, Fleet } from "./types";

/** Seconds a device typically needs for reboot + Wi-Fi + TLS is 20–60; 90 leaves margin for slow routers. */
export const ARRIVAL_TIMEOUT_MS = 90_000;
/**
 * The first connection must get its Bind answered (docs/protocol.md §3.9), and the Bind carries
 * the model: after the login we give it this long to arrive before reporting without it.
 */
export const BIND_GRACE_MS = 2_000;
/** A device in access-point mode answers at once; this only has to outlast a busy radio. */
export const AP_PROBE_TIMEOUT_MS = 3_000;

/** Which device to wait for and how to diagnose a no-show. */
export interface ArrivalTarget {
  /** The device uuid (hardware.uuid); matched case-insensitively. */
  uuid?: string;
  /** The device MAC (its MQTT user name), in any of the usual spellings. */
  mac: string;
  /** Default ARRIVAL_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Where the device answered in access-point mode; probed on timeout to tell a Wi-Fi failure apart. */
  apAddress?: string;
  /** The Wi-Fi network the device was told to join, named when it stayed in access-point mode. */
  ssid?: string;
  signal?: AbortSignal;
}

export interface WaitForArrivalOptions extends ArrivalTarget {
  broker: MerossBroker | Fleet;
}

/** One login (or, on an existing broker, the first signed message) of a device; `session` tells reconnections apart. */
interface Login {
  uuid: string;
  mac: string;
  ip: string;
  model?: string;
  firmware?: string;
  session: string;
  connectedAt: number;
}

/**
 * What the watcher needs from a broker: the embedded one reports logins, Binds and refusals;
 * a fleet reports presence (on an existing broker only what devices publish, no refusals).
 */
interface ArrivalFeed {
  /** False on an existing broker, where we only see messages and a refused login stays invisible. */
  readonly seesLogins: boolean;
  subscribe(on: { login(l: Login): void; bound(l: Login): void; refused(r: RefusedEvent): void }): Unsubscribe;
  /** Devices there now (their Bind may already have come); empty when presence says nothing about this session. */
  current(): Login[];
  port(): Promise<number | undefined>;
}

function fromDevice(d: BrokerDevice): Login {
  const l: Login = { uuid: d.uuid, mac: d.mac, ip: d.ip, session: d.clientId, connectedAt: d.connectedAt };
  if (d.model) l.model = d.model;
  if (d.firmware) l.firmware = d.firmware;
  return l;
}

function fromPresence(p: BrokerPresence): Login {
  const l: Login = { uuid: p.uuid, mac: p.mac ?? "", ip: p.ip ?? "", session: String(p.since), connectedAt: p.since };
  if (p.model) l.model = p.model;
  if (p.firmware) l.firmware = p.firmware;
  return l;
}

function isFleet(v: unknown): v is Fleet {
  return !!v && typeof v === "object" && (v as Fleet).events instanceof TypedEvents && typeof (v as Fleet).devices === "function";
}

function brokerFeed(broker: MerossBroker): ArrivalFeed {
  return {
    seesLogins: true,
    subscribe(on) {
      const login = (d: BrokerDevice): void => on.login(fromDevice(d));
      const bound = (d: BrokerDevice): void => on.bound(fromDevice(d));
      const refused = (r: RefusedEvent): void => on.refused(r);
      const offs = [
        broker.events.on("device-connected", login),
        broker.events.on("device-bound", bound),
        broker.events.on("refused", refused),
      ];
      return () => offs.forEach((off) => off());
    },
    current: () => broker.devices().map(fromDevice),
    port: () => Promise.resolve(broker.port),
  };
}

function fleetFeed(fleet: Fleet): ArrivalFeed {
  const embedded = fleet.mode === "embedded";
  return {
    seesLogins: embedded,
    subscribe(on) {
      const offs = [
        fleet.events.on("device", (p) => {
          const l = fromPresence(p);
          on.login(l);
          if (l.model) on.bound(l);
        }),
        fleet.events.on("refused", (r) => on.refused(r)),
      ];
      return () => offs.forEach((off) => off());
    },
    // An existing broker never says when a device left: an old entry may be the device before
    // it was reset, so only what it publishes after the watch started counts there.
    current: () => (embedded ? fleet.devices().map(fromPresence) : []),
    port: () =>
      fleet.endpoint().then(
        (e) => e.port,
        () => undefined,
      ),
  };
}

export interface Arrival {
  uuid: string;
  mac: string;
  /** The address the device connected from: its LAN address from now on. */
  ip: string;
  model?: string;
  firmware?: string;
  /** Milliseconds from the start of the wait to the login (0 when it was already there). */
  ms: number;
}

/** Why the device did not arrive; `reason` lets callers branch without parsing the sentence. */
export type ArrivalFailure = "refused" | "access-point" | "no-connection" | "cancelled";

/** A TIMEOUT MerossError that also says which of the failure modes it diagnosed. */
export class ArrivalError extends MerossError {
  readonly reason: ArrivalFailure;
  constructor(reason: ArrivalFailure, message: string) {
    super("TIMEOUT", message);
    this.name = "ArrivalError";
    this.reason = reason;
  }
}

/** Firmware logs in with the lowercase colon form, but users paste MACs with dashes or none. */
function macDigits(mac: string): string {
  return mac.toLowerCase().replace(/[^0-9a-f]/g, "");
}

function checkTarget(t: ArrivalTarget): { mac: string; uuid?: string; timeoutMs: number } {
  const mac = typeof t?.mac === "string" ? macDigits(t.mac) : "";
  if (mac.length !== 12) {
    throw new MerossError(
      "BAD_INPUT",
      `"${String(t?.mac)}" is not a MAC address. Use the device's hardware.macAddress from System.All, for example 48:e1:e9:d5:84:42.`,
    );
  }
  if (t.uuid !== undefined && !isUuid(t.uuid)) {
    throw new MerossError(
      "BAD_INPUT",
      `"${String(t.uuid)}" is not a device uuid. Use the 32-character hardware.uuid from System.All, or leave it out.`,
    );
  }
  const timeoutMs = t.timeoutMs ?? ARRIVAL_TIMEOUT_MS;
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new MerossError(
      "BAD_INPUT",
      `The arrival timeout ${String(t.timeoutMs)} ms is not valid: give a positive number of milliseconds (90000 is usual).`,
    );
  }
  return { mac, uuid: t.uuid?.toLowerCase(), timeoutMs };
}

function matches(dev: { uuid: string; mac: string }, want: { mac: string; uuid?: string }): boolean {
  return macDigits(dev.mac) === want.mac || (want.uuid !== undefined && dev.uuid.toLowerCase() === want.uuid);
}

function refusalMatches(r: RefusedEvent, want: { mac: string; uuid?: string }): boolean {
  if (macDigits(r.username) === want.mac) return true;
  const m = /^fmware:([A-Za-z0-9]+)/.exec(r.clientId);
  return want.uuid !== undefined && m !== null && m[1].toLowerCase() === want.uuid;
}

/**
 * True when a device still answers at its access-point address and accepts any signature,
 * which only an unconfigured device does (docs/protocol.md §2.4). A random key keeps a device that
 * did join (and happens to share the address, like a simulator) from looking unconfigured.
 */
export async function answersInApMode(address: string, mac?: string, timeoutMs = AP_PROBE_TIMEOUT_MS): Promise<boolean> {
  let device: MerossDevice | undefined;
  try {
    // Only asks whether anything answers there; the device's key (factory "" or the one just set) is unknown.
    device = new MerossDevice({
      address,
      key: randomBytes(16).toString("hex"),
      timeoutMs,
      http: { timeoutMs, retries: 0 },
      verifyReplies: false,
    });
    const reply = await device.request("GET", NS.ALL, {}, { checkAbility: false, timeoutMs });
    if (mac === undefined) return true;
    const seen = readMac(reply.payload);
    return seen === undefined || macDigits(seen) === macDigits(mac);
  } catch {
    return false;
  } finally {
    await device?.close().catch(() => undefined);
  }
}

function readMac(payload: Record<string, unknown>): string | undefined {
  const get = (o: unknown, k: string): unknown => (typeof o === "object" && o !== null ? (o as Record<string, unknown>)[k] : undefined);
  const mac = get(get(get(get(payload, "all"), "system"), "hardware"), "macAddress");
  return typeof mac === "string" ? mac : undefined;
}

function who(t: ArrivalTarget): string {
  return t.uuid ? `${t.uuid} (${t.mac})` : t.mac;
}

/**
 * Records every login and refusal from the moment it is created, so a watcher started
 * before onboarding cannot miss a fast device; wait() then asks about one device.
 */
export class ArrivalWatcher {
  private readonly feed: ArrivalFeed;
  private readonly logins: Login[] = [];
  private readonly binds: Login[] = [];
  private readonly refusals: RefusedEvent[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: Unsubscribe;
  private closed = false;

  /** `source`: the running embedded broker, or a fleet (embedded or on an existing broker). */
  constructor(source: MerossBroker | Fleet) {
    // A broker has typed events and a device list too: tell it apart by its class first.
    if (source instanceof MerossBroker) this.feed = brokerFeed(source);
    else if (isFleet(source)) this.feed = fleetFeed(source);
    else throw new MerossError("BAD_INPUT", "Waiting for a device needs the running embedded MQTT broker: start it before onboarding.");
    this.unsubscribe = this.feed.subscribe({
      login: (l) => this.note(this.logins, l),
      bound: (l) => this.note(this.binds, l),
      refused: (r) => this.note(this.refusals, r),
    });
  }

  private note<T>(list: T[], item: T): void {
    list.push(item);
    for (const fn of [...this.listeners]) fn();
  }

  /**
   * Resolves when the device logs in (or already did since the watcher started, or is
   * connected now); rejects with an ArrivalError (code TIMEOUT) that names the likely cause.
   */
  wait(target: ArrivalTarget): Promise<Arrival> {
    let want: { mac: string; uuid?: string; timeoutMs: number };
    try {
      want = checkTarget(target);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.closed)
      return Promise.reject(new ArrivalError("cancelled", `Stopped waiting for the device ${who(target)}: the watcher was closed.`));
    const t0 = Date.now();
    return new Promise<Arrival>((resolve, reject) => {
      let login: Login | undefined;
      let graceTimer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(graceTimer);
        this.listeners.delete(check);
        target.signal?.removeEventListener("abort", onAbort);
        fn();
      };
      const done = (d: Login, ms: number): void =>
        finish(() => {
          const out: Arrival = { uuid: d.uuid, mac: d.mac, ip: d.ip, ms: Math.max(0, ms) };
          if (d.model) out.model = d.model;
          if (d.firmware) out.firmware = d.firmware;
          resolve(out);
        });
      const check = (): void => {
        if (settled) return;
        if (!login) {
          login = [...this.logins].reverse().find((d) => matches(d, want)) ?? this.feed.current().find((d) => matches(d, want));
          if (!login) return;
        }
        const ms = login.connectedAt - t0;
        const session = login.session;
        // The broker's live entry already has the model when the Bind came before this wait.
        const bound =
          (login.model ? login : undefined) ??
          [...this.binds].reverse().find((d) => d.session === session) ??
          this.feed.current().find((d) => d.session === session && d.model);
        if (bound) return done({ ...login, ...bound }, ms);
        graceTimer ??= setTimeout(() => done(login as Login, ms), Math.min(BIND_GRACE_MS, Math.max(0, want.timeoutMs - (Date.now() - t0))));
      };
      const onAbort = (): void =>
        finish(() =>
          reject(new ArrivalError("cancelled", `Stopped waiting for the device ${who(target)} to log in to the MQTT broker: cancelled.`)),
        );
      const timer = setTimeout(() => {
        if (login) return done(login, login.connectedAt - t0);
        this.listeners.delete(check);
        this.diagnose(target, want).then(
          (err) => finish(() => reject(err)),
          () => finish(() => reject(new ArrivalError("no-connection", `The device ${who(target)} did not log in to the MQTT broker.`))),
        );
      }, want.timeoutMs);
      if (target.signal?.aborted) return onAbort();
      target.signal?.addEventListener("abort", onAbort, { once: true });
      this.listeners.add(check);
      check();
    });
  }

  private async diagnose(target: ArrivalTarget, want: { mac: string; uuid?: string; timeoutMs: number }): Promise<ArrivalError> {
    const s = Math.round(want.timeoutMs / 100) / 10;
    const logins = this.feed.seesLogins;
    const head = `The device ${who(target)} did not ${logins ? "log in to" : "show up on"} the MQTT broker within ${s} s`;
    const refused = [...this.refusals].reverse().find((r) => refusalMatches(r, want));
    if (refused) {
      return new ArrivalError(
        "refused",
        `${head}: the broker refused the device's login (${refused.reason}) from ${refused.ip || "an unknown address"}: ` +
          `the key or userId the device was given does not match what the broker expects — onboard again with the key configured on the broker.`,
      );
    }
    if (target.apAddress && (await answersInApMode(target.apAddress, target.mac))) {
      return new ArrivalError(
        "access-point",
        // What happened and what to do first: a collapsed debug line shows only the start.
        `The device stayed in access-point mode: it probably could not join ${target.ssid ? `"${target.ssid}"` : "the Wi-Fi network"} — ` +
          `check the Wi-Fi password and that the network is 2.4 GHz (the device joins no 5 GHz network), then retry; the device kept ` +
          `the key it was given, so a retry with the same key works. (${who(target)} did not ${logins ? "log in to" : "show up on"} the ` +
          `MQTT broker within ${s} s and still answers at ${target.apAddress}.)`,
      );
    }
    if (!logins) {
      return new ArrivalError(
        "no-connection",
        `${head}: it left access-point mode but never reached the broker, or the broker refused it: check the broker host and port the device ` +
          `was given (this broker's LAN address, not 127.0.0.1, for a real device), that the port is open and speaks TLS, and that the broker accepts the device's login.`,
      );
    }
    const port = await this.feed.port();
    return new ArrivalError(
      "no-connection",
      `${head}: the device left access-point mode but never reached the broker: check the broker host and port the device was given ` +
        `(it must be this machine's LAN address, not 127.0.0.1, for a real device), that port ${port ?? "(unknown)"} is open, and that the broker speaks TLS.`,
    );
  }

  /** Stops recording; waits still running keep their own timers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
  }
}

/** One wait started now, cancellable: for callers that know the device before it reboots. */
export function watchArrival(opts: WaitForArrivalOptions): { promise: Promise<Arrival>; cancel(): void } {
  const abort = new AbortController();
  const outer = opts.signal;
  const onOuter = (): void => abort.abort();
  outer?.addEventListener("abort", onOuter, { once: true });
  let watcher: ArrivalWatcher;
  try {
    watcher = new ArrivalWatcher(opts.broker);
  } catch (err) {
    return { promise: Promise.reject(err), cancel: () => undefined };
  }
  const promise = watcher.wait({ ...opts, signal: abort.signal }).finally(() => {
    watcher.close();
    outer?.removeEventListener("abort", onOuter);
  });
  return { promise, cancel: () => abort.abort() };
}

/** Waits for a device to log in to `broker`; see ArrivalWatcher.wait for the outcome. */
export function waitForArrival(opts: WaitForArrivalOptions): Promise<Arrival> {
  return watchArrival(opts).promise;
}
