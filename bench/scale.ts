/**
 * `bench scale`: n simulated devices on the embedded broker, each with a meross-config (MQTT,
 * by uuid) and its own meross-state, every device pushing a ToggleX once a second. Each n runs
 * in a fresh Node-RED process (this file as a child) so that RSS and CPU are its own; the
 * devices live in another process (fleet-process.ts), as real devices are other machines.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import v8 from "node:v8";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { startEmbedded } from "./nodered";
import { RemoteFleet } from "./fleet-process";
import { brokerFlow, brokerPort, round, sleep, untilListening } from "./common";

const KEY = "bench-key";
/** Pushes measured for this long per n, after WARM_MS of pushing: the whole line set stays within minutes. */
const WINDOW_MS = 10_000;
const WARM_MS = 3_000;

/** A uuid that ends with its MAC, as firmware's do (docs/protocol.md §7). */
export function benchUuid(i: number): string {
  return `19121742069361251858${(0x48e1e9000000 + i).toString(16)}`;
}

const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/**
 * Resident kB by kind of mapping (Linux only): "[heap]" is malloc's main arena (native memory:
 * OpenSSL's per-connection state, sockets), "anon" mostly V8's heap pages, "file" code.
 */
function rssByKind(): Record<string, number> {
  const kinds: Record<string, number> = {};
  let kind = "";
  let text: string;
  try {
    text = fs.readFileSync("/proc/self/smaps", "utf8");
  } catch {
    return kinds;
  }
  for (const line of text.split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) kind = head[1].includes("/") ? "file" : head[1] || "anon";
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kinds[kind] = (kinds[kind] ?? 0) + Number(rss[1]);
  }
  return kinds;
}

interface Figures {
  ready_s: number;
  rss_mb: number;
  cpu_pct: number;
  push_p50_ms: number;
  push_p99_ms: number;
  loop_p99_ms: number;
  pushes: number;
  outputs: number;
  /** Node-RED's CPU time in the window per matched output, in µs. */
  cpu_us_per_push: number;
  /** The machine's 1-minute load average at the end of the window: figures of a crowded machine say so. */
  load1: number;
}

