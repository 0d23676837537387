/**
 * Real Node-RED runtime embedded in the benchmark process (no editor, no HTTP server),
 * so node figures carry no test-harness overhead. Only this package's nodes are loaded
 * (plus the core nodes Node-RED always has).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Node } from "node-red";

const ROOT = path.resolve(__dirname, "..");

export interface EmbeddedRed {
  node(id: string): Node & { receive(msg: unknown): void };
  /** A full deploy (what the editor's Deploy button does by default); resolves once every node of `flows` was created anew. */
  deploy(flows: Record<string, unknown>[], credentials: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

interface RedModule {
  init(settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  nodes: { getNode(id: string): unknown; setFlows(config: unknown[], credentials: unknown, type: "full"): Promise<string> };
}

export async function startEmbedded(
  flows: Record<string, unknown>[],
  credentials: Record<string, unknown>,
  globals: Record<string, unknown> = {},
): Promise<EmbeddedRed> {
  if (!fs.existsSync(path.join(ROOT, "dist", "nodes", "meross-config.js"))) throw new Error("run `npm run build` first");
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only once the build is known to exist
  const RED = require("node-red") as RedModule;
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "meross-bench-"));
  // Nodes without x/y are taken for config nodes by the runtime, so give every flow node a place.
  const place = (list: Record<string, unknown>[]) => list.map((n) => (n.z ? { x: 100, y: 100, ...n } : n));
  const placed = place(flows);
  // Written before start, as a user's flow files are (credentialSecret false keeps them plain).
  fs.writeFileSync(path.join(userDir, "flows.json"), JSON.stringify(placed));
  fs.writeFileSync(path.join(userDir, "flows_cred.json"), JSON.stringify(credentials));
  RED.init({
    userDir,
    flowFile: "flows.json",
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    credentialSecret: false,
    // Function nodes run in a sandbox; this is how they reach the benchmark's callbacks.
    functionGlobalContext: globals,
    nodesDir: [ROOT],
    telemetry: { enabled: false, updateNotification: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    logging: { console: { level: process.env.BENCH_LOG ?? "warn", metrics: false, audit: false } },
  });
  await RED.start();
  // start() resolves before the flows have started.
  const started = async (list: Record<string, unknown>[], old: Map<string, unknown>): Promise<void> => {
    const ids = list.filter((n) => n.type !== "tab").map((n) => String(n.id));
    const t0 = Date.now();
    while (!ids.every((id) => RED.nodes.getNode(id) && RED.nodes.getNode(id) !== old.get(id))) {
      if (Date.now() - t0 > 15000) throw new Error("the benchmark flow did not start");
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  await started(placed, new Map());
  return {
    async deploy(next, creds) {
      const list = place(next);
      const old = new Map(list.map((n) => [String(n.id), RED.nodes.getNode(String(n.id))]));
      // setFlows resolves once the old nodes stopped; the new ones start after it.
      await RED.nodes.setFlows(list, creds, "full");
      await started(list, old);
    },
    node: (id) => {
      const n = RED.nodes.getNode(id) as (Node & { receive(msg: unknown): void }) | null;
      if (!n) throw new Error(`node ${id} is not running`);
      return n;
    },
    async stop() {
      await RED.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}
