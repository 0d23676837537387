/**
 * Hostile peers for `bench hostile`, in their own process so that their memory and CPU are
 * not charged to the Node-RED being measured. IPC: {id, cmd: "http", ports} starts four
 * hostile HTTP "devices" on the given ports; {id, cmd: "mqtt", port, key, durationMs} runs the
 * hostile MQTT clients against the broker and answers with what they managed; {id, cmd: "http-requests"} →
 * {id, requests} (how many requests the hostile HTTP devices received); {cmd: "stop"}.
 */
import { fork, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import zlib from "node:zlib";
import mqtt from "mqtt";

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
}

/** oversize: CONNECT packets announcing 256 MB; idle: connections that never log in; invented: logins as made-up devices. */
export type MqttCase = "oversize" | "idle" | "invented";

type Command =
  | { cmd: "http"; ports: HttpPorts }
  | { cmd: "mqtt"; port: number; key: string; durationMs: number; cases: MqttCase[] }
  | { cmd: "http-requests" }
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

function listen(port: number, handler: http.RequestListener): Promise<http.Server> {
  const srv = http.createServer((req, res) => (requests++, handler(req, res)));
  return new Promise((resolve) => srv.listen(port, "127.0.0.1", () => resolve(srv)));
}

async function httpServers(ports: HttpPorts): Promise<http.Server[]> {
  // 16 gzip members of 64 MB of zeros: ~1 MB on the wire, 1 GB once inflated (members concatenate, RFC 1952 §2.2).
  const member = zlib.gzipSync(Buffer.alloc(64 * MB));
  const bomb = Buffer.concat(Array.from({ length: 16 }, () => member));
  const drips = new Set<NodeJS.Timeout>();
  return Promise.all([
    listen(ports.big, (req, res) => {
      req.resume();
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": 50 * MB });
      pump(res, 50 * MB);
    }),
    listen(ports.endless, (req, res) => {
      req.resume();
      res.writeHead(200, { "Content-Type": "application/json" });
      pump(res, Infinity);
    }),
    listen(ports.gzip, (req, res) => {
      req.resume();
      res.writeHead(200, { "Content-Type": "application/json", "Content-Encoding": "gzip", "Content-Length": bomb.length });
      res.end(bomb);
    }),
    listen(ports.drip, (req, res) => {
      req.resume();
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": 100_000 });
      const t = setInterval(() => (res.destroyed ? (clearInterval(t), drips.delete(t)) : res.write("{")), 100);
      drips.add(t);
    }),
  ]);
}

const sleepUntil = (t: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
const hex = (n: number): string => crypto.randomBytes(n).toString("hex");
const mac = (): string => (hex(6).match(/../g) ?? []).join(":");
const md5 = (s: string): string => crypto.createHash("md5").update(s).digest("hex");

/** The hostile MQTT clients of `cases`, all at once, until `durationMs` is over. */
async function mqttAttack(port: number, key: string, durationMs: number, cases: MqttCase[]): Promise<MqttOutcome> {
  const end = Date.now() + durationMs;
  const out: MqttOutcome = { oversizeSockets: 0, idleSockets: 0, refused: 0, loggedIn: 0 };
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
  await Promise.all([
    ...Array.from({ length: loops }, () => invent(true)),
    ...Array.from({ length: loops }, () => invent(false)),
    sleepUntil(end),
  ]);
  for (const s of sockets) s.destroy();
  for (const c of clients) c.end(true);
  return out;
}

if (require.main === module) {
  let servers: http.Server[] = [];
  process.on("message", (m: Command & { id: number }) => {
    void (async () => {
      if (m.cmd === "http") {
        servers = await httpServers(m.ports);
        process.send?.({ id: m.id });
      } else if (m.cmd === "http-requests") {
        process.send?.({ id: m.id, requests });
      } else if (m.cmd === "mqtt") {
        process.send?.({ id: m.id, outcome: await mqttAttack(m.port, m.key, m.durationMs, m.cases) });
      } else {
        for (const s of servers) s.closeAllConnections();
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
