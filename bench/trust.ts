/**
 * Benchmarks of the "trust nothing on the LAN" work: full deploys must not disconnect the
 * devices on the embedded broker, and hostile peers (HTTP "devices", MQTT clients) must not
 * make the Node-RED process grow.
 */
import { startEmbedded } from "./nodered";
import { RemoteFleet } from "./fleet-process";
import { HostilePeers, type HttpPorts, type MqttCase, type MqttOutcome, type ReplyFloodOutcome } from "./hostile-process";
import { brokerFlow, brokerPort, median, round, sleep, untilListening } from "./common";

const KEY = "bench-key";
type Payload = { kind?: string; online?: boolean };

/** Counts what the flow's state nodes output (a function node hands each msg over). */
function counter(): { flow: Record<string, unknown>; globals: Record<string, unknown>; offline: () => number; online: () => number } {
  let offline = 0;
  let online = 0;
  return {
    flow: { id: "out", type: "function", z: "tab", func: "global.get('benchSink')(msg); return null;", outputs: 0, wires: [] },
    globals: {
      benchSink: (m: { payload?: Payload }) => {
        if (m.payload?.kind !== "online") return;
        if (m.payload.online) online++;
        else offline++;
      },
    },
    offline: () => offline,
    online: () => online,
  };
}

/** 20 full deploys of an unchanged flow with 8 devices on the embedded broker: MQTT (re)connects the devices make. */
export async function redeploy(): Promise<void> {
  const COUNT = 8;
  const DEPLOYS = 20;
  const out = counter();
  // The broker binds port 0 first and reports its port; then the devices are told it and the full flow is deployed.
  const red = await startEmbedded([{ id: "tab", type: "tab" }, brokerFlow(0), out.flow], {}, out.globals);
  let fleet: RemoteFleet | undefined;
  try {
    const port = await brokerPort(red);
    // Reconnecting after 300 ms (real firmware waits far longer): a dropped session shows up within the settle time below.
    const devices = Array.from({ length: COUNT }, () => ({
      model: "mss310",
      key: KEY,
      port: 0,
      gateway: { host: "127.0.0.1", port },
      userId: "0",
      mqttReconnectMs: 300,
    }));
    const started = (fleet = await RemoteFleet.start(devices));
    const flow: Record<string, unknown>[] = [{ id: "tab", type: "tab" }, brokerFlow(0), out.flow];
    flow.push({ id: "all", type: "meross-state", z: "tab", broker: "broker", pollInterval: "0", wires: [["out"]] });
    const creds: Record<string, unknown> = {};
    started.devices.forEach((d, i) => {
      flow.push({ id: `cfg${i}`, type: "meross-config", host: d.address, userId: "0", transport: "auto", broker: "broker", uuid: d.uuid });
      flow.push({ id: `s${i}`, type: "meross-state", z: "tab", device: `cfg${i}`, pollInterval: "0", wires: [["out"]] });
      creds[`cfg${i}`] = { key: KEY };
    });
    await red.deploy(flow, creds);
    const uuids = started.devices.map((d) => d.uuid);
    await untilListening(red, uuids);
    const connects = async (): Promise<number> =>
      ((await started.call({ cmd: "connects" })).connects as number[]).reduce((a, b) => a + b, 0);
    const before = await connects();
    const offlineBefore = out.offline();
    const times: number[] = [];
    for (let i = 0; i < DEPLOYS; i++) {
      const t = performance.now();
      await red.deploy(flow, creds);
      await untilListening(red, uuids);
      times.push(performance.now() - t);
    }
    await sleep(1500);
    await untilListening(red, uuids);
    const reconnects = (await connects()) - before;
    console.log(
      `bench redeploy devices=${COUNT} reconnects=${reconnects} deploys=${DEPLOYS} offline_msgs=${out.offline() - offlineBefore} deploy_ms_p50=${round(median(times), 1)} (target 0)`,
    );
  } finally {
    await red.stop();
    await fleet?.stop();
  }
}

