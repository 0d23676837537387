/**
 * `npm run bench`: figures measured in one run, printed as `bench <name> key=value …`
 * lines with the target next to them. Never a pass/fail test: these machines are noisy,
 * so each figure compares two things measured side by side in the same run.
 */
import { execFileSync } from "node:child_process";
import mqtt from "mqtt";
import http from "node:http";
import { startEmbedded, type EmbeddedRed } from "./nodered";
import { MerossDevice } from "../dist/core/session/device";
import { buildMessage } from "../dist/core/protocol/message";
import { RemoteFleet } from "./fleet-process";
import { autoConfig, brokerFlow, brokerPort, median, round, sleep, untilListening } from "./common";
import { hostile, redeploy } from "./trust";
import { lightOnLevel } from "./lights";
import { mosquittoHostile } from "./mosquitto";
import { discoverBench } from "./discover";
import { migrateBench } from "./migrate";
import { scaleBench } from "./scale";
import { pushPath } from "./push-path";
import { tlsMemoryBench } from "./tls-memory";

const only = process.argv.slice(2).filter((a) => !a.startsWith("--") && !/^\d+$/.test(a));
const wanted = (name: string) => only.length === 0 || only.includes(name);

/** One POST with node:http on `agent`: what the core does at the very least for one request. */
function barePost(url: URL, agent: http.Agent, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        agent,
        insecureHTTPParser: true,
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Signed ToggleX SET through the whole core vs a bare node:http POST of a pre-signed body, both
 * on the same connection policy: a keep-alive agent, one connection, against a device that
 * closes after each reply as most firmware does (docs/protocol.md §2.2).
 */
async function coreOverhead(): Promise<void> {
  const key = "bench-key";
  const fleet = await RemoteFleet.start([{ model: "mss310", key, port: 0 }]);
  const sim = { address: fleet.devices[0].address, url: new URL(`http://${fleet.devices[0].address}/config`) };
  const device = new MerossDevice({ address: sim.address, key });
  await device.ready();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
  const N = 600;
  const WARMUP = 400;
  const bodies = Array.from({ length: Math.max(N, WARMUP) }, (_, i) =>
    JSON.stringify(
      buildMessage({ method: "SET", namespace: "Appliance.Control.ToggleX", payload: { togglex: { channel: 0, onoff: i % 2 } }, key }),
    ),
  );
  const core: number[] = [];
  const raw: number[] = [];
  // Both sides JIT-compiled first: the core runs more code, so a short warm-up measures the compiler.
  for (let i = 0; i < WARMUP; i++) {
    await device.request("SET", "Appliance.Control.ToggleX", { togglex: { channel: 0, onoff: i % 2 } });
    await barePost(sim.url, agent, bodies[i]);
  }
  const viaCore = async (i: number): Promise<void> => {
    const t = performance.now();
    await device.request("SET", "Appliance.Control.ToggleX", { togglex: { channel: 0, onoff: i % 2 } });
    core.push(performance.now() - t);
  };
  const viaBare = async (i: number): Promise<void> => {
    const t = performance.now();
    JSON.parse(await barePost(sim.url, agent, bodies[i]));
    raw.push(performance.now() - t);
  };
  // Interleaved so that machine noise hits both sides alike, in alternating order: the second of
  // a pair runs while the device still closes the first one's connection, which costs it time.
  for (let i = 0; i < N; i++) {
    if (i % 2 === 0) {
      await viaCore(i);
      await viaBare(i);
    } else {
      await viaBare(i);
      await viaCore(i);
    }
  }
  const c = median(core);
  const b = median(raw);
  console.log(
    `bench core-overhead ratio=${round(c / b)} core_ms=${round(c, 3)} bare_ms=${round(b, 3)} (bare node:http, same keep-alive policy; target ratio <= 1.25)`,
  );
  agent.destroy();
  await device.close();
  await fleet.stop();
}

/** Output of the flow under test: a function node hands each msg to `sink`. */
type Sink = (msg: unknown) => void;
let sink: Sink = () => undefined;
const OUT = { id: "out", type: "function", z: "tab", func: "global.get('benchSink')(msg); return null;", outputs: 0, wires: [] };

async function withFlow<T>(
  flow: Record<string, unknown>[],
  creds: Record<string, unknown>,
  fn: (red: EmbeddedRed) => Promise<T>,
): Promise<T> {
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
    const MSGS = 200;
    // Where in the coalescer's 55 ms gap a burst ends is chance: one burst is one draw, so the
    // settle time is the median of BURSTS (the worst is printed too), requests the most any burst took.
    const BURSTS = 3;
    const settles: number[] = [];
    let requests = 0;
    let ok = true;
    for (let b = 0; b < BURSTS; b++) {
      const before = (await fleet.stats(0)).requestCount;
      const last = 77 + b;
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
      settles.push(performance.now() - lastSent);
      await sleep(300);
      const after = await fleet.stats(0);
      requests = Math.max(requests, after.requestCount - before);
      ok &&= after.luminance === last;
    }
    const settle = median(settles);
    console.log(
      `bench light-burst msgs=${MSGS} requests=${requests} final_ok=${ok} settle_ms=${round(settle, 1)} device_rtt_ms=${round(rtt, 1)} settle_in_rtts=${round(settle / rtt)} ` +
        `(median of ${BURSTS} bursts, worst ${round(Math.max(...settles) / rtt)} round trips; targets: final_ok, requests <= 40 per burst, settle <= 2 round trips)`,
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
  const fleet = await RemoteFleet.start(
    Array.from({ length: COUNT }, () => ({ model: "mss310", key, port: 0, quirks: { processingMs: FIRMWARE_MS } })),
  );
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
    console.log(
      `bench fanout devices=${COUNT} ratio=${round(ta / ts)} t_all_ms=${round(ta, 1)} t_single_ms=${round(ts, 1)} firmware_ms=${FIRMWARE_MS} (target ratio <= 2)`,
    );
  });
  await fleet.stop();
}

