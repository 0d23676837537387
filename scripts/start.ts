/**
 * `npm start`: Node-RED with this package, wired to a small fleet of simulated devices.
 * Runs the real Node-RED CLI (node-red from devDependencies) on a user directory in
 * .demo/, so what a newcomer sees is exactly what an installed package does.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import type { Fleet } from "../src/simulator/fleet";
import { DEMO_FLEET, startDemo } from "../src/simulator/demo";
import { demoFlow, setupFromFleet, type DemoSetup } from "./demo-flow";
import { banner, LinePrefixer } from "./demo-output";

const ROOT = path.resolve(__dirname, "..");
const USER_DIR = path.resolve(process.env.MEROSS_DEMO_DIR ?? path.join(ROOT, ".demo"));
const UI_PORT = Number(process.env.PORT ?? 1880);
const HOST = "127.0.0.1";
/** Fixed default ports keep the saved demo flow valid across restarts; if any is busy, free ports are used. */
const BASE_PORT = 18101;
const STATUS_PORT = 18100;
const BROKER_PORT = Number(process.env.MEROSS_BROKER_PORT ?? 18883);
const RESET = process.argv.includes("--reset");

interface Saved {
  key: string;
  wifiPassword: string;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, HOST, () => s.close(() => resolve(true)));
  });
}

async function allFree(ports: number[]): Promise<boolean> {
  for (const p of ports) if (!(await portFree(p))) return false;
  return true;
}

function loadSaved(): Saved {
  const file = path.join(USER_DIR, "demo-devices.json");
  if (!RESET && fs.existsSync(file)) {
    const saved = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<Saved>;
    if (typeof saved.key === "string" && typeof saved.wifiPassword === "string") return saved as Saved;
  }
  const saved: Saved = { key: randomBytes(8).toString("hex"), wifiPassword: "demo-wifi-pass" };
  fs.writeFileSync(file, JSON.stringify(saved, null, 2), { mode: 0o600 });
  return saved;
}

function writeSettings(): string {
  const file = path.join(USER_DIR, "settings.js");
  const settings = `// Written by npm start for the demo; Node-RED loads this package from ${ROOT}.
module.exports = {
  uiHost: ${JSON.stringify(HOST)},
  uiPort: ${UI_PORT},
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
function writeFlows(setup: DemoSetup): void {
  const flowsFile = path.join(USER_DIR, "flows.json");
  const credFile = path.join(USER_DIR, "flows_cred.json");
  const { flows, credentials } = demoFlow(setup);
  if (RESET || !fs.existsSync(flowsFile)) {
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

async function main(): Promise<void> {
  fs.mkdirSync(USER_DIR, { recursive: true });
  const saved = loadSaved();
  const fixed = await allFree([STATUS_PORT, BROKER_PORT, ...DEMO_FLEET.map((_, i) => BASE_PORT + i)]);
  const brokerPort = fixed ? BROKER_PORT : await freePort();
  // Configured devices log in to the broker Node-RED runs; they retry until it is up.
  const fleet: Fleet = await startDemo({
    statusPort: fixed ? STATUS_PORT : 0,
    basePort: fixed ? BASE_PORT : undefined,
    key: saved.key,
    gateway: { host: HOST, port: brokerPort },
    userId: "0",
  });
  const setup = setupFromFleet(fleet, { key: saved.key, wifiPassword: saved.wifiPassword, brokerPort });
  writeFlows(setup);
  const settingsFile = writeSettings();

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
    await fleet.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  child.once("exit", (code) => void stop(code ?? 0));

  await waitForStart(child);
  const lines = banner({
    editorUrl: `http://${HOST}:${UI_PORT}/`,
    statusUrl: fleet.statusUrl,
    brokerUrl: `mqtts://${HOST}:${brokerPort}`,
    key: saved.key,
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, HOST, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`npm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
