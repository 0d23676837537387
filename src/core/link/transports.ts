/**
 * The carriers a device link builds its session on. The fleet's connection only exists
 * once its broker runs, and a device's DHCP address can change under a running session,
 * so both are wrapped in transports that resolve late.
 */
import { MerossError } from "../errors";
import type { Unsubscribe } from "../events";
import type { Envelope } from "../protocol/message";
import { HttpTransport, type HttpTransportOptions } from "../transport/http";
import { MQTT_TIMEOUT_MS, MqttTransport, type MqttConnection } from "../transport/mqtt";
import { abortError, transportEvents, type SendOptions, type Transport } from "../transport/types";
import type { Fleet } from "../fleet/types";

/** How long a request waits for a starting embedded broker (first start generates certificates). */
export const BROKER_START_WAIT_MS = 20_000;

/**
 * HTTP to an address that can move: when the fleet sees the device connect from a new
 * IP, later requests go there (the configured port, if any, is kept).
 */
export class FollowingHttpTransport implements Transport {
  readonly kind = "http" as const;
  readonly events = transportEvents();
  private inner: HttpTransport;
  private readonly opts: HttpTransportOptions;
  private closed = false;

  constructor(address: string, opts: HttpTransportOptions = {}) {
    this.opts = opts;
    this.inner = new HttpTransport(address, opts);
  }

  get address(): string {
    return this.inner.address;
  }

  /** Points later requests at `address`; returns false when it is already there (or closed). */
  moveTo(address: string): boolean {
    if (this.closed || address === this.inner.address) return false;
    const next = new HttpTransport(address, this.opts);
    const old = this.inner;
    this.inner = next;
    void old.close().catch(() => undefined);
    return true;
  }

  send(request: Envelope, opts?: SendOptions): Promise<Envelope> {
    return this.inner.send(request, opts);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.events.clear();
    await this.inner.close();
  }
}

/** `host:port` with the host replaced by `ip`, keeping an explicit port (e.g. a simulator's). */
export function followAddress(configured: string, ip: string): string {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(configured.trim());
  const host = ip.includes(":") ? `[${ip}]` : ip;
  return m ? `${host}:${m[2]}` : host;
}

/** Why a request was ended to be sent again: its device logged in anew meanwhile. */
const RELOGGED = new MerossError("UNREACHABLE", "The device logged in to the broker again while the request was out; it is sent again.");

/**
 * MQTT through a Fleet: waits for its connection, builds the per-device MqttTransport once
 * the uuid is known (again after the broker restarted), and forwards the device's pushes.
 *
 * A request for a device that has not logged in to the embedded broker yet (Node-RED just
 * restarted; real devices reconnect with a back-off) is not published into the void: it waits
 * for the device's login, within the request's own time. The embedded broker sees every login,
 * so absence there means "not connected"; an existing broker shows only what devices publish,
 * so there a request is sent as is. On either, a device that logs in anew while its request is
 * out gets the request once more.
 */
export class BrokerTransport implements Transport {
  readonly kind = "mqtt" as const;
  readonly events = transportEvents();
  private readonly fleet: Fleet;
  private readonly label: string;
  private readonly uuidOf: () => string;
  private inner: MqttTransport | undefined;
  private innerConn: MqttConnection | undefined;
  private closed = false;
  private unforward: Unsubscribe[] = [];

  /** `label` names the broker in error sentences (its node name). */
  constructor(fleet: Fleet, uuidOf: () => string, label = "meross-broker") {
    this.fleet = fleet;
    this.uuidOf = uuidOf;
    this.label = label;
  }

  get address(): string {
    return `${this.uuidOf() || "device"} via ${this.label}`;
  }

  /** Starts following the device's pushes as soon as the uuid and the broker are there. */
  attach(): void {
    const uuid = this.uuidOf();
    if (!uuid || this.closed) return;
    this.transportFor(uuid).catch(() => undefined);
  }

  private async transportFor(uuid: string): Promise<MqttTransport> {
    // Every request asks: while the connection it was built on is the fleet's, it is the answer.
    const inner = this.inner;
    if (inner && inner.uuid === uuid && !this.closed && this.innerConn === this.fleet.currentConnection()) return inner;
    const conn = await this.connectionWithin(BROKER_START_WAIT_MS);
    if (this.closed) throw new MerossError("UNREACHABLE", "This device's MQTT path was closed (redeploy).");
    if (!this.inner || this.innerConn !== conn || this.inner.uuid !== uuid) this.adopt(conn, uuid);
    return this.inner as MqttTransport;
  }