/**
 * A device's button press until meross-state outputs its toggle, against a bare MQTT publish →
 * receive on the same broker; both are triggered the same way (IPC to the device process).
 * Reported for a toggle-only strip (mss425: one ToggleX push per press) and a metering plug, which sends
 * an Electricity push right behind each ToggleX push, as the simulated mss310 does.
 */
async function pushLatency(): Promise<void> {
  const key = "bench-key";
  const out = OUT;
  // The broker binds port 0 first and reports its port; then the devices are told it.
  await withFlow([{ id: "tab", type: "tab" }, brokerFlow(0)], {}, async (red) => {
    const port = await brokerPort(red);
    const spec = { key, port: 0, gateway: { host: "127.0.0.1", port }, userId: "0", mqttReconnectMs: 200 };
    const fleet = await RemoteFleet.start([
      { model: "mss425", ...spec },
      { model: "mss310", ...spec },
    ]);
    const flow: Record<string, unknown>[] = [{ id: "tab", type: "tab" }, brokerFlow(0), out];
    fleet.devices.forEach((dev, i) => {
      flow.push(autoConfig(`cfg${i}`, dev));
      flow.push({ id: `state${i}`, type: "meross-state", z: "tab", device: `cfg${i}`, pollInterval: "0", wires: [["out"]] });
    });
    await red.deploy(flow, { cfg0: { key }, cfg1: { key } });
    await untilListening(
      red,
      fleet.devices.map((d) => d.uuid),
    );
    const app = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, { rejectUnauthorized: false, reconnectPeriod: 0 });
    await app.subscribeAsync("/bench/ping", { qos: 1 });
    await fleet.call({ cmd: "ping-client", url: `mqtts://127.0.0.1:${port}` });
    const now = () => performance.timeOrigin + performance.now();
    const toggleOutput = (uuid: string) =>
      new Promise<number>((resolve) => {
        sink = (m) => {
          const msg = m as { payload?: { kind?: string }; meross?: { uuid?: string } };
          if (msg.payload?.kind !== "toggle" || msg.meross?.uuid !== uuid) return;
          sink = () => undefined;
          resolve(now());
        };
      });
    for (const [index, what] of [
      [0, "toggle-only mss425 (one ToggleX push per press); target ratio <= 1.25"],
      [1, "metering mss310 (a ToggleX push, then an Electricity push, per press)"],
    ] as const) {
      const push: number[] = [];
      const bare: number[] = [];
      for (let i = 0; i < 45; i++) {
        const got = toggleOutput(fleet.devices[index].uuid);
        const pressed = (await fleet.call({ cmd: "press", index })) as { at: number };
        const at = await got;
        if (i >= 5) push.push(at - pressed.at);
        // The metering plug's Electricity push lands meanwhile, not on the yardstick.
        await sleep(20);
        const received = new Promise<number>((r) => app.once("message", () => r(now())));
        const sent = (await fleet.call({ cmd: "ping" })) as { at: number };
        if (i >= 5) bare.push((await received) - sent.at);
      }
      const p = median(push);
      const b = median(bare);
      const model = what.split(" ")[1];
      console.log(
        `bench push-latency device=${model} p50_ms=${round(p)} ratio_to_broker_rtt=${round(p / b)} broker_rtt_ms=${round(b)} (${what})`,
      );
    }
    await app.endAsync();
    await fleet.stop();
  });
}