/** Peak RSS growth of Node-RED while hostile HTTP devices answer its requests and hostile MQTT clients hit its broker. */
export async function hostile(): Promise<void> {
  // Every server binds a port the OS picks and reports it; a port picked first and bound later could be taken meanwhile.
  const peers = HostilePeers.start();
  const bound = await peers.call({ cmd: "bind" });
  const ports = bound.ports as HttpPorts;
  const floodPort = bound.floodPort as number;
  const out = counter();
  const flow: Record<string, unknown>[] = [{ id: "tab", type: "tab" }, { ...brokerFlow(0), allowAnonymous: false }, out.flow];
  const creds: Record<string, unknown> = {};
  // A second embedded broker with "allow anonymous" on: the QoS 2 flood needs no key there.
  flow.push({ ...brokerFlow(0), id: "anon-broker" });
  flow.push({ id: "anon-state", type: "meross-state", z: "tab", broker: "anon-broker", pollInterval: "0", wires: [["out"]] });
  // An existing broker that turns hostile: it floods Node-RED's own reply topic (it hangs up on everyone before the phase).
  flow.push({ id: "flood-broker", type: "meross-broker", mode: "existing", url: `mqtt://127.0.0.1:${floodPort}` });
  flow.push({ id: "existing-state", type: "meross-state", z: "tab", broker: "flood-broker", pollInterval: "0", wires: [["out"]] });
  for (const [name, p] of Object.entries(ports)) {
    flow.push({ id: `cfg-${name}`, type: "meross-config", host: `127.0.0.1:${p}`, userId: "0", transport: "http" });
    flow.push({
      id: `req-${name}`,
      type: "meross-request",
      z: "tab",
      device: `cfg-${name}`,
      method: "GET",
      namespace: "Appliance.System.All",
      wires: [["out"]],
    });
    // An inject every 200 ms keeps requests going whatever the previous one is doing.
    flow.push({
      id: `inj-${name}`,
      type: "inject",
      z: "tab",
      props: [{ p: "payload" }],
      payload: "{}",
      payloadType: "json",
      repeat: "0.2",
      once: true,
      onceDelay: "0.1",
      topic: "",
      wires: [[`req-${name}`]],
    });
    creds[`cfg-${name}`] = { key: KEY };
  }
  // The hostile devices make every request fail; a line per failure would bury the figure.
  const level = process.env.BENCH_LOG;
  process.env.BENCH_LOG = level ?? "fatal";
  const red = await startEmbedded(flow, creds, out.globals);
  let legit: RemoteFleet | undefined;
  let sampler: NodeJS.Timeout | undefined;
  const samples: number[] = [];
  const mb = (x: number): number => round(x / 2 ** 20, 1);
  try {
    const port = await brokerPort(red);
    const anonPort = await brokerPort(red, "anon-broker");
    // The legitimate device learns the broker's port, then its config joins the flow.
    legit = await RemoteFleet.start([
      { model: "mss310", key: KEY, port: 0, gateway: { host: "127.0.0.1", port }, userId: "0", mqttReconnectMs: 300 },
    ]);
    const dev = legit.devices[0];
    flow.push({ id: "legit", type: "meross-config", host: dev.address, userId: "0", transport: "auto", broker: "broker", uuid: dev.uuid });
    await red.deploy(flow, { ...creds, legit: { key: KEY } });
    sampler = setInterval(() => samples.push(process.memoryUsage().rss), 20);
    await untilListening(red, [dev.uuid]);
    // Idle: the same flow and request rate, the hostile servers not yet serving (they hang up at once: requests fail at once).
    await sleep(3000);
    const idle = median(samples.splice(0));
    const phases: string[] = [];
    let peak = idle;
    const phase = async (name: string, run: () => Promise<void>): Promise<void> => {
      samples.length = 0;
      await run();
      await sleep(300);
      const top = Math.max(...samples);
      peak = Math.max(peak, top);
      phases.push(`${name}_mb=${mb(top - idle)}`);
    };
    // Least lasting first: RSS a case leaves behind is charged to the cases after it, never to those before.
    await phase("http", async () => {
      await peers.call({ cmd: "http" });
      await sleep(6000);
    });
    const httpRequests = (await peers.call({ cmd: "http-requests" })).requests as number;
    const outcomes: MqttOutcome[] = [];
    for (const c of ["idle", "invented", "oversize", "qos2"] as MqttCase[]) {
      await phase(
        c,
        async () =>
          void outcomes.push(
            (await peers.call({ cmd: "mqtt", port: c === "qos2" ? anonPort : port, key: KEY, durationMs: 5000, cases: [c] }))
              .outcome as MqttOutcome,
          ),
      );
    }
    // Node-RED's client on an existing broker reconnects every 5 s: 12 s see two or three floods.
    await phase("reply_flood", async () => {
      await peers.call({ cmd: "reply-flood" });
      await sleep(12_000);
    });
    const flood = (await peers.call({ cmd: "reply-flood-outcome" })).outcome as ReplyFloodOutcome;
    const sum = (k: keyof MqttOutcome): number => outcomes.reduce((n, o) => n + o[k], 0);
    const legitOk = (red.node("broker") as unknown as { isListening(uuid: string): boolean }).isListening(dev.uuid);
    console.log(
      `bench hostile peak_rss_mb=${mb(peak - idle)} idle_rss_mb=${mb(idle)} peak_total_rss_mb=${mb(peak)} ${phases.join(" ")} http_requests=${httpRequests} ` +
        `oversize_conns=${sum("oversizeSockets")} idle_conns=${sum("idleSockets")} refused=${sum("refused")} invented_logins=${sum("loggedIn")} qos2_sessions=${sum("qos2Sessions")} ` +
        `legit_device_listening=${legitOk} reply_flood_conns=${flood.connections} reply_flood_hung_up=${flood.hungUp} ` +
        `(target <= 50 MB above idle) met=${mb(peak - idle) <= 50}`,
    );
  } finally {
    clearInterval(sampler);
    await red.stop();
    if (level === undefined) delete process.env.BENCH_LOG;
    await legit?.stop();
    await peers.call({ cmd: "stop" });
  }
}