  /** The fleet's connection; UNREACHABLE when its broker has not started within `ms`. */
  private async connectionWithin(ms: number): Promise<MqttConnection> {
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new MerossError(
              "UNREACHABLE",
              `The MQTT broker "${this.label}" did not start within ${ms / 1000} s. ` +
                "Open the meross-broker node and check its port and certificate host.",
            ),
          ),
        ms,
      );
    });
    try {
      return await Promise.race([this.fleet.connection(), waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A per-device transport on `conn`, its pushes and connection changes forwarded. Made here, not
   * in transportFor: a listener made there would keep that call's timer and promises for as long
   * as the device is on the broker.
   */
  private adopt(conn: MqttConnection, uuid: string): void {
    this.dropInner();
    const inner = new MqttTransport({ uuid, client: conn });
    this.inner = inner;
    this.innerConn = conn;
    this.unforward = [
      inner.events.on("push", (env: Envelope) => this.events.emit("push", env)),
      inner.events.on("connection", (c) => this.events.emit("connection", c)),
    ];
    this.events.emit("connection", { connected: true });
  }

  private dropInner(): void {
    const old = this.inner;
    this.inner = undefined;
    this.innerConn = undefined;
    for (const off of this.unforward.splice(0)) off();
    if (!old) return;
    void old.close().catch(() => undefined);
  }

  async send(request: Envelope, opts: SendOptions = {}): Promise<Envelope> {
    const uuid = this.uuidOf();
    if (!uuid) {
      throw new MerossError(
        "BAD_INPUT",
        "This device has no uuid yet, so it cannot be reached over MQTT. " +
          "Enter its uuid in the meross-config node (or its address, to learn the uuid over HTTP).",
      );
    }
    const startedAt = Date.now();
    const timeoutMs = opts.timeoutMs ?? MQTT_TIMEOUT_MS;
    if (this.fleet.mode === "embedded" && !this.fleet.isListening(uuid)) await this.arrival(uuid, timeoutMs, request, opts.signal);
    const t = await this.transportFor(uuid);
    const left = (): number => Math.max(1, timeoutMs - (Date.now() - startedAt));
    const since = this.fleet.device(uuid)?.since;
    const mine = new AbortController();
    const outer = opts.signal;
    const onOuter = (): void => mine.abort(outer?.reason);
    outer?.addEventListener("abort", onOuter, { once: true });
    // A device that logs in anew while the request is out never got it (it was not subscribed, or
    // its old session died): its new session gets it once more, freshly signed, in the time left.
    // Checked once the message that told us has been handled: on an existing broker the first
    // message seen of a device may be its very reply, which must not be sent again.
    let relogged = false;
    let settled = false;
    const off = this.fleet.watchDevice(uuid, (p) => {
      if (relogged || !p?.listening || p.since === since) return;
      relogged = true;
      setImmediate(() => settled || mine.abort(RELOGGED));
    });
    try {
      return await t.send(request, { ...opts, signal: mine.signal, timeoutMs: left() }).finally(() => (settled = true));
    } catch (err) {
      if (mine.signal.reason !== RELOGGED || outer?.aborted) throw err;
      return t.send(opts.resend?.() ?? request, { ...opts, timeoutMs: left() });
    } finally {
      off();
      outer?.removeEventListener("abort", onOuter);
    }
  }

  /** Resolves once the device listens on the broker; UNREACHABLE when it does not log in within `ms`. */
  private arrival(uuid: string, ms: number, request: Envelope, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal, this.address, request));
    return new Promise<void>((resolve, reject) => {
      const end = (err?: MerossError): void => {
        clearTimeout(timer);
        off();
        signal?.removeEventListener("abort", onAbort);
        if (err) reject(err);
        else resolve();
      };
      const off = this.fleet.watchDevice(uuid, (p) => {
        if (p?.listening && this.fleet.isListening(uuid)) end();
      });
      const onAbort = (): void => end(abortError(signal as AbortSignal, this.address, request));
      signal?.addEventListener("abort", onAbort, { once: true });
      const { method, namespace } = request.header;
      const timer = setTimeout(() => {
        const why =
          `The device ${uuid} is not connected to the MQTT broker "${this.label}" (it did not log in within ${Math.round(ms / 100) / 10} s). ` +
          "Check that it is powered and on Wi-Fi and that it was given this broker; " +
          'with transport "auto" and its address set, requests go over HTTP meanwhile.';
        end(new MerossError("UNREACHABLE", why, { host: this.address, namespace, method: String(method), retryable: true }));
      }, ms);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const old = this.inner;
    this.inner = undefined;
    for (const off of this.unforward.splice(0)) off();
    this.events.clear();
    await old?.close();
  }
}
