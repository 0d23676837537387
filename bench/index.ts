/**
 * `npm run bench`: figures measured in one run, printed as `bench <name> key=value …`
 * lines with the target next to them. Never a pass/fail test: these machines are noisy,
 * so each figure compares two things measured side by side in the same run.
 */
import axios from "axios";
import http from "node:http";
import { startEmbedded, type EmbeddedRed } from "./nodered";
import { MerossDevice } from "../src/core/device";
import { buildMessage } from "../src/core/protocol/message";
import { RemoteFleet } from "./fleet-process";

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);

/** Signed ToggleX SET through the whole core vs a bare axios POST of a pre-signed body. */
async function coreOverhead(): Promise<void> {
  const key = "bench-key";
  const fleet = await RemoteFleet.start([{ model: "mss310", key, port: 0 }]);
  const sim = { address: fleet.devices[0].address, url: `http://${fleet.devices[0].address}/config` };
  const device = new MerossDevice({ address: sim.address, key });
  await device.ready();
  const agent = new http.Agent({ keepAlive: false });
  const bare = axios.create({ insecureHTTPParser: true, httpAgent: agent, responseType: "text", transformResponse: [(d: unknown) => d], proxy: false });
  const N = 300;
  const bodies = Array.from({ length: N }, (_, i) =>
    JSON.stringify(buildMessage({ method: "SET", namespace: "Appliance.Control.ToggleX", payload: { togglex: { channel: 0, onoff: i % 2 } }, key })),
  );
  const core: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < 20; i++) {
    await device.request("SET", "Appliance.Control.ToggleX", { togglex: { channel: 0, onoff: i % 2 } });
    await bare.post(`${sim.url}`, bodies[i], { headers: { "Content-Type": "application/json" } });
  }
  // Interleaved so that machine noise hits both sides alike.
  for (let i = 0; i < N; i++) {
    let t = performance.now();
    await device.request("SET", "Appliance.Control.ToggleX", { togglex: { channel: 0, onoff: i % 2 } });
    core.push(performance.now() - t);
    t = performance.now();
    const res = await bare.post(`${sim.url}`, bodies[i], { headers: { "Content-Type": "application/json" } });
    JSON.parse(res.data as string);
    raw.push(performance.now() - t);
  }
  const c = median(core);
  const b = median(raw);
  console.log(`bench core-overhead ratio=${round(c / b)} core_ms=${round(c, 3)} bare_ms=${round(b, 3)} (target ratio <= 1.15)`);
  agent.destroy();
  await device.close();
  await fleet.stop();
}

/** Output of the flow under test: a function node hands each msg to `sink`. */
type Sink = (msg: unknown) => void;
let sink: Sink = () => undefined;
const OUT = { id: "out", type: "function", z: "tab", func: "global.get('benchSink')(msg); return null;", outputs: 0, wires: [] };

async function withFlow<T>(flow: Record<string, unknown>[], creds: Record<string, unknown>, fn: (red: EmbeddedRed) => Promise<T>): Promise<T> {
  const red = await startEmbedded([...flow, OUT], creds, { benchSink: (m: unknown) => sink(m) });
  try {
    return await fn(red);
  } finally {
    sink = () => undefined;
    await red.stop();
  }
}

function nextOutput(): Promise<unknown> {
  return new Promise((resolve) => {
    sink = (m) => {
      sink = () => undefined;
      resolve(m);
    };
  });
}

