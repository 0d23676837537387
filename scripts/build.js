#!/usr/bin/env node
// Compiles src/ to dist/ and puts each node's editor files (.html, locales/) and the icons
// (kept in the top-level icons/ folder) next to its compiled .js: Node-RED 4 looks for an
// installed module's icons in an icons/ folder beside the node's .js file.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const root = path.resolve(__dirname, "..");
const dist = path.join(root, "dist");
fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(root, "tsconfig.json")], { stdio: "inherit" });
const editor = path.join(root, "nodes");
if (fs.existsSync(editor)) fs.cpSync(editor, path.join(dist, "nodes"), { recursive: true });
const icons = path.join(root, "icons");
if (fs.existsSync(icons)) fs.cpSync(icons, path.join(dist, "nodes", "icons"), { recursive: true });
const cli = path.join(dist, "cli", "index.js");
if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
