/**
 * `bench push-path`: the package's own CPU per ToggleX push, from the broker handing the message
 * over to meross-state sending its msg. Pushes are published into the embedded broker in-process
 * (no device socket, no TLS), one at a time, and the process CPU per push is set against the
 * same publish reaching a bare aedes subscriber that only parses it: the difference is ours.
 */
import { RemoteFleet } from "./fleet-process";
import { startEmbedded } from "./nodered";
import { brokerFlow, brokerPort, round, untilListening } from "./common";
import { buildMessage } from "../dist/core/protocol/message";

const KEY = "bench-key";
const PUSHES = Number(process.env.BENCH_PUSHES) || 10_000;
const WARMUP = 3000;

/** The broker's aedes instance, reached past its privacy: the bench publishes as a device would, without a socket. */
interface RawAedes {
  publish(packet: Record<string, unknown>, cb: (err?: Error) => void): void;
  subscribe(topic: string, fn: (packet: { payload: Buffer }, cb: () => void) => void, done: () => void): void;
}
interface EmbeddedBroker {
  embedded(): Promise<{ aedes: RawAedes }>;
}

/** `p`, or an error saying `what` after 5 s: a lost push must end the bench, not hang it. */
async function within(p: Promise<void>, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), 5000)))]);
  } finally {
    clearTimeout(timer);
  }
}

export async function pushPath(): Promise<void> {
  let sink: () => void = () => undefined;
  const out = { id: "out", type: "function", z: "tab", func: "global.get('benchSink')(msg); return null;", outputs: 0, wires: [] };
  const red = await startEmbedded([{ id: "tab", type: "tab" }, brokerFlow(0), out], {}, { benchSink: () => sink() });
  const port = await brokerPort(red);
  const fleet = await RemoteFleet.start([{ model: "mss110", key: KEY, port: 0, gateway: { host: "127.0.0.1", port }, userId: "0" }]);
  const dev = fleet.devices[0];
  await red.deploy(
    [
      { id: "tab", type: "tab" },
      brokerFlow(0),
      out,
      { id: "cfg", type: "meross-config", userId: "0", transport: "mqtt", broker: "broker", uuid: dev.uuid },
      { id: "state", type: "meross-state", z: "tab", device: "cfg", pollInterval: "0", wires: [[]] },
    ],
    { cfg: { key: KEY } },
  );
  await untilListening(red, [dev.uuid]);
  // The session's first read done: a push published meanwhile could be folded into the read's
  // result and send nothing, and the loop below would wait for it for ever.
  await (red.node("cfg") as unknown as { getDevice(): Promise<unknown> }).getDevice();
  // The package's work ends where Node-RED's wiring starts: the state node's send is the sink.
  (red.node("state") as unknown as { send: () => void }).send = () => sink();
  const broker = (red.node("broker") as unknown as { fleet: EmbeddedBroker }).fleet;
  const aedes = (await broker.embedded()).aedes;
  const publish = (t: string, env: unknown): Promise<void> =>
    new Promise((resolve, reject) =>
      aedes.publish({ cmd: "publish", topic: t, payload: Buffer.from(JSON.stringify(env)), qos: 1, retain: false, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  const topic = `/appliance/${dev.uuid}/publish`;
  let onoff = 0;
  const toggle = () =>
    buildMessage({
      method: "PUSH",
      namespace: "Appliance.Control.ToggleX",
      payload: { togglex: [{ channel: 0, onoff: (onoff ^= 1), lmTime: Math.floor(Date.now() / 1000) }] },
      key: KEY,
      from: topic,
    });
  const viaPackage = async (n: number): Promise<number> => {
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const done = new Promise<void>((r) => (sink = r));
      await publish(topic, toggle());
      await within(done, `push ${i + 1} of ${n} reached no meross-state output`);
    }
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / n;
  };
  // The yardstick: the same publish to a subscriber that only parses it (aedes, message building, the loop).
  const bareTopic = "/bench/bare";
  let bareDone: () => void = () => undefined;
  await new Promise<void>((r) =>
    aedes.subscribe(
      bareTopic,
      (packet, cb) => {
        JSON.parse(packet.payload.toString("utf8"));
        cb();
        bareDone();
      },
      r,
    ),
  );
  const viaBare = async (n: number): Promise<number> => {
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const done = new Promise<void>((r) => (bareDone = r));
      await publish(bareTopic, toggle());
      await within(done, `bare publish ${i + 1} of ${n} reached no subscriber`);
    }
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / n;
  };
  await viaPackage(WARMUP);
  await viaBare(WARMUP);
  const pkg = await viaPackage(PUSHES);
  const base = await viaBare(PUSHES);
  console.log(
    `bench push-path cpu_us=${round(pkg - base, 1)} total_us=${round(pkg, 1)} bare_us=${round(base, 1)} pushes=${PUSHES} ` +
      "(ToggleX push into the embedded broker until meross-state sends its msg, minus the same publish to a bare subscriber; target cpu_us <= 60)",
  );
  await red.stop();
  await fleet.stop();
}
