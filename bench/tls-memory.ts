/**
 * `npm run bench -- tls-memory [n]`: what one connection costs a server process, by variant:
 * plain TCP, TLS 1.2 / 1.3, server TLS options, aedes on top, and glibc allocator settings.
 * Each variant runs in a fresh server process (this file, role "server") and its n clients
 * (1000 by default) in yet another (role "client"), so the figures are the server's own: RSS,
 * glibc's main arena ("[heap]" in /proc/self/smaps: OpenSSL's and Node's native buffers; resident
 * and mapped) and the V8 heap, per connection, after gc, once every client is connected (for aedes,
 * logged in) and has sent its messages. `BENCH_TLS_VARIANTS=tls12,aedes-tls12` picks variants.
 *
 * What it showed at 1000 connections (Node 20.20, OpenSSL 3.0, glibc 2.36): an idle TLS 1.2
 * connection costs ~23 KB of malloc heap (TLS 1.3 ~25, TCP ~0.3) whatever the server options
 * (tickets, session cache, certificate key type, highWaterMark). In use per connection
 * (heaptrack): Node's 64 KB read buffer for the encrypted bytes, resident only where written,
 * ~14 KB of OpenSSL state, ~1.5 KB of write buffer, ~1 KB of session; OpenSSL's record buffers
 * are released between records (Node sets SSL_MODE_RELEASE_BUFFERS). The broker with simulated
 * devices costs 44-57 KB per device from one run to the next: the rest is memory freed after
 * the login burst (OpenSSL grows a 16 KB buffer per handshake in flight) that glibc keeps
 * resident in its heap (malloc_trim would return part of it; nothing in Node calls it; devices
 * logging in one after another instead of all at once map less but leave as much resident).
 * A connection's largest message adds about twice its size (a 6 KB message each way: ~45 KB).
 */
import { execFileSync, fork } from "node:child_process";
import crypto from "node:crypto";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Duplex } from "node:stream";
import tls from "node:tls";
import { Aedes } from "aedes";
import { createServer } from "aedes-server-factory";
import { generateCertificates } from "../dist/core/broker/certs";
import { MerossBroker } from "../dist/core/broker/broker";
import { MerossDevice } from "../dist/core/session/device";
import { MqttTransport } from "../dist/core/transport/mqtt";
import { SimulatedDevice } from "../src/simulator/device";
import { round, sleep } from "./common";
import { benchUuid } from "./scale";

const KEY = "bench-key";

const DEFAULT_CONNECTIONS = 1000;

interface Variant {
  /**
   * "tcp": net server; "tls": tls server; "tls-js": TLS over a JS stream wrapping the socket;
   * "aedes-tcp"/"aedes-tls": aedes behind either, clients log in with an MQTT CONNECT;
   * "broker": our MerossBroker with simulated mss110 devices as clients (TLS 1.3, as mqtt.js speaks it).
   */
  server: "tcp" | "tls" | "tls-js" | "aedes-tcp" | "aedes-tls" | "broker" | "broker-raw";
  /** Server TLS options on top of the broker's own. */
  tls?: tls.TlsOptions;
  /** Real devices speak TLS 1.2; Node's client (and the simulator) 1.3 unless told. */
  clientMaxVersion?: tls.SecureVersion;
  /** A P-256 certificate (made with the openssl command) instead of the broker's RSA 2048 one. */
  ecCert?: boolean;
  /** Each client sends a message once a second this many times (echoed back) before the figures. */
  rounds?: number;
  /** Bytes of each message: 280 by default, a ToggleX push. */
  messageBytes?: number;
  /** Clients open this many connections at a time (20 by default); a fleet after a restart arrives all at once. */
  batch?: number;
  /** Environment of the server process: glibc allocator settings, which a library cannot set for Node-RED. */
  env?: Record<string, string>;
}

const TLS12 = { server: "tls", clientMaxVersion: "TLSv1.2" } as const;

