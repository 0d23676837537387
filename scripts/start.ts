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
    const onLine = (chunk: Buffer) => {
      const text = chunk.toString();
      process.stdout.write(text.replace(/^/gm, "  [node-red] "));
      if (text.includes("Started flows")) resolve();
    };
    child.stdout?.on("data", onLine);
    child.stderr?.on("data", (c: Buffer) => process.stderr.write(c.toString().replace(/^/gm, "  [node-red] ")));
    child.once("exit", (code) => reject(new Error(`Node-RED exited with code ${code} before it started`)));
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
  const lines = [
    "",
    `Node-RED editor:        http://${HOST}:${UI_PORT}/`,
    `Simulated devices page: ${fleet.statusUrl}`,
    `Embedded MQTT broker:   mqtts://${HOST}:${brokerPort} (run by Node-RED's meross-broker node)`,
    "",
    ...fleet.devices.map((d) => `  ${(d.name ?? d.model.name).padEnd(36)} ${d.model.name.padEnd(7)} ${d.mode === "ap" ? "access-point mode" : "ready"}  ${d.address}`),
    "",
    "Open the editor, click an inject button on the 'Meross demo' tab and watch the devices page;",
    "press a device's button on that page and watch the 'Pushed state' debug output.",
    "Press Ctrl+C to stop. `npm start -- --reset` rebuilds the demo flow.",
    "",
  ];
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