async function child(n: number): Promise<Figures> {
  const out = { id: "out", type: "function", z: "tab", func: "global.get('benchSink')(msg); return null;", outputs: 0, wires: [] };
  const flow: Record<string, unknown>[] = [{ id: "tab", type: "tab" }, brokerFlow(0), out];
  const creds: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    flow.push({ id: `cfg${i}`, type: "meross-config", userId: "0", transport: "mqtt", broker: "broker", uuid: benchUuid(i) });
    flow.push({ id: `st${i}`, type: "meross-state", z: "tab", device: `cfg${i}`, pollInterval: "0", wires: [["out"]] });
    creds[`cfg${i}`] = { key: KEY };
  }
  let outputs: Array<[string, boolean, number]> = [];
  let recording = false;
  const sink = (m: { payload?: { kind?: string; on?: boolean }; meross?: { uuid?: string } }): void => {
    if (recording && m.payload?.kind === "toggle" && m.meross?.uuid)
      outputs.push([m.meross.uuid, m.payload.on === true, performance.timeOrigin + performance.now()]);
  };
  const red = await startEmbedded(flow, creds, { benchSink: sink });
  const gc = (globalThis as { gc?: () => void }).gc;
  let fleet: RemoteFleet | undefined;
  const figures: Figures = {
    ready_s: 0,
    rss_mb: 0,
    cpu_pct: 0,
    push_p50_ms: 0,
    push_p99_ms: 0,
    loop_p99_ms: 0,
    pushes: 0,
    outputs: 0,
    cpu_us_per_push: 0,
    load1: 0,
  };
  if (n > 0) {
    const port = await brokerPort(red);
    const specs = Array.from({ length: n }, (_, i) => ({
      model: "mss110",
      key: KEY,
      port: 0,
      uuid: benchUuid(i),
      mac: benchUuid(i).slice(-12),
      gateway: { host: "127.0.0.1", port },
      userId: "0",
      mqttReconnectMs: 1000,
      // Each from its own loopback address, as devices on a LAN: the broker admits 8 waiting logins per address.
      mqttLocalAddress: `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`,
    }));
    const t0 = performance.now();
    fleet = await RemoteFleet.start(specs);
    if (process.env.BENCH_DEBUG) console.error(`fleet started after ${round(performance.now() - t0)} ms`);
    const uuids = fleet.devices.map((d) => d.uuid);
    await untilListening(red, uuids, 600_000);
    figures.ready_s = round((performance.now() - t0) / 1000, 1);
    // In a function of its own, and the outputs dropped after: the presses, outputs and latencies
    // (about 2 MB at 1,000 devices) are the bench's, not Node-RED's, and must not be in its RSS.
    const measure = async (running: RemoteFleet): Promise<void> => {
      await running.call({ cmd: "pulse", everyMs: 1000 });
      await sleep(WARM_MS);
      await running.call({ cmd: "presses" });
      const loop = monitorEventLoopDelay({ resolution: 5 });
      outputs = [];
      recording = true;
      loop.enable();
      const cpu0 = process.cpuUsage();
      const w0 = performance.now();
      await sleep(WINDOW_MS);
      const cpu = process.cpuUsage(cpu0);
      const wall = performance.now() - w0;
      loop.disable();
      const presses = (await running.call({ cmd: "presses" })).presses as Array<[number, boolean, number]>;
      await running.call({ cmd: "pulse", everyMs: 0 });
      recording = false;
      await sleep(1500);
      figures.cpu_pct = round(((cpu.user + cpu.system) / 1000 / wall) * 100, 1);
      figures.load1 = round(os.loadavg()[0], 1);
      figures.loop_p99_ms = round(loop.percentile(99) / 1e6, 1);
      // Each output is matched with the latest press of its device that led to that state.
      const byUuid = new Map<string, Array<[boolean, number]>>();
      for (const [i, on, at] of presses) {
        const list = byUuid.get(uuids[i]) ?? [];
        list.push([on, at]);
        byUuid.set(uuids[i], list);
      }
      const lat: number[] = [];
      for (const [uuid, on, at] of outputs) {
        const list = byUuid.get(uuid) ?? [];
        for (let k = list.length - 1; k >= 0; k--) {
          if (list[k][1] <= at && list[k][0] === on) {
            lat.push(at - list[k][1]);
            break;
          }
        }
      }
      figures.pushes = presses.length;
      figures.outputs = lat.length;
      figures.cpu_us_per_push = lat.length ? round((cpu.user + cpu.system) / lat.length, 1) : 0;
      figures.push_p50_ms = round(quantile(lat, 0.5), 1);
      figures.push_p99_ms = round(quantile(lat, 0.99), 1);
    };
    await measure(fleet);
    outputs = [];
  } else {
    await sleep(1000);
  }
  for (let i = 0; i < 3; i++) gc?.();
  figures.rss_mb = round(process.memoryUsage().rss / 2 ** 20, 1);
  if (process.env.BENCH_DEBUG) console.error(`memory ${JSON.stringify({ ...process.memoryUsage(), rssKb: rssByKind() })}`);
  if (process.env.BENCH_HEAPSNAP) console.error(`heap snapshot ${v8.writeHeapSnapshot(process.env.BENCH_HEAPSNAP)}`);
  await fleet?.stop();
  await red.stop();
  return figures;
}

function probe(n: number): Figures {
  const out = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", __filename, String(n)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 20,
  });
  const m = /^scale-figures (.*)$/m.exec(out);
  if (!m) throw new Error(`the scale probe for ${n} devices printed no figures:\n${out}`);
  return JSON.parse(m[1]) as Figures;
}

/** One line per fleet size; `sizes` from the command line (`npm run bench -- scale 100 500`), else 100, 500, 1000, 2000. */
export function scaleBench(sizes: number[]): void {
  // An empty Node-RED's RSS varies by 15 MB from one start to the next here: the median of three.
  const empty = [probe(0), probe(0), probe(0)].map((f) => f.rss_mb).sort((a, b) => a - b)[1];
  for (const n of sizes.length ? sizes : [100, 500, 1000, 2000]) {
    const f = probe(n);
    console.log(
      `bench scale devices=${n} ready_s=${f.ready_s} rss_mb=${round(f.rss_mb - empty, 1)} cpu_pct=${f.cpu_pct} ` +
        `push_p50_ms=${f.push_p50_ms} push_p99_ms=${f.push_p99_ms} loop_p99_ms=${f.loop_p99_ms} ` +
        `(pushes ${f.pushes}, matched outputs ${f.outputs}, ${f.cpu_us_per_push} µs of Node-RED CPU per output, window ${WINDOW_MS / 1000} s; ` +
        `empty Node-RED ${empty} MB; machine load ${f.load1}; targets: rss <= 100 at 1000, loop_p99 <= 20 at 1000)`,
    );
  }
}

if (require.main === module) {
  child(Number(process.argv[2])).then(
    (f) => {
      process.stdout.write(`scale-figures ${JSON.stringify(f)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