/** RSS of a Node-RED process with `count` simulated devices on its embedded broker (child process). */
async function rssProbe(count: number): Promise<void> {
  const key = "bench-key";
  const base: Record<string, unknown>[] = [{ id: "tab", type: "tab" }];
  if (count) base.push(brokerFlow(0));
  let fleet: RemoteFleet | undefined;
  await withFlow(base, {}, async (red) => {
    if (count) {
      // The broker binds port 0 and reports it; the devices are then told that port.
      const port = await brokerPort(red);
      fleet = await RemoteFleet.start(
        Array.from({ length: count }, () => ({
          model: "mss310",
          key,
          port: 0,
          gateway: { host: "127.0.0.1", port },
          userId: "0",
          mqttReconnectMs: 500,
        })),
      );
      const flow = [...base, OUT];
      const creds: Record<string, unknown> = {};
      fleet.devices.forEach((d, i) => {
        flow.push(autoConfig(`cfg${i}`, d));
        flow.push({ id: `t${i}`, type: "meross-toggle", z: "tab", device: `cfg${i}`, channel: "0", wires: [["out"]] });
        creds[`cfg${i}`] = { key };
      });
      await red.deploy(flow, creds);
      await untilListening(
        red,
        fleet.devices.map((d) => d.uuid),
        120_000,
      );
      // Every session in use once, as a running home would have it.
      let left = fleet.devices.length;
      const done = new Promise<void>(
        (r) =>
          (sink = () => {
            if (--left === 0) r();
          }),
      );
      fleet.devices.forEach((_, i) => red.node(`t${i}`).receive({ payload: "on" }));
      await done;
    }
    await sleep(1000);
    const gc = (globalThis as { gc?: () => void }).gc;
    for (let i = 0; i < 3; i++) gc?.();
    process.stdout.write(`rss_mb=${round(process.memoryUsage().rss / 2 ** 20, 1)}\n`);
  });
  await fleet?.stop();
}

function probeRss(count: number): number {
  const out = execFileSync(process.execPath, ["--expose-gc", "--import", "tsx", __filename, "--rss-probe", String(count)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const m = /rss_mb=([\d.]+)/.exec(out);
  if (!m) throw new Error(`the RSS probe printed no figure:\n${out}`);
  return Number(m[1]);
}

async function devicesRss(): Promise<void> {
  const COUNT = 200;
  const empty = probeRss(0);
  const full = probeRss(COUNT);
  console.log(
    `bench devices=${COUNT} rss_mb=${round(full - empty, 1)} total_rss_mb=${full} empty_rss_mb=${empty} (target <= 100 MB above an empty Node-RED)`,
  );
}

async function main(): Promise<void> {
  const probe = process.argv.indexOf("--rss-probe");
  if (probe >= 0) return rssProbe(Number(process.argv[probe + 1]));
  if (wanted("core-overhead")) await coreOverhead();
  if (wanted("light-burst")) await lightBurst();
  if (wanted("light-on-level")) await lightOnLevel();
  if (wanted("fanout")) await fanout();
  if (wanted("push-latency")) await pushLatency();
  if (wanted("push-path")) await pushPath();
  if (wanted("devices")) await devicesRss();
  if (wanted("redeploy")) await redeploy();
  if (wanted("hostile")) await hostile();
  if (wanted("mosquitto-hostile")) await mosquittoHostile();
  if (wanted("discover")) await discoverBench();
  if (wanted("migrate")) await migrateBench();
  // A diagnosis (issue 21), not a target: only when named.
  if (only.includes("tls-memory"))
    tlsMemoryBench(
      process.argv
        .slice(2)
        .filter((a) => /^\d+$/.test(a))
        .map(Number),
    );
  if (wanted("scale"))
    scaleBench(
      process.argv
        .slice(2)
        .filter((a) => /^\d+$/.test(a))
        .map(Number),
    );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
