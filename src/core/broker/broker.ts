/**
 * The embedded cloud-free MQTT broker: aedes over TLS (devices refuse plain MQTT,
 * docs/protocol.md §5.3), Meross device authentication (§5.2) and the cloud-like session
 * devices expect after connecting (§5.4). One instance per config; no module state.
 */
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import type { Server } from "node:tls";
import { Aedes, type AedesPublishPacket, type Client } from "aedes";
import { createServer } from "aedes-server-factory";
import { MerossError } from "../errors";
import { asEnvelope, type Envelope } from "../protocol/message";
import { buildSystemTimePayload } from "../onboarding/system-time";
import { MqttConnection, deviceRequestTopic, parsedPayload } from "../transport/mqtt";
import { macMatchesUuid } from "../protocol/rules";
import { CloudSession, SESSION_REPLY_TOPIC, type BindInfo } from "./cloud-responder";
import { MQTT_TLS_PORT } from "./certs";
import { AedesLink, dropPacketNumberCache, publishPacket } from "./aedes-link";
import {
  LoginRefusal,
  checkLogin,
  clientIp,
  type BrokerDevice,
  type BrokerMessageEvent,
  type BrokerOptions,
  type DeviceAuth,
  type RefusedEvent,
} from "./auth";
import { ConnectionGuard, DEFAULT_LIMITS, LOGIN_DEADLINE_MS } from "./limits";
import { DeviceTopicRules, packetRefusal, secondLoginRefusal } from "./topics";
import { TypedEvents } from "../events";

export type { BrokerDevice, BrokerMessageEvent, BrokerOptions, BrokerUser, KeyResolver, RefusedEvent } from "./auth";

/** What the broker tells its owner about devices. */
export interface BrokerEvents {
  "device-connected": BrokerDevice;
  /** Subscribed to its request topic: ready for requests. */
  "device-listening": BrokerDevice;
  /** Its Bind told model and firmware. */
  "device-bound": BrokerDevice;
  "device-disconnected": { uuid: string };
  refused: RefusedEvent;
  /** Device replies and state pushes the cloud-like session did not consume. */
  message: BrokerMessageEvent;
}

export class MerossBroker {
  readonly events = new TypedEvents<BrokerEvents>();
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
  private readonly topics = new DeviceTopicRules((uuid) => this.connected.has(uuid));
  private readonly guard: ConnectionGuard;
  private stopping: Promise<void> | undefined;

  private constructor(aedes: Aedes, server: Server, host: string, opts: BrokerOptions) {
    this.aedes = aedes;
    this.server = server;
    this.host = host;
    this.opts = opts;
    const limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.guard = new ConnectionGuard(limits, (ip, reason) => this.events.emit("refused", { clientId: "", username: "", ip, reason }));
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
      throw new MerossError(
        "BAD_INPUT",
        `The broker port "${String(port)}" must be a whole number from 1 to 65535 (8883 is the usual MQTT-over-TLS port).`,
      );
    }
    if (typeof host !== "string" || !host.trim()) {
      throw new MerossError("BAD_INPUT", "The broker bind address is empty. Use 0.0.0.0 to accept devices from the whole network.");
    }
    const certs = opts.certs;
    if (
      !certs ||
      typeof certs.serverCert !== "string" ||
      typeof certs.serverKey !== "string" ||
      !certs.serverCert.includes("BEGIN") ||
      !certs.serverKey.includes("BEGIN")
    ) {
      throw new MerossError(
        "BAD_INPUT",
        'The broker needs a server certificate and key in PEM form. Create them with "meross certs" (or generateCertificates) first.',
      );
    }
    if (opts.timeZone !== undefined) buildSystemTimePayload(Math.floor(Date.now() / 1000), opts.timeZone);

