/**
 * Hostile peers for `bench hostile`, in their own process so that their memory and CPU are
 * not charged to the Node-RED being measured. IPC: {id, cmd: "bind"} → {id, ports, floodPort}
 * binds the four hostile HTTP "devices" and the hostile existing broker on ports the OS picks
 * (until armed they hang up on every connection, as good as a refusal); {id, cmd: "http"} arms the
 * HTTP devices; {id, cmd: "mqtt", port, key, durationMs} runs the hostile MQTT clients against the
 * broker and answers with what they managed; {id, cmd: "http-requests"} → {id, requests} (how many
 * requests the armed HTTP devices received); {id, cmd: "reply-flood"} arms the hostile broker; {cmd: "stop"}.
 */
import { fork, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import zlib from "node:zlib";
import mqtt from "mqtt";
import mqttPacket from "mqtt-packet";

const MB = 2 ** 20;
const CHUNK = Buffer.alloc(64 * 1024, "a");

export interface HttpPorts {
  big: number;
  endless: number;
  gzip: number;
  drip: number;
}

export interface MqttOutcome {
  oversizeSockets: number;
  idleSockets: number;
  refused: number;
  loggedIn: number;
  /** Anonymous sessions of the qos2 case that got in. */
  qos2Sessions: number;
}

/**
 * oversize: CONNECT packets announcing 256 MB; idle: connections that never log in; invented: logins as made-up devices;
 * qos2: 16 anonymous sessions (the broker must allow them), each sending up to 1,000 QoS 2 publishes of 60 KB and never a PUBREL.
 */
export type MqttCase = "oversize" | "idle" | "invented" | "qos2";

/** What the hostile existing broker of `reply-flood` did: connections served, and those the client hung up on mid-packet. */
export interface ReplyFloodOutcome {
  connections: number;
  hungUp: number;
}

type Command =
  | { cmd: "bind" }
  | { cmd: "http" }
  | { cmd: "mqtt"; port: number; key: string; durationMs: number; cases: MqttCase[] }
  | { cmd: "http-requests" }
  | { cmd: "reply-flood" }
  | { cmd: "reply-flood-outcome" }
  | { cmd: "stop" };

/** Writes `total` bytes (Infinity: until the peer goes away) as fast as the peer reads them. */
function pump(res: http.ServerResponse, total: number): void {
  let sent = 0;
  const more = (): void => {
    while (sent < total && !res.destroyed) {
      const chunk = total - sent >= CHUNK.length ? CHUNK : CHUNK.subarray(0, total - sent);
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once("drain", more);
    }
    if (sent >= total) res.end();
  };
  more();
}

let requests = 0;
const armed = { http: false, flood: false };

/**
 * Binds `server` to a port the OS picks and answers with it: a port picked first and bound later
 * could be taken in between (by a simulated device, say). Until `isArmed()`, every connection is
 * dropped at once, which fails a request as fast as nothing listening would.
 */
function bindZero(server: net.Server, isArmed: () => boolean): Promise<number> {
  server.on("connection", (sock: net.Socket) => void (isArmed() || sock.destroy()));
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}

function hostileHttp(handler: http.RequestListener): http.Server {
  return http.createServer((req, res) => (requests++, handler(req, res)));
}

function httpServers(): Record<keyof HttpPorts, http.Server> {
  // 16 gzip members of 64 MB of zeros: ~1 MB on the wire, 1 GB once inflated (members concatenate, RFC 1952 §2.2).
  const member = zlib.gzipSync(Buffer.alloc(64 * MB));
  const bomb = Buffer.concat(Array.from({ length: 16 }, () => member));
  const drips = new Set<NodeJS.Timeout>();
  return {
    big: hostileHttp((req, res) => {
      req.resume();
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": 50 * MB });
      pump(res, 50 * MB);
    }),
    endless: hostileHttp((req, res) => {
      req.resume();
      res.writeHead(200, { "Content-Type": "application/json" });
      pump(res, Infinity);
    }),
    gzip: hostileHttp((req, res) => {
      req.resume();
      res.writeHead(200, { "Content-Type": "application/json", "Content-Encoding": "gzip", "Content-Length": bomb.length });
      res.end(bomb);
    }),
    drip: hostileHttp((req, res) => {
      req.resume();
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": 100_000 });
      const t = setInterval(() => (res.destroyed ? (clearInterval(t), drips.delete(t)) : res.write("{")), 100);
      drips.add(t);
    }),
  };
}

const sleepUntil = (t: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
const hex = (n: number): string => crypto.randomBytes(n).toString("hex");
const mac = (): string => (hex(6).match(/../g) ?? []).join(":");
const md5 = (s: string): string => crypto.createHash("md5").update(s).digest("hex");

/** The hostile MQTT clients of `cases`, all at once, until `durationMs` is over. */
async function mqttAttack(port: number, key: string, durationMs: number, cases: MqttCase[]): Promise<MqttOutcome> {
  const end = Date.now() + durationMs;
  const out: MqttOutcome = { oversizeSockets: 0, idleSockets: 0, refused: 0, loggedIn: 0, qos2Sessions: 0 };
  const sockets = new Set<net.Socket>();
  const opts = { host: "127.0.0.1", port, rejectUnauthorized: false };
  // A CONNECT announcing 256 MB (the largest remaining length MQTT can encode), then streaming junk, before any login.
  const oversize = (): void => {
    if (Date.now() > end) return;
    out.oversizeSockets++;
    const s = tls.connect(opts, () => {
      s.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
      const more = (): void => {
        while (!s.destroyed && Date.now() < end) if (!s.write(CHUNK)) return void s.once("drain", more);
      };
      more();
    });
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => (sockets.delete(s), oversize()));
  };
  if (cases.includes("oversize")) for (let i = 0; i < 4; i++) oversize();
  // Connections that never log in: half finish the TLS handshake, half never start it.
  for (let i = 0; cases.includes("idle") && i < 400; i++) {
    const s = i % 2 ? tls.connect(opts) : net.connect(port, "127.0.0.1");
    out.idleSockets++;
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
  }
  // Invented devices: wrong passwords, and (the key is known, as it is to anyone who read one device) valid logins of made-up uuids.
  const clients: mqtt.MqttClient[] = [];
  const invent = async (valid: boolean): Promise<void> => {
    while (Date.now() < end) {
      const uuid = hex(16);
      const m = mac();
      try {
        const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
          clientId: `fmware:${uuid}_${hex(8)}`,
          username: m,
          password: valid ? `0_${md5(m + key)}` : `0_${hex(16)}`,
          rejectUnauthorized: false,
          reconnectPeriod: 0,
          connectTimeout: 3000,
        });
        out.loggedIn++;
        c.on("error", () => undefined);
        c.subscribe(`/appliance/${uuid}/subscribe`, () => undefined);
        c.publish(`/appliance/${hex(16)}/publish`, JSON.stringify({ header: { from: hex(8) }, payload: {} }));
        clients.push(c);
        if (clients.length > 300) clients.shift()?.end(true);
      } catch {
        out.refused++;
      }
    }
  };
  const loops = cases.includes("invented") ? 6 : 0;
  // QoS 2 without PUBREL: the broker would hold every message until a PUBREL that never comes.
  const big = Buffer.alloc(60 * 1024, "q");
  const qos2 = async (): Promise<void> => {
    while (Date.now() < end) {
      const uuid = hex(16);
      try {
        const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
          clientId: `app:${hex(8)}`,
          rejectUnauthorized: false,
          reconnectPeriod: 0,
          connectTimeout: 3000,
        });
        out.qos2Sessions++;
        c.on("error", () => undefined);
        const closed = new Promise<void>((r) => c.once("close", () => r()));
        for (let i = 0; i < 1000 && c.connected; i++) c.publish(`/appliance/${uuid}/subscribe`, big, { qos: 2 });
        await Promise.race([closed, sleepUntil(end)]);
        c.end(true);
      } catch {
        out.refused++;
      }
    }
  };
  await Promise.all([
    ...Array.from({ length: loops }, () => invent(true)),
    ...Array.from({ length: loops }, () => invent(false)),
    ...Array.from({ length: cases.includes("qos2") ? 16 : 0 }, () => qos2()),
    sleepUntil(end),
  ]);
  for (const s of sockets) s.destroy();
  for (const c of clients) c.end(true);
  return out;
}

