/**
 * Checks the README's 1,000-device demo: Node-RED with an embedded broker and one meross-config
 * (MQTT, the fleet's first uuid, key K) with a meross-toggle; `meross simulate --fleet N` as a
 * separate process. Prints how long until all devices are on the broker list and how long a
 * toggle takes. Run: npm run build && node --import tsx bench/demo-check.ts [N]
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { startEmbedded } from "./nodered";
import { brokerFlow, brokerPort, round, sleep } from "./common";
import { fleetDeviceSpec } from "../dist/cli/simulate-fleet";
import { deriveIdentity } from "../dist/simulator/identity";

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1000);
  const key = "K";
  const seed = fleetDeviceSpec({ model: "mss110", key, gateway: { host: "127.0.0.1", port: 1 }, userId: "0" }, 0).seed as string;
  const first = deriveIdentity(seed).uuid;
  let sink: (m: unknown) => void = () => undefined;
  const flow = [
    { id: "tab", type: "tab" },
    brokerFlow(0),
    { id: "cfg", type: "meross-config", userId: "0", transport: "mqtt", broker: "broker", uuid: first },
    { id: "t0", type: "meross-toggle", z: "tab", device: "cfg", channel: "0", wires: [["out"]] },
    { id: "out", type: "function", z: "tab", func: "global.get('benchSink')(msg); return null;", outputs: 0, wires: [] },
  ];
  const red = await startEmbedded(flow, { cfg: { key } }, { benchSink: (m: unknown) => sink(m) });
  const port = await brokerPort(red);
  const cli = path.join(__dirname, "..", "dist", "cli", "index.js");
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [cli, "simulate", "--fleet", String(n), "--model", "mss110", "--key", key, "--gateway", `127.0.0.1:${port}`],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  child.stdout.on("data", (d: Buffer) => process.stdout.write(`cli: ${d}`));
  const broker = red.node("broker") as unknown as { devices(): Array<{ uuid: string; listening: boolean }> };
  while (broker.devices().filter((d) => d.listening).length < n) {
    if (performance.now() - t0 > 600_000) throw new Error("not all devices arrived");
    await sleep(200);
  }
  console.log(`demo devices=${n} all_on_broker_list_s=${round((performance.now() - t0) / 1000, 1)}`);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await new Promise<void>((resolve) => {
      sink = () => resolve();
      red.node("t0").receive({ payload: i % 2 ? "off" : "on" });
    });
    times.push(round(performance.now() - t, 1));
    await sleep(300);
  }
  console.log(`demo toggle_ms=${times.join(",")} (first includes the device's first read)`);
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  await red.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
