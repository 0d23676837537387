/**
 * Real Node-RED (the CLI from devDependencies) in a child process with a temporary user
 * directory and this package loaded from dist/, plus helpers for its admin HTTP API.
 * Everything listens on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface NodeRed {
  url: string;
  userDir: string;
  /** Everything Node-RED printed so far (log lines, console debug output). */
  log(): string;
  get(p: string): Promise<{ status: number; body: string; json: () => unknown }>;
  post(p: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  deploy(flows: unknown[]): Promise<void>;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** An inject node on tab `z` that sends the string `payload` to node `wire` when its button is clicked. */
export function injectNode(z: string, id: string, payload: string, wire: string): Record<string, unknown> {
  return {
    id,
    type: "inject",
    z,
    props: [{ p: "payload" }],
    payload,
    payloadType: "str",
    repeat: "",
    once: false,
    topic: "",
    x: 100,
    y: 100,
    wires: [[wire]],
  };
}

export function requireBuild(): void {
  if (!fs.existsSync(path.join(ROOT, "dist", "nodes", "meross-config.js"))) {
    throw new Error("dist/ is missing: run `npm run build` first (npm test does it).");
  }
}

export async function startNodeRed(opts: { flows?: unknown[]; credentials?: Record<string, unknown> } = {}): Promise<NodeRed> {
  requireBuild();
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "meross-nr-"));
  const port = await freePort();
  const settings = path.join(userDir, "settings.js");
  fs.writeFileSync(
    settings,
    `module.exports = { uiHost: "127.0.0.1", uiPort: ${port}, flowFile: "flows.json", credentialSecret: false,
      nodesDir: [${JSON.stringify(ROOT)}], telemetry: { enabled: false, updateNotification: false },
      externalModules: { autoInstall: false, palette: { allowInstall: false } },
      editorTheme: { tours: false, projects: { enabled: false } },
      logging: { console: { level: "debug", metrics: false, audit: false } } };`,
  );
  if (opts.flows) fs.writeFileSync(path.join(userDir, "flows.json"), JSON.stringify(opts.flows));
  if (opts.credentials) fs.writeFileSync(path.join(userDir, "flows_cred.json"), JSON.stringify(opts.credentials));
  const child: ChildProcess = spawn(process.execPath, [require.resolve("node-red/red.js"), "--userDir", userDir, "--settings", settings], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout?.on("data", (c: Buffer) => (log += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (log += c.toString()));
  const url = `http://127.0.0.1:${port}`;

  const waitForLog = async (pattern: RegExp, timeoutMs = 30000): Promise<void> => {
    const t0 = Date.now();
    while (!pattern.test(log)) {
      if (child.exitCode !== null) throw new Error(`Node-RED exited (${child.exitCode}):\n${log}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`Node-RED log never showed ${pattern}:\n${log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const get = async (p: string) => {
    const res = await fetch(url + p, { headers: { Accept: "application/json" } });
    const body = await res.text();
    return { status: res.status, body, json: () => JSON.parse(body) as unknown };
  };
  const post = async (p: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url + p, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.text() };
  };

  await waitForLog(/Started flows|Server now running/);
  await waitForLog(/Started flows/);
  return {
    url,
    userDir,
    log: () => log,
    get,
    post,
    waitForLog,
    async deploy(flows: unknown[]) {
      const before = (log.match(/Started flows/g) ?? []).length;
      const res = await post("/flows", { flows }, { "Node-RED-API-Version": "v2", "Node-RED-Deployment-Type": "full" });
      if (res.status !== 200) throw new Error(`deploy failed ${res.status}: ${res.body}`);
      const t0 = Date.now();
      while ((log.match(/Started flows/g) ?? []).length <= before) {
        if (Date.now() - t0 > 20000) throw new Error(`flows did not restart after deploy:\n${log.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/**
 * Whether a system program a test needs is present. Missing on a developer's machine:
 * the caller skips loudly; missing under CI (CI=true, where .ci/run installs it): a failure.
 */
export function requireProgram(ctx: Mocha.Context, file: string, what: string, install: string): boolean {
  if (fs.existsSync(file)) return true;
  const msg = `${what} not found at ${file}: ${install}`;
  if (process.env.CI === "true") throw new Error(`${msg} (required under CI)`);
  process.stderr.write(`\n!!! SKIPPED: ${msg}\n`);
  ctx.skip();
  return false;
}

/**
 * Waits until the runtime has read every device a deployed node is set to (it knows their
 * abilities): start-up is over then. A device chosen per message is read only when a message names it.
 */
export async function devicesRead(red: NodeRed, flows: ReadonlyArray<Record<string, unknown>>, timeoutMs = 15000): Promise<void> {
  const used = flows.filter((n) => n.type === "meross-config" && flows.some((u) => u.device === n.id)).map((n) => String(n.id));
  const read = async (): Promise<boolean> => {
    const { kinds } = (await red.get("/meross-config/kinds")).json() as { kinds: Record<string, unknown> };
    return used.every((id) => Array.isArray(kinds[id]));
  };
  const t0 = Date.now();
  while (!(await read())) {
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`the runtime never read the devices of ${used.join(", ")}:\n${red.log().slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