/**
 * A hostile existing broker (plain MQTT): to every client it accepts it sends, on the client's
 * own reply topic (`/app/<id>/subscribe`, which any device reads from the `from` of a request),
 * 500 messages of 60 KB and then a PUBLISH announcing 200 MB whose body keeps coming.
 */
function replyFloodBroker(outcome: ReplyFloodOutcome): net.Server {
  const write = async (sock: net.Socket, buf: Buffer): Promise<void> => {
    if (!sock.write(buf) && !sock.destroyed) {
      await new Promise<void>((resolve) => {
        const go = (): void => void (sock.off("drain", go).off("close", go), resolve());
        sock.once("drain", go).once("close", go);
      });
    }
  };
  const flood = async (sock: net.Socket, topic: string): Promise<void> => {
    const payload = Buffer.alloc(60 * 1024, "r");
    for (let i = 0; i < 500 && !sock.destroyed; i++) {
      await write(sock, mqttPacket.generate({ cmd: "publish", topic, payload, qos: 0, retain: false, dup: false }));
    }
    const name = Buffer.from(topic);
    const header = [0x30];
    for (let len = 200 * MB; len > 0; len = Math.floor(len / 128)) header.push((len % 128) | (len >= 128 ? 0x80 : 0));
    await write(sock, Buffer.concat([Buffer.from(header), Buffer.from([name.length >> 8, name.length & 0xff]), name]));
    for (let sent = 0; sent < 200 * MB && !sock.destroyed; sent += CHUNK.length) await write(sock, CHUNK);
    if (sock.destroyed) outcome.hungUp++;
  };
  return net.createServer((sock) => {
    if (!armed.flood) return;
    outcome.connections++;
    sock.on("error", () => undefined);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on("packet", (p: mqttPacket.Packet) => {
      if (p.cmd === "connect") sock.write(mqttPacket.generate({ cmd: "connack", returnCode: 0, sessionPresent: false }));
      if (p.cmd !== "subscribe") return;
      const sub = p as mqttPacket.ISubscribePacket;
      sock.write(mqttPacket.generate({ cmd: "suback", messageId: sub.messageId, granted: sub.subscriptions.map(() => 1) }));
      const reply = sub.subscriptions.find((x) => /^\/app\/[^/]+\/subscribe$/.test(x.topic));
      if (reply) void flood(sock, reply.topic);
    });
    sock.on("data", (d) => void parser.parse(d));
  });
}

