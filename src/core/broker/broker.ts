/**
 * The embedded cloud-free MQTT broker: aedes over TLS (devices refuse plain MQTT,
 * protocol.md §5.3), Meross device authentication (§5.2) and the cloud-like session
 * devices expect after connecting (§5.4). One instance per config; no module state.
 */
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import type { Server } from "node:tls";
import { timingSafeEqual } from "node:crypto";
import { Aedes, type AedesPublishPacket, type Client, type PublishPacket } from "aedes";
import { createServer } from "aedes-server-factory";
import { MerossError } from "../errors";
import { asEnvelope, md5Hex, type Envelope } from "../protocol/message";
import { buildSystemTimePayload } from "../onboarding/config";
import {
  MqttConnection,
  devicePublishTopic,
  deviceRequestTopic,
  type MqttLink,
  type MqttLinkHandlers,
} from "../transport/mqtt";
import { CloudSession, type BindInfo } from "./session";
import { MQTT_TLS_PORT, type Certificates } from "./certs";

/** Returns the key(s) a device may use; called at each device login. */
export type KeyResolver = (device: { uuid: string; mac: string }) =>
  | string
  | readonly string[]
  | undefined
  | Promise<string | readonly string[] | undefined>;

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

/** `fmware:<uuid>_<random>` is how every Meross firmware names itself (protocol.md §5.2). */
const DEVICE_CLIENT_ID = /^fmware:([A-Za-z0-9]+)(?:_.*)?$/;
/** aedes return codes: 4 = bad user name or password, 5 = not authorised. */
const RC_BAD_CREDENTIALS = 4;
const RC_NOT_AUTHORIZED = 5;

interface DeviceAuth {
  device: BrokerDevice;
  key: string;
}

function refusal(returnCode: number, reason: string): Error & { returnCode: number } {
  return Object.assign(new Error(reason), { returnCode });
}