const VARIANTS: Record<string, Variant> = {
  tcp: { server: "tcp" },
  tls13: { server: "tls" },
  tls12: TLS12,
  "tls12-burst": { ...TLS12, batch: DEFAULT_CONNECTIONS },
  "tls12-no-ticket": { ...TLS12, tls: { secureOptions: crypto.constants.SSL_OP_NO_TICKET } },
  "tls12-session-timeout-0": { ...TLS12, tls: { sessionTimeout: 0 } },
  "tls12-ec-cert": { ...TLS12, ecCert: true },
  "tls12-high-water-1k": { ...TLS12, tls: { highWaterMark: 1024 } as tls.TlsOptions },
  "tls12-traffic": { ...TLS12, rounds: 5 },
  "tls13-traffic": { server: "tls", rounds: 5 },
  "tls12-6k-message": { ...TLS12, rounds: 1, messageBytes: 6000 },
  "tls12-12k-message": { ...TLS12, rounds: 1, messageBytes: 12000 },
  "tls12-js-stream": { ...TLS12, server: "tls-js" },
  "tls12-js-stream-6k-message": { ...TLS12, server: "tls-js", rounds: 1, messageBytes: 6000 },
  "tls12-env-arena-max-1": { ...TLS12, env: { MALLOC_ARENA_MAX: "1" } },
  "tls12-env-trim-0": { ...TLS12, env: { MALLOC_TRIM_THRESHOLD_: "0" } },
  "tls12-env-mmap-64k": { ...TLS12, env: { MALLOC_MMAP_THRESHOLD_: "65536" } },
  "aedes-tcp": { server: "aedes-tcp" },
  broker: { server: "broker" },
  "broker-read": { server: "broker", rounds: 1 },
  "broker-raw-clients": { server: "broker-raw" },
  "broker-env-mmap-64k": { server: "broker", env: { MALLOC_MMAP_THRESHOLD_: "65536" } },
  "aedes-tls12": { server: "aedes-tls", clientMaxVersion: "TLSv1.2" },
  "aedes-tcp-traffic": { server: "aedes-tcp", rounds: 5 },
  "aedes-tls12-traffic": { server: "aedes-tls", clientMaxVersion: "TLSv1.2", rounds: 5 },
};

interface Sample {
  rssKb: number;
  heapKb: number;
  heapMappedKb: number;
  v8Kb: number;
}

function sample(): Sample {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) gc?.();
  let heapKb = 0;
  let heapMappedKb = 0;
  let inHeap = false;
  try {
    for (const line of fs.readFileSync("/proc/self/smaps", "utf8").split("\n")) {
      const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (head) inHeap = head[1] === "[heap]";
      const kb = /^(Rss|Size):\s+(\d+) kB/.exec(line);
      if (kb && inHeap && kb[1] === "Rss") heapKb += Number(kb[2]);
      if (kb && inHeap && kb[1] === "Size") heapMappedKb += Number(kb[2]);
    }
  } catch {
    // Not Linux: only RSS and V8 figures.
  }
  const mem = process.memoryUsage();
  return { rssKb: mem.rss / 1024, heapKb, heapMappedKb, v8Kb: mem.heapUsed / 1024 };
}

/** An MQTT fixed header: packet type byte, then the remaining length in 7-bit groups. */
function mqttPacket(type: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([type, ...len]), body]);
}

const withLength = (s: string): Buffer => Buffer.concat([Buffer.from([s.length >> 8, s.length & 0xff]), Buffer.from(s)]);

/** Role "client" for the broker: simulated devices, each from its own loopback address as on a LAN. */
async function devices(port: number, n: number): Promise<void> {
  const sims: SimulatedDevice[] = [];
  for (let i = 0; i < n; i++) {
    const uuid = benchUuid(i);
    sims.push(
      await SimulatedDevice.start({
        model: "mss110",
        key: KEY,
        port: 0,
        uuid,
        mac: uuid.slice(-12),
        gateway: { host: "127.0.0.1", port },
        userId: "0",
        mqttLocalAddress: `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`,
      }),
    );
  }
  process.send?.("ready");
  await once(process, "disconnect");
  await Promise.all(sims.map((d) => d.stop()));
}