/** 200 brightness messages at 100/s to one bulb whose firmware takes ~30 ms per request. */
async function lightBurst(): Promise<void> {
  const key = "bench-key";
  const fleet = await RemoteFleet.start([{ model: "msl120", key, port: 0, quirks: { processingMs: 30 } }]);
  const sim = fleet.devices[0];
  // One device round trip, measured on the same bulb, is the yardstick for settling.
  const probe = new MerossDevice({ address: sim.address, key });
  const rtts: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    await probe.request("GET", "Appliance.Control.Light", { light: {} }, { checkAbility: false });
    rtts.push(performance.now() - t);
  }
  await probe.close();
  const rtt = median(rtts);
  const flow = [
    { id: "tab", type: "tab" },
    { id: "cfg", type: "meross-config", host: sim.address, userId: "0" },
    { id: "light", type: "meross-light", z: "tab", device: "cfg", wires: [["out"]] },
  ];
  await withFlow(flow, { cfg: { key } }, async (red) => {
    const light = red.node("light");
    const first = nextOutput();
    light.receive({ payload: 50 });
    await first;
    const before = (await fleet.stats(0)).requestCount;
    const MSGS = 200;
    const last = 77;
    const start = performance.now();
    for (let i = 0; i < MSGS; i++) {
      const target = start + i * 10;
      const wait = target - performance.now();
      if (wait > 0) await sleep(wait);
      light.receive({ payload: i === MSGS - 1 ? last : 1 + (i % 99) });
    }
    const lastSent = performance.now();
    const deadline = lastSent + 5000;
    while ((await fleet.stats(0)).luminance !== last && performance.now() < deadline) await sleep(1);
    const settle = performance.now() - lastSent;
    await sleep(300);
    const after = await fleet.stats(0);
    const requests = after.requestCount - before;
    const ok = after.luminance === last;
    console.log(
      `bench light-burst msgs=${MSGS} requests=${requests} final_ok=${ok} settle_ms=${round(settle, 1)} device_rtt_ms=${round(rtt, 1)} settle_in_rtts=${round(settle / rtt)} (targets: final_ok, requests <= 40, settle <= 2 round trips)`,
    );
  });
  await fleet.stop();
}

/**
 * One message fanned out to 50 plugs vs the same message to one plug. Each simulated plug
 * takes FIRMWARE_MS per request, as real firmware does, so the ratio shows how well the
 * sessions overlap rather than how fast loopback is.
 */
const FIRMWARE_MS = 30;
async function fanout(): Promise<void> {
  const COUNT = 50;
  const key = "bench-key";
  const fleet = await RemoteFleet.start(Array.from({ length: COUNT }, () => ({ model: "mss310", key, port: 0, quirks: { processingMs: FIRMWARE_MS } })));
  const sims = fleet.devices;
  const flow: Record<string, unknown>[] = [{ id: "tab", type: "tab" }];
  const creds: Record<string, unknown> = {};
  sims.forEach((s, i) => {
    flow.push({ id: `cfg${i}`, type: "meross-config", host: s.address, userId: "0" });
    flow.push({ id: `t${i}`, type: "meross-toggle", z: "tab", device: `cfg${i}`, channel: "0", wires: [["out"]] });
    creds[`cfg${i}`] = { key };
  });
  await withFlow(flow, creds, async (red) => {
    const send = (targets: number[], payload: string) =>
      new Promise<number>((resolve) => {
        let left = targets.length;
        const t = performance.now();
        sink = () => {
          if (--left === 0) {
            sink = () => undefined;
            resolve(performance.now() - t);
          }
        };
        for (const i of targets) red.node(`t${i}`).receive({ payload });
      });
    const all = Array.from({ length: COUNT }, (_, i) => i);
    await send(all, "off"); // warms every session (System.All + Ability once per device)
    const single: number[] = [];
    const fan: number[] = [];
    for (let r = 0; r < 7; r++) {
      single.push(await send([0], r % 2 ? "off" : "on"));
      fan.push(await send(all, r % 2 ? "off" : "on"));
    }
    const ts = median(single);
    const ta = median(fan);
    console.log(`bench fanout devices=${COUNT} ratio=${round(ta / ts)} t_all_ms=${round(ta, 1)} t_single_ms=${round(ts, 1)} firmware_ms=${FIRMWARE_MS} (target ratio <= 3)`);
  });
  await fleet.stop();
}

async function main(): Promise<void> {
  if (wanted("core-overhead")) await coreOverhead();
  if (wanted("light-burst")) await lightBurst();
  if (wanted("fanout")) await fanout();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
