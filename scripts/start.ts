/**
 * `npm start`: Node-RED with this package, wired to a small fleet of simulated devices.
 * Runs the real Node-RED CLI (node-red from devDependencies) on a user directory in
 * .demo/, so what a newcomer sees is exactly what an installed package does.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Fleet } from "../src/simulator/fleet";
import { DEMO_FLEET, demoCloudAccount, startDemo } from "../src/simulator/demo";
import { SimulatedCloud } from "../src/simulator/cloud";
import { demoFlow, setupFromFleet, type DemoSetup } from "./demo-flow";
import { banner, LinePrefixer } from "./demo-output";
import { checkDemoPorts, DEMO_HELP, DemoUsageError, parseDemoArgs, type DemoOptions } from "./demo-options";

const ROOT = path.resolve(__dirname, "..");
const USER_DIR = path.resolve(process.env.MEROSS_DEMO_DIR ?? path.join(ROOT, ".demo"));
const HOST = "127.0.0.1";
/** The demo Wi-Fi the out-of-the-box plug sees (the simulator's first network) and its password. */
const DEMO_WIFI_PASSWORD = "demo-wifi-pass";

interface Saved {
  key: string;
  wifiPassword: string;
}

function loadSaved(reset: boolean): Saved {
  const file = path.join(USER_DIR, "demo-devices.json");
  if (!reset && fs.existsSync(file)) {
    const saved = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<Saved>;
    if (typeof saved.key === "string" && typeof saved.wifiPassword === "string") return saved as Saved;
  }
  const saved: Saved = { key: randomBytes(8).toString("hex"), wifiPassword: DEMO_WIFI_PASSWORD };
  fs.writeFileSync(file, JSON.stringify(saved, null, 2), { mode: 0o600 });
  return saved;
}

function writeSettings(uiPort: number): string {
  const file = path.join(USER_DIR, "settings.js");
  const settings = `// Written by npm start for the demo; Node-RED loads this package from ${ROOT}.
module.exports = {
  uiHost: ${JSON.stringify(HOST)},
  uiPort: ${uiPort},
  flowFile: "flows.json",
  credentialSecret: false,
  nodesDir: [${JSON.stringify(ROOT)}],
  telemetry: { enabled: false, updateNotification: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  editorTheme: { tours: false, projects: { enabled: false } },
  logging: { console: { level: "info", metrics: false, audit: false } },
};
`;
  fs.writeFileSync(file, settings);
  return file;
}

/** Writes the demo flow on first start; later starts only fix device addresses and ports. */
function writeFlows(setup: DemoSetup, reset: boolean): void {
  const flowsFile = path.join(USER_DIR, "flows.json");
  const credFile = path.join(USER_DIR, "flows_cred.json");
  const { flows, credentials } = demoFlow(setup);
  if (reset || !fs.existsSync(flowsFile)) {
    fs.writeFileSync(flowsFile, JSON.stringify(flows, null, 2));
    fs.writeFileSync(credFile, JSON.stringify(credentials, null, 2), { mode: 0o600 });
    return;
  }
  const existing = JSON.parse(fs.readFileSync(flowsFile, "utf8")) as Array<Record<string, unknown>>;
  const byId = new Map(flows.map((n) => [n.id, n]));
  for (const node of existing) {
    const fresh = byId.get(String(node.id));
    if (!fresh) continue;
    for (const field of ["host", "address", "port", "mqttPort"]) if (field in fresh) node[field] = fresh[field];
  }
  fs.writeFileSync(flowsFile, JSON.stringify(existing, null, 2));
}

function waitForStart(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = new LinePrefixer("  [node-red] ", (t) => process.stdout.write(t));
    const err = new LinePrefixer("  [node-red] ", (t) => process.stderr.write(t));
    let seen = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      out.push(text);
      // "Started flows" may arrive split over two chunks.
      seen = (seen + text).slice(-200);
      if (seen.includes("Started flows")) resolve();
    });
    child.stderr?.on("data", (c: Buffer) => err.push(c.toString()));
    child.once("exit", (code) => {
      out.flush();
      err.flush();
      reject(new Error(`Node-RED exited with code ${code} before it started`));
    });
  });
}

async function main(opts: DemoOptions): Promise<void> {
  const { ports } = opts;
  // Fixed ports keep the saved demo flow valid across restarts: a busy one stops here, naming it.
  await checkDemoPorts(
    ports,
    DEMO_FLEET.map((d) => d.name),
    HOST,
  );
  fs.mkdirSync(USER_DIR, { recursive: true });
  const saved = loadSaved(opts.reset);
  const brokerPort = ports.broker;
  // Configured devices log in to the broker Node-RED runs; they retry until it is up.
  const fleet: Fleet = await startDemo({
    statusPort: ports.status,
    basePort: ports.devices,
    key: saved.key,
    gateway: { host: HOST, port: brokerPort },
    userId: "0",
  });
  // The Meross account the app-paired demo devices belong to: sign in to it with "meross cloud".
  const account = demoCloudAccount(fleet);
  const cloud = await SimulatedCloud.start([account], ports.cloud);
  const setup = setupFromFleet(fleet, { key: saved.key, wifiPassword: saved.wifiPassword, brokerPort });
  writeFlows(setup, opts.reset);
  const settingsFile = writeSettings(ports.editor);

  const red = require.resolve("node-red/red.js");
  const child = spawn(process.execPath, [red, "--userDir", USER_DIR, "--settings", settingsFile], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_RED_ENABLE_PROJECTS: "false" },
  });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    child.kill("SIGTERM");
    await Promise.all([fleet.stop(), cloud.stop()]);
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  child.once("exit", (code) => void stop(code ?? 0));

  await waitForStart(child);
  const lines = banner({
    editorUrl: `http://${HOST}:${ports.editor}/`,
    statusUrl: fleet.statusUrl,
    brokerUrl: `mqtts://${HOST}:${brokerPort}`,
    key: saved.key,
    wifi: { ssid: setup.fresh.ssid, password: saved.wifiPassword },
    cloud: { url: cloud.url, email: account.email, password: account.password },
    devices: fleet.devices.map((d) => ({
      name: d.name ?? d.model.name,
      model: d.model.name,
      mode: d.mode,
      address: d.address,
      uuid: d.uuid,
    })),
  });
  process.stdout.write(lines.join("\n"));
}

function start(): Promise<void> {
  const opts = parseDemoArgs(process.argv.slice(2), process.env);
  if (opts.help) {
    process.stdout.write(DEMO_HELP);
    return Promise.resolve();
  }
  return main(opts);
}

start().catch((err: unknown) => {
  const text = err instanceof Error ? err.message : String(err);
  process.stderr.write(err instanceof DemoUsageError ? `npm start: ${text}\n` : `npm start failed: ${text}\n`);
  process.exit(1);
});