if (require.main === module) {
  const replyFlood: ReplyFloodOutcome = { connections: 0, hungUp: 0 };
  const http4 = httpServers();
  const servers = Object.values(http4);
  const fakeBroker = replyFloodBroker(replyFlood);
  process.on("message", (m: Command & { id: number }) => {
    void (async () => {
      if (m.cmd === "bind") {
        const ports = {} as HttpPorts;
        for (const [name, srv] of Object.entries(http4)) ports[name as keyof HttpPorts] = await bindZero(srv, () => armed.http);
        process.send?.({ id: m.id, ports, floodPort: await bindZero(fakeBroker, () => armed.flood) });
      } else if (m.cmd === "http") {
        armed.http = true;
        process.send?.({ id: m.id });
      } else if (m.cmd === "http-requests") {
        process.send?.({ id: m.id, requests });
      } else if (m.cmd === "reply-flood") {
        armed.flood = true;
        process.send?.({ id: m.id });
      } else if (m.cmd === "reply-flood-outcome") {
        process.send?.({ id: m.id, outcome: replyFlood });
      } else if (m.cmd === "mqtt") {
        process.send?.({ id: m.id, outcome: await mqttAttack(m.port, m.key, m.durationMs, m.cases) });
      } else {
        for (const s of servers) s.closeAllConnections();
        fakeBroker.close();
        process.send?.({ id: m.id }, () => process.exit(0));
      }
    })();
  });
}

export class HostilePeers {
  private seq = 0;
  private constructor(private readonly child: ChildProcess) {}

  static start(): HostilePeers {
    return new HostilePeers(fork(__filename, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  }

  call(req: Command): Promise<Record<string, unknown>> {
    const id = ++this.seq;
    return new Promise((resolve) => {
      const onMsg = (m: { id: number }) => {
        if (m.id !== id) return;
        this.child.off("message", onMsg);
        resolve(m as Record<string, unknown>);
      };
      this.child.on("message", onMsg);
      this.child.send({ id, ...req });
    });
  }
}