    const deadline = opts.limits?.loginDeadlineMs ?? LOGIN_DEADLINE_MS;
    // QoS 2 is refused in authorizePublish; the in-flight cap is the second line.
    dropPacketNumberCache();
    const aedes = await Aedes.createBroker({ heartbeatInterval: 60_000, connectTimeout: deadline, maxInflightInbound: 16 });
    // aedes-server-factory reports socket errors as an aedes "error"; unlistened, it would crash the process.
    (aedes as EventEmitter).on("error", () => undefined);
    let server: Server;
    try {
      const tls = { key: certs.serverKey, cert: certs.serverCert, minVersion: "TLSv1.2" as const, handshakeTimeout: deadline };
      server = createServer(aedes, { tls }) as Server;
    } catch (err) {
      aedes.close();
      throw new MerossError(
        "BAD_INPUT",
        `The broker certificate or key could not be loaded (${err instanceof Error ? err.message : String(err)}). Regenerate them with "meross certs".`,
      );
    }
    const broker = new MerossBroker(aedes, server, host, opts);
    server.on("connection", (sock: Socket) => {
      broker.sockets.add(sock);
      sock.once("close", () => broker.sockets.delete(sock));
      broker.guard.admit(sock);
    });
    // Registered after aedes-server-factory's own listener, so aedes already reads this socket.
    server.on("secureConnection", (sock: Socket) => broker.guard.watch(sock));
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
        code === "EADDRINUSE"
          ? `port ${port} is already in use — stop the other MQTT broker (Mosquitto?) or choose another port`
          : code === "EACCES"
            ? `port ${port} needs more privileges — use a port above 1023`
            : code === "EADDRNOTAVAIL"
              ? `${host} is not an address of this machine — use 0.0.0.0`
              : (err as Error).message;
      throw new MerossError("BAD_INPUT", `The MQTT broker could not start on ${host}:${port}: ${why}.`, { reason: code });
    }
    server.on("error", () => undefined);
    const addr = server.address();
    broker.listenPort = typeof addr === "object" && addr ? addr.port : port;
    broker.wire();
    return broker;
  }

  private wire(): void {
    const a = this.aedes;
    this.topics.addShared(SESSION_REPLY_TOPIC);
    a.authenticate = (client, username, password, done) => {
      checkLogin(this.opts, client, username, password)
        .then((auth) => {
          if (auth) this.checkNotTaken(client, auth);
          return auth;
        })
        .then(
          (auth) => {
            if (auth) this.auth.set(client, auth);
            this.guard.loggedIn(client.conn as Socket);
            done(null, true);
          },
          (err: unknown) => {
            if (err instanceof LoginRefusal) this.events.emit("refused", { ...err.event });
            done(err as Error & { returnCode: number }, false);
          },
        );
    };
    a.authorizePublish = (client, packet, cb) => {
      if (!client) return cb(null);
      // aedes' default guard, which a custom handler replaces: $SYS publishes are a known DoS (aedes#597).
      if (packet.topic.startsWith("$SYS")) return cb(new Error("$SYS topics are reserved"));
      const dev = this.auth.get(client);
      // Nothing is kept for later subscribers: a retained message is not live state, and the store would have no bound.
      packet.retain = false;
      const bad = packetRefusal(packet);
      if (bad) {
        if (dev) this.deny(client, dev, bad);
        return cb(new Error(bad));
      }
      if (dev) {
        const why = this.topics.publishRefusal(dev.device.uuid, packet.topic);
        if (why) this.deny(client, dev, why);
        return cb(why ? new Error(why) : null);
      }
      if (/^\/appliance\/[^/]+\/publish$/.test(packet.topic)) return cb(new Error("only the device itself may publish its state"));
      // Learnt here, before the request reaches the device: a device answers faster than aedes' "publish" event.
      this.topics.noteRequest(packet.topic, packet.payload);
      cb(null);
    };
    a.authorizeSubscribe = (client, sub, cb) => {
      const dev = client ? this.auth.get(client) : undefined;
      const why = dev ? this.topics.subscribeRefusal(dev.device.uuid, sub.topic) : undefined;
      if (client && dev && why) this.deny(client, dev, why);
      cb(null, why ? null : sub);
    };
    a.on("clientReady", (client) => {
      const auth = this.auth.get(client);
      if (!auth) return;
      const uuid = auth.device.uuid;
      const before = this.connected.get(uuid);
      // Keyed on the live client: the replaced session's close (below) does not make the device gone.
      this.connected.set(uuid, { client, auth });
      if (before && before.client !== client) {
        const squatter = !before.auth.device.proven && auth.device.proven && before.auth.key !== auth.key;
        if (squatter) this.topics.forget(uuid);
        this.evict(
          before,
          squatter
            ? `device ${uuid}'s unproven session from ${before.auth.device.ip || "an unknown address"} was closed: ` +
                `a login proven to be that device (its own key) took over`
            : undefined,
        );
      }
      this.events.emit("device-connected", { ...auth.device });
    });
    a.on("subscribe", (subs, client) => {
      const auth = client ? this.auth.get(client) : undefined;
      const entry = auth ? this.connected.get(auth.device.uuid) : undefined;
      if (auth && entry && entry.client === client && subs.some((sub) => sub.topic === deviceRequestTopic(auth.device.uuid))) {
        entry.listening = true;
        this.events.emit("device-listening", { ...auth.device });
      }
    });
    a.on("clientDisconnect", (client) => this.dropClient(client));
    // Reply topics are learnt only in authorizePublish, from clients that are not devices: never
    // from the broker's own messages, such as the session's echo of a device's Clock push.
    a.on("publish", (packet, client) => {
      if (client) this.onDevicePublish(client, packet);
    });
  }

  /** One live session per uuid (topics.ts secondLoginRefusal): a reused client id cannot kick the device off. */
  private checkNotTaken(client: Client, auth: DeviceAuth): void {
    const live = this.connected.get(auth.device.uuid);
    const reason = secondLoginRefusal(live && live.client !== client && !live.client.closed ? live.auth : undefined, auth);
    if (reason) throw new LoginRefusal(5, { clientId: client.id, username: auth.device.mac, ip: auth.device.ip, reason });
  }

  /** Closes a session that a newer one replaced or that proof now refuses; `reason` is reported. */
  private evict(entry: { client: Client; auth: DeviceAuth }, reason: string | undefined): void {
    if (reason) this.deny(entry.client, entry.auth, reason);
    if (!entry.client.closed) entry.client.close();
  }

  /**
   * Proof for `uuid` changed (a node named its key, the device answered over HTTP): an unproven
   * session made with another key is closed, one made with the proven key becomes proven.
   */
  recheck(uuid: string): void {
    const entry = this.connected.get(uuid);
    if (!entry || entry.auth.device.proven) return;
    const { mac, ip } = entry.auth.device;
    const named = this.opts.namedKeys?.(uuid) ?? [];
    const book = this.opts.identities;
    const ok = named.length > 0 ? named.includes(entry.auth.key) : !book?.proven(uuid) || book.matches(uuid, mac, entry.auth.key);
    if (!ok) {
      this.connected.delete(uuid);
      this.topics.forget(uuid);
      this.evict(
        entry,
        `device ${uuid}'s unproven session from ${ip || "an unknown address"} was closed: proof for that uuid names another key`,
      );
      return this.events.emit("device-disconnected", { uuid });
    }
    if (named.length > 0 || book?.proven(uuid)) {
      entry.auth.device.proven = true;
      this.events.emit("device-connected", { ...entry.auth.device });
      if (entry.listening) this.events.emit("device-listening", { ...entry.auth.device });
    }
  }

  /** A device tried a topic that is not its own: refused, and said why. */
  private deny(client: Client, dev: DeviceAuth, reason: string): void {
    this.events.emit("refused", { clientId: client.id, username: dev.device.mac, ip: clientIp(client), reason });
  }

  private dropClient(client: Client): void {
    const auth = this.auth.get(client);
    if (!auth) return;
    const entry = this.connected.get(auth.device.uuid);
    // A reconnect under a new client id may already have replaced this entry.
    if (entry && entry.client === client) {
      this.connected.delete(auth.device.uuid);
      this.topics.forget(auth.device.uuid);
      this.events.emit("device-disconnected", { uuid: auth.device.uuid });
    }
  }

  private onDevicePublish(client: Client, packet: AedesPublishPacket): void {
    const auth = this.auth.get(client);
    if (!auth) return;
    const uuid = auth.device.uuid;
    let env: Envelope;
    try {
      // Our own connection usually read this very message first (subscribers run before this event).
      const text = Buffer.isBuffer(packet.payload) ? undefined : String(packet.payload);
      env = parsedPayload(packet.payload) ?? asEnvelope(JSON.parse(text ?? packet.payload.toString("utf8")), uuid);
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
      // Signed with the login key: recorded as unproven (first come among unproven logins), never over proof for the uuid.
      if (!result.bind.mac || macMatchesUuid(result.bind.mac, uuid)) this.opts.identities?.learn(uuid, auth.device.mac, auth.key, "bind");
      if (result.bind.model) auth.device.model = result.bind.model;
      if (result.bind.firmware) auth.device.firmware = result.bind.firmware;
      this.events.emit("device-bound", { ...auth.device });
    }
    if (!result.handled) this.events.emit("message", { uuid, topic: packet.topic, envelope: env });
  }

  /** The port actually listened on (the free one picked when started with port 0). */
  get port(): number {
    return this.listenPort;
  }

  /** The key the device logged in with (its messages are signed with it), while it is connected. */
  loginKey(uuid: string): string | undefined {
    return this.connected.get(uuid)?.auth.key;
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
    let replyTopic = "";
    const link = new AedesLink(this.aedes, (l) => {
      this.links.delete(l);
      this.topics.removeShared(replyTopic);
    });
    this.links.add(link);
    const conn = new MqttConnection(link, `mqtts://${this.host}:${this.port} (in-process)`);
    // Devices answer our requests on this topic (their `from`, docs/protocol.md §1.4), even LAN-encrypted ones.
    replyTopic = conn.replyTopic;
    this.topics.addShared(replyTopic);
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
    this.guard.clear();
    await Promise.all([serverClosed, aedesClosed]);
    for (const uuid of [...this.connected.keys()]) {
      this.connected.delete(uuid);
      this.events.emit("device-disconnected", { uuid });
    }
  }
}
