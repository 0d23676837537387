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
import { Fleet } from "../src/simulator/fleet";
import { demoFlow, type DemoFleet } from "./demo-flow";

const ROOT = path.resolve(__dirname, "..");
const USER_DIR = path.resolve(process.env.MEROSS_DEMO_DIR ?? path.join(ROOT, ".demo"));
const UI_PORT = Number(process.env.PORT ?? 1880);
const HOST = "127.0.0.1";
/** Fixed default ports keep the saved demo flow valid across restarts; busy ones are replaced. */
const DEVICE_PORTS = { rgbBulb: 18101, whiteBulb: 18102, plug: 18103, unconfigured: 18104, status: 18100 };
const RESET = process.argv.includes("--reset");

interface Saved {
  keys: { rgbBulb: string; whiteBulb: string; plug: string; onboard: string };
  wifiPassword: string;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, HOST, () => s.close(() => resolve(true)));
  });
}

async function pick(port: number): Promise<number> {
  return (await portFree(port)) ? port : 0;
}

function loadSaved(): Saved {
  const file = path.join(USER_DIR, "demo-devices.json");
  if (!RESET && fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as Saved;
  const k = () => randomBytes(8).toString("hex");
  const saved: Saved = { keys: { rgbBulb: k(), whiteBulb: k(), plug: k(), onboard: k() }, wifiPassword: "demo-wifi-pass" };
  fs.writeFileSync(file, JSON.stringify(saved, null, 2));
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

/** Writes the demo flow on first start; later starts only fix device addresses. */
function writeFlows(fleet: DemoFleet): void {
  const flowsFile = path.join(USER_DIR, "flows.json");
  const credFile = path.join(USER_DIR, "flows_cred.json");
  const { flows, credentials } = demoFlow(fleet);
  if (RESET || !fs.existsSync(flowsFile)) {
    fs.writeFileSync(flowsFile, JSON.stringify(flows, null, 2));
    fs.writeFileSync(credFile, JSON.stringify(credentials, null, 2));
    return;
  }
  const existing = JSON.parse(fs.readFileSync(flowsFile, "utf8")) as Array<Record<string, unknown>>;
  const byId = new Map(flows.map((n) => [n.id, n]));
  for (const node of existing) {
    const fresh = byId.get(String(node.id));
    if (fresh && node.type === "meross-config") node.host = fresh.host;
    if (fresh && node.type === "meross-onboard") node.address = fresh.address;
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
  const fleet = await Fleet.start(
    [
      { name: "RGB bulb", model: "msl120", host: HOST, port: await pick(DEVICE_PORTS.rgbBulb), key: saved.keys.rgbBulb },
      { name: "White bulb", model: "msl100", host: HOST, port: await pick(DEVICE_PORTS.whiteBulb), key: saved.keys.whiteBulb },
      { name: "Metering plug", model: "mss310", host: HOST, port: await pick(DEVICE_PORTS.plug), key: saved.keys.plug },
      { name: "New device (access-point mode)", model: "msl120", host: HOST, port: await pick(DEVICE_PORTS.unconfigured), unconfigured: true },
    ],
    { statusPort: await pick(DEVICE_PORTS.status) },
  );
  const [rgb, white, plug, fresh] = fleet.devices;
  const ssid = fresh.networks[0]?.ssid ?? "HomeNet";
  fresh.expectWifiPassword(ssid, saved.wifiPassword);
  const demo: DemoFleet = {
    rgbBulb: { id: "demo-cfg-rgb", name: "RGB bulb", address: rgb.address, key: saved.keys.rgbBulb, uuid: rgb.uuid },
    whiteBulb: { id: "demo-cfg-white", name: "White bulb", address: white.address, key: saved.keys.whiteBulb, uuid: white.uuid },
    plug: { id: "demo-cfg-plug", name: "Metering plug", address: plug.address, key: saved.keys.plug, uuid: plug.uuid },
    unconfigured: { address: fresh.address, ssid, wifiPassword: saved.wifiPassword, key: saved.keys.onboard },
  };
  writeFlows(demo);
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
    "",
    ...fleet.devices.map((d) => `  ${d.model.name.padEnd(8)} ${d.mode === "ap" ? "access-point mode" : "ready"}  http://${d.address}/config  uuid ${d.uuid}`),
    "",
    "Open the editor, click an inject button on the 'Meross demo' tab and watch the devices page.",
    "Press Ctrl+C to stop. `npm start -- --reset` rebuilds the demo flow.",
    "",
  ];
  process.stdout.write(lines.join("\n"));
}

main().catch((err: unknown) => {
  process.stderr.write(`npm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