/** Role "client": opens `n` connections to the port, says "ready" once all are up and done talking, then idles. */
async function clients(port: number, n: number, v: Variant): Promise<void> {
  const sockets: net.Socket[] = [];
  const mqtt = v.server.startsWith("aedes") || v.server === "broker-raw";
  const secure = v.server !== "tcp" && v.server !== "aedes-tcp";
  const open = (i: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const sock = secure
        ? tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, maxVersion: v.clientMaxVersion })
        : net.connect({ host: "127.0.0.1", port });
      sockets.push(sock);
      sock.once("error", reject);
      sock.once(secure ? "secureConnect" : "connect", () => {
        if (!mqtt) return resolve();
        // CONNECT: MQTT 3.1.1, clean session, no keep-alive; a CONNACK with return code 0 accepts it.
        sock.write(mqttPacket(0x10, Buffer.concat([withLength("MQTT"), Buffer.from([4, 0x02, 0, 0]), withLength(`bench-${i}`)])));
        sock.once("data", (d: Buffer) => (d[0] === 0x20 && d[3] === 0 ? resolve() : reject(new Error("login refused"))));
      });
    });
  const batch = v.batch ?? 20;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, k) => open(i + k)));
  }
  if (v.rounds) {
    const text = Buffer.alloc(v.messageBytes ?? 280, "x");
    // Over MQTT each client subscribes to its own topic and publishes there at QoS 0, so aedes sends it back.
    if (mqtt)
      sockets.forEach((s, i) => s.write(mqttPacket(0x82, Buffer.concat([Buffer.from([0, 1]), withLength(`t/${i}`), Buffer.from([0])]))));
    const message = (i: number): Buffer => (mqtt ? mqttPacket(0x30, Buffer.concat([withLength(`t/${i}`), text])) : text);
    const STEP = 50;
    for (let r = 0; r < v.rounds; r++) {
      // Spread over the second, as devices pushing once a second are.
      for (let i = 0; i < sockets.length; i += STEP) {
        for (let k = i; k < Math.min(i + STEP, sockets.length); k++) sockets[k].write(message(k));
        await sleep(1000 / Math.ceil(sockets.length / STEP));
      }
    }
    await sleep(500);
  }
  process.send?.("ready");
  await once(process, "disconnect");
  for (const s of sockets) s.destroy();
}