function clientIp(client: Client): string {
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

/** The in-process side of the broker: no TLS loopback for Node-RED nodes in the same runtime. */
class AedesLink implements MqttLink {
  private handlers: MqttLinkHandlers | undefined;
  private readonly subs: Array<{ topic: string; fn: (packet: AedesPublishPacket, cb: () => void) => void }> = [];
  private isOnline = true;

  constructor(private readonly aedes: Aedes, private readonly onClose: (link: AedesLink) => void) {}

  get online(): boolean {
    return this.isOnline && !this.aedes.closed;
  }

  attach(handlers: MqttLinkHandlers): void {
    this.handlers = handlers;
  }

  async subscribe(topics: string[]): Promise<void> {
    await Promise.all(
      topics.map(
        (topic) =>
          new Promise<void>((resolve) => {
            const fn = (packet: AedesPublishPacket, cb: () => void): void => {
              try {
                if (this.isOnline) this.handlers?.message(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(String(packet.payload)));
              } finally {
                cb();
              }
            };
            this.subs.push({ topic, fn });
            this.aedes.subscribe(topic, fn, resolve);
          }),
      ),
    );
  }

  publish(topic: string, payload: string): Promise<void> {
    if (!this.online) return Promise.reject(new Error("the embedded broker is stopped"));
    return publishPacket(this.aedes, topic, payload);
  }

  /** Called by the broker when it stops. */
  shutdown(): void {
    if (!this.isOnline) return;
    this.isOnline = false;
    this.handlers?.offline("the embedded broker stopped");
  }

  async close(): Promise<void> {
    const was = this.isOnline;
    this.isOnline = false;
    this.onClose(this);
    if (!this.aedes.closed) {
      await Promise.all(this.subs.map(({ topic, fn }) => new Promise<void>((resolve) => this.aedes.unsubscribe(topic, fn, resolve))));
    }
    this.subs.length = 0;
    if (was) this.handlers?.offline("the connection was closed");
  }
}

function publishPacket(aedes: Aedes, topic: string, payload: string): Promise<void> {
  const packet: PublishPacket = { cmd: "publish", topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false };
  return new Promise((resolve, reject) => aedes.publish(packet, (err?: Error) => (err ? reject(err) : resolve())));
}

/**
 * Events: "device-connected" (BrokerDevice), "device-listening" (BrokerDevice, subscribed to
 * its request topic: ready for requests), "device-bound" (BrokerDevice, once its Bind
 * told model/firmware), "device-disconnected" ({uuid}), "refused" (RefusedEvent),
 * "message" (BrokerMessageEvent: device replies and state pushes the session did not consume).
 */
export class MerossBroker extends EventEmitter {
  readonly host: string;
  private listenPort = 0;
  private readonly aedes: Aedes;
  private readonly server: Server;
  private readonly opts: BrokerOptions;
  private readonly session: CloudSession;
  private readonly auth = new WeakMap<Client, DeviceAuth>();
  private readonly connected = new Map<string, { client: Client; auth: DeviceAuth; listening?: boolean }>();
  private readonly sockets = new Set<Socket>();
  private readonly links = new Set<AedesLink>();
  private stopping: Promise<void> | undefined;

  private constructor(aedes: Aedes, server: Server, host: string, opts: BrokerOptions) {
    super();
    this.aedes = aedes;
    this.server = server;
    this.host = host;
    this.opts = opts;
    this.session = new CloudSession({
      publish: (topic, env) => {
        publishPacket(this.aedes, topic, JSON.stringify(env)).catch(() => undefined);
      },
      keyFor: (uuid) => this.connected.get(uuid)?.auth.key,
      timeZone: opts.timeZone,
    });
  }

  /** Starts listening; rejects with BAD_INPUT for unusable options or a port already taken. */
  static async start(opts: BrokerOptions): Promise<MerossBroker> {
    const port = opts?.port ?? MQTT_TLS_PORT;
    const host = opts?.host ?? "0.0.0.0";
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new MerossError("BAD_INPUT", `The broker port "${String(port)}" must be a whole number from 1 to 65535 (8883 is the usual MQTT-over-TLS port).`);
    }
    if (typeof host !== "string" || !host.trim()) {
      throw new MerossError("BAD_INPUT", "The broker bind address is empty. Use 0.0.0.0 to accept devices from the whole network.");
    }
    const certs = opts.certs;
    if (!certs || typeof certs.serverCert !== "string" || typeof certs.serverKey !== "string" || !certs.serverCert.includes("BEGIN") || !certs.serverKey.includes("BEGIN")) {
      throw new MerossError("BAD_INPUT", "The broker needs a server certificate and key in PEM form. Create them with \"meross certs\" (or generateCertificates) first.");
    }
    if (opts.timeZone !== undefined) buildSystemTimePayload(Math.floor(Date.now() / 1000), opts.timeZone);

    const aedes = await Aedes.createBroker({ heartbeatInterval: 60_000 });
    // aedes-server-factory reports socket errors as an aedes "error"; unlistened, it would crash the process.
    (aedes as EventEmitter).on("error", () => undefined);
    let server: Server;
    try {
      server = createServer(aedes, { tls: { key: certs.serverKey, cert: certs.serverCert, minVersion: "TLSv1.2" } }) as Server;
    } catch (err) {
      aedes.close();
      throw new MerossError("BAD_INPUT", `The broker certificate or key could not be loaded (${err instanceof Error ? err.message : String(err)}). Regenerate them with "meross certs".`);
    }
    const broker = new MerossBroker(aedes, server, host, opts);
    server.on("connection", (sock: Socket) => {
      broker.sockets.add(sock);
      sock.once("close", () => broker.sockets.delete(sock));
    });
    server.on("tlsClientError", () => undefined);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      await new Promise<void>((r) => aedes.close(() => r()));
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === "EADDRINUSE" ? `port ${port} is already in use — stop the other MQTT broker (Mosquitto?) or choose another port` :
        code === "EACCES" ? `port ${port} needs more privileges — use a port above 1023` :
        code === "EADDRNOTAVAIL" ? `${host} is not an address of this machine — use 0.0.0.0` :
        (err as Error).message;
      throw new MerossError("BAD_INPUT", `The MQTT broker could not start on ${host}:${port}: ${why}.`, { cause: code });
    }
    server.on("error", () => undefined);
    const addr = server.address();
    broker.listenPort = typeof addr === "object" && addr ? addr.port : port;
    broker.wire();
    return broker;
  }

  private wire(): void {
    const a = this.aedes;
    a.authenticate = (client, username, password, done) => {
      this.authenticate(client, username, password).then(
        (ok) => done(null, ok),
        (err: Error & { returnCode: number }) => done(err, false),
      );
    };
    a.authorizePublish = (client, packet, cb) => {
      if (!client) return cb(null);
      // aedes' default guard, which a custom handler replaces: $SYS publishes are a known DoS (aedes#597).
      if (packet.topic.startsWith("$SYS")) return cb(new Error("$SYS topics are reserved"));
      const dev = this.auth.get(client);
      const t = packet.topic;
      if (dev) {
        // A device may only speak for itself: its publish topic, or an app's reply topic (§1.4).
        if (t === devicePublishTopic(dev.device.uuid) || t.startsWith("/app/")) return cb(null);
        return cb(new Error("a device may only publish on its own topic"));
      }
      if (/^\/appliance\/[^/]+\/publish$/.test(t)) return cb(new Error("only the device itself may publish its state"));
      cb(null);
    };
    a.authorizeSubscribe = (client, sub, cb) => {
      const dev = this.auth.get(client);
      if (dev && sub.topic !== deviceRequestTopic(dev.device.uuid) && (/[+#]/.test(sub.topic) || sub.topic.startsWith("/appliance/"))) {
        return cb(null, null);
      }
      cb(null, sub);
    };
    a.on("clientReady", (client) => {
      const auth = this.auth.get(client);
      if (!auth) return;
      this.connected.set(auth.device.uuid, { client, auth });
      this.safeEmit("device-connected", { ...auth.device });
    });
    a.on("subscribe", (subs, client) => {
      const auth = client ? this.auth.get(client) : undefined;
      const entry = auth ? this.connected.get(auth.device.uuid) : undefined;
      if (auth && entry && entry.client === client && subs.some((sub) => sub.topic === deviceRequestTopic(auth.device.uuid))) {
        entry.listening = true;
        this.safeEmit("device-listening", { ...auth.device });
      }
    });
    a.on("clientDisconnect", (client) => this.dropClient(client));
    a.on("publish", (packet, client) => {
      if (client) this.onDevicePublish(client, packet);
    });
  }

  private dropClient(client: Client): void {
    const auth = this.auth.get(client);
    if (!auth) return;
    const entry = this.connected.get(auth.device.uuid);
    // A reconnect under a new client id may already have replaced this entry.
    if (entry && entry.client === client) {
      this.connected.delete(auth.device.uuid);
      this.safeEmit("device-disconnected", { uuid: auth.device.uuid });
    }
  }

  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<boolean> {
    const clientId = client.id;
    const ip = clientIp(client);
    const user = username ?? "";
    const pass = password ? password.toString("utf8") : "";
    const refuse = (code: number, reason: string): never => {
      this.safeEmit("refused", { clientId, username: user, ip, reason } satisfies RefusedEvent);
      throw refusal(code, reason);
    };
    const m = DEVICE_CLIENT_ID.exec(clientId);
    if (!m) {
      const users = this.opts.users ?? [];
      if (users.some((u) => sameText(u.username, user) && sameText(u.password, pass))) return true;
      if (this.opts.allowAnonymous && !user && !pass) return true;
      if (this.opts.allowAnonymous && users.length === 0) return true;
      return refuse(RC_BAD_CREDENTIALS, user ? "unknown user name or wrong password" : "anonymous clients are not allowed");
    }
    const uuid = m[1];
    const mac = user.trim().toLowerCase();
    if (!mac) return refuse(RC_BAD_CREDENTIALS, "the device sent no user name (its MAC address)");
    const sep = pass.lastIndexOf("_");
    if (sep < 0) return refuse(RC_BAD_CREDENTIALS, "the device password is not in the <userId>_<hash> form");
    const userId = pass.slice(0, sep);
    const hash = pass.slice(sep + 1).toLowerCase();
    if (this.opts.userIdCheck) {
      let ok = false;
      try {
        ok = this.opts.userIdCheck(userId);
      } catch {
        ok = false;
      }
      if (!ok) return refuse(RC_NOT_AUTHORIZED, `user id ${userId} is not accepted`);
    }
    let candidates: string[];
    try {
      candidates = await this.keysFor(uuid, mac);
    } catch {
      return refuse(RC_NOT_AUTHORIZED, "the device key lookup failed");
    }
    // Firmware hashes its MAC as it stores it: lowercase in every capture; the raw form is a fallback.
    const macForms = [...new Set([mac, user])];
    const key = candidates.find((k) => macForms.some((f) => sameText(md5Hex(f + k), hash)));
    if (key === undefined) {
      return refuse(RC_BAD_CREDENTIALS, candidates.length ? "wrong password: no known device key matches" : "no device key is configured for this device");
    }
    this.auth.set(client, { key, device: { uuid, mac, ip, clientId, userId, connectedAt: Date.now() } });
    return true;
  }

  private async keysFor(uuid: string, mac: string): Promise<string[]> {
    const k = this.opts.keys;
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

  private onDevicePublish(client: Client, packet: AedesPublishPacket): void {
    const auth = this.auth.get(client);
    if (!auth) return;
    const uuid = auth.device.uuid;
    let env: Envelope;
    try {
      const text = Buffer.isBuffer(packet.payload) ? packet.payload.toString("utf8") : String(packet.payload);
      env = asEnvelope(JSON.parse(text), uuid);
    } catch {
      return;
    }
    let result: { handled: boolean; bind?: BindInfo };
    try {
      result = this.session.handle(uuid, packet.topic, env, auth.key);
    } catch {
      result = { handled: false };
    }
    if (result.bind) {
      if (result.bind.model) auth.device.model = result.bind.model;
      if (result.bind.firmware) auth.device.firmware = result.bind.firmware;
      this.safeEmit("device-bound", { ...auth.device });
    }
    if (!result.handled) this.safeEmit("message", { uuid, topic: packet.topic, envelope: env } satisfies BrokerMessageEvent);
  }

  /** The port actually listened on (the free one picked when started with port 0). */
  get port(): number {
    return this.listenPort;
  }

  /** Devices logged in right now, with the IP they connected from. */
  devices(): BrokerDevice[] {
    return [...this.connected.values()].map(({ auth }) => ({ ...auth.device }));
  }

  /**
   * Connected AND subscribed to its request topic: a request published before the device
   * subscribes is lost (clean session), so only then is MQTT a path for requests.
   */
  isConnected(uuid: string): boolean {
    return this.connected.get(uuid)?.listening === true;
  }

  /** A connection for this process's own requests, delivered through aedes without TLS. */
  connection(): MqttConnection {
    if (this.stopping) {
      throw new MerossError("UNREACHABLE", "The embedded MQTT broker is stopped. Start it again (redeploy) before sending requests.");
    }
    const link = new AedesLink(this.aedes, (l) => this.links.delete(l));
    this.links.add(link);
    const conn = new MqttConnection(link, `mqtts://${this.host}:${this.port} (in-process)`);
    void conn.listen();
    return conn;
  }

  /** Closes listeners, devices and in-process connections; safe to call twice. */
  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    for (const link of this.links) link.shutdown();
    this.links.clear();
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const aedesClosed = new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    // Devices keep their TLS sockets open forever; without this, close() would wait for them.
    for (const sock of this.sockets) sock.destroy();
    await Promise.all([serverClosed, aedesClosed]);
    for (const uuid of [...this.connected.keys()]) {
      this.connected.delete(uuid);
      this.safeEmit("device-disconnected", { uuid });
    }
  }

  private safeEmit(event: string, arg: unknown): void {
    try {
      this.emit(event, arg);
    } catch {
      return;
    }
  }
}