function ecCertificate(): { key: string; cert: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tls-memory-"));
  try {
    const [key, cert] = [path.join(dir, "key.pem"), path.join(dir, "cert.pem")];
    const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"];
    execFileSync("openssl", [...args, "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1"], { stdio: "ignore" });
    return { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** TLS over a JS Duplex in front of the socket instead of its native handle: Node then sizes its read buffer by chunk. */
function jsStreamServer(secureContext: tls.SecureContext): net.Server {
  return net.createServer((sock) => {
    const d = new Duplex({
      read: () => sock.resume(),
      write: (chunk: Buffer, _enc, cb) => void sock.write(chunk, cb),
      final: (cb) => {
        sock.end();
        cb();
      },
      destroy: (err, cb) => {
        sock.destroy();
        cb(err);
      },
    });
    sock.on("data", (c: Buffer) => void (d.push(c) || sock.pause()));
    sock.on("end", () => d.push(null));
    sock.on("error", () => d.destroy());
    const t = new tls.TLSSocket(d, { isServer: true, secureContext });
    t.on("data", (x: Buffer) => t.write(x));
    t.on("error", () => sock.destroy());
  });
}

async function listen(v: Variant): Promise<net.Server> {
  const c = generateCertificates({ host: "127.0.0.1" });
  const cert = v.ecCert ? ecCertificate() : { key: c.serverKey, cert: c.serverCert };
  // As src/core/broker/broker.ts sets them for devices.
  const tlsOpts: tls.TlsOptions = { ...cert, minVersion: "TLSv1.2", handshakeTimeout: 10_000, ...v.tls };
  const echo = (s: net.Socket) => s.on("data", (d: Buffer) => s.write(d));
  let server: net.Server;
  if (v.server === "tcp") server = net.createServer(echo);
  else if (v.server === "tls") server = tls.createServer(tlsOpts, echo);
  else if (v.server === "tls-js") server = jsStreamServer(tls.createSecureContext(tlsOpts));
  else {
    // As the broker creates it (broker.ts), without its login checks.
    const aedes = await Aedes.createBroker({ heartbeatInterval: 60_000, connectTimeout: 10_000, maxInflightInbound: 16 });
    server = createServer(aedes, v.server === "aedes-tls" ? { tls: tlsOpts } : {}) as net.Server;
  }
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

/** The broker with `n` devices listening; with `rounds`, System.All and Ability read from each, as a meross-config does. */
async function brokerWithDevices(name: string, n: number, v: Variant): Promise<() => Promise<void>> {
  const c = generateCertificates({ host: "127.0.0.1" });
  const broker = await MerossBroker.start({ port: 0, host: "127.0.0.1", certs: c, keys: [KEY] });
  let listening = 0;
  const all = new Promise<void>((resolve) =>
    broker.events.on("device-listening", () => {
      if (++listening === n) resolve();
    }),
  );
  const stop = await runClients(name, broker.port, n);
  await all;
  if (v.rounds) {
    const client = broker.connection();
    for (let i = 0; i < n; i++) {
      await new MerossDevice({ transport: new MqttTransport({ uuid: benchUuid(i), client }), key: KEY }).ready();
    }
  }
  return stop;
}

async function runClients(name: string, port: number, n: number): Promise<() => Promise<void>> {
  const child = fork(__filename, ["client", name, String(port), String(n)], { execArgv: ["--import", "tsx"] });
  await Promise.race([
    once(child, "message"),
    once(child, "exit").then(() => {
      throw new Error(`the ${name} clients exited before all ${n} connected`);
    }),
  ]);
  return async () => {
    child.disconnect();
    await once(child, "exit");
  };
}

/** Role "server": measures before and after `n` connections of variant `name`; prints one JSON line. */
async function serve(name: string, n: number): Promise<void> {
  const v = VARIANTS[name];
  let stop: () => Promise<void>;
  let before: Sample;
  if (v.server === "broker-raw") {
    const c = generateCertificates({ host: "127.0.0.1" });
    const broker = await MerossBroker.start({
      port: 0,
      host: "127.0.0.1",
      certs: c,
      allowAnonymous: true,
      limits: { pendingPerAddress: 100000 },
    });
    before = sample();
    stop = await runClients(name, broker.port, n);
  } else if (v.server === "broker") {
    before = sample();
    stop = await brokerWithDevices(name, n, v);
  } else {
    const server = await listen(v);
    const port = (server.address() as net.AddressInfo).port;
    // One connection first, so that one-time costs (OpenSSL's first handshake, aedes' code paths) fall in the baseline.
    await (
      await runClients(name, port, 1)
    )();
    await sleep(300);
    before = sample();
    stop = await runClients(name, port, n);
  }
  await sleep(1000);
  const after = sample();
  await stop();
  const per = (k: keyof Sample) => round((after[k] - before[k]) / n, 1);
  const figures = { rss: per("rssKb"), heap: per("heapKb"), heapMapped: per("heapMappedKb"), v8: per("v8Kb") };
  console.log(`tls-memory ${JSON.stringify(figures)}`);
  process.exit(0);
}

/** One line per variant. */
export function tlsMemoryBench(sizes: number[]): void {
  const n = sizes[0] ?? DEFAULT_CONNECTIONS;
  const names = process.env.BENCH_TLS_VARIANTS?.split(",") ?? Object.keys(VARIANTS);
  for (const name of names) {
    if (!VARIANTS[name]) throw new Error(`unknown tls-memory variant "${name}" (known: ${Object.keys(VARIANTS).join(", ")})`);
    const out = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", __filename, "server", name, String(n)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...VARIANTS[name].env },
    });
    const m = /^tls-memory (.*)$/m.exec(out);
    if (!m) throw new Error(`the tls-memory server for ${name} printed no figures:\n${out}`);
    const f = JSON.parse(m[1]) as { rss: number; heap: number; heapMapped: number; v8: number };
    console.log(
      `bench tls-memory variant=${name} connections=${n} rss_kb_per_conn=${f.rss} malloc_heap_kb_per_conn=${f.heap} ` +
        `malloc_heap_mapped_kb_per_conn=${f.heapMapped} v8_kb_per_conn=${f.v8} (server process only, after gc; ` +
        `malloc_heap 0 means glibc's main arena left [heap] for anonymous mappings: read rss)`,
    );
  }
}

if (require.main === module) {
  const [role, name, a, b] = process.argv.slice(2);
  const run =
    role === "client"
      ? VARIANTS[name].server === "broker"
        ? devices(Number(a), Number(b))
        : clients(Number(a), Number(b), VARIANTS[name])
      : role === "server"
        ? serve(name, Number(a))
        : Promise.resolve(
            tlsMemoryBench(
              process.argv
                .slice(2)
                .filter((x) => /^\d+$/.test(x))
                .map(Number),
            ),
          );
  run.catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
