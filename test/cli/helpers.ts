/**
 * Shared helpers for the CLI specs: an in-memory io, free ports, and a private compile of
 * the CLI so spawned tests run the real JavaScript a user gets, with its shebang.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { CliIo } from "../../src/cli/io";

export const ROOT = path.resolve(__dirname, "..", "..");

export interface MemIo {
  io: CliIo;
  out(): string;
  err(): string;
}

export function memIo(env: Record<string, string | undefined> = {}, signal?: AbortSignal): MemIo {
  let out = "";
  let err = "";
  const io: CliIo = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env,
    signal,
  };
  return { io, out: () => out, err: () => err };
}

/** A port nothing listens on right now (bound to 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Compiles only src/cli/index.ts and what it imports into a temporary directory.
 * Why not `npm run build`: it wipes the shared dist/ (other suites may be using it) and
 * compiles every module of the project, so another area's work in progress would block this one.
 */
export async function compileCli(): Promise<{ bin: string; dir: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "meross-cli-"));
  await fs.symlink(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  await fs.copyFile(path.join(ROOT, "package.json"), path.join(dir, "package.json"));
  const tsconfig = {
    extends: path.join(ROOT, "tsconfig.json"),
    compilerOptions: { rootDir: path.join(ROOT, "src"), outDir: path.join(dir, "dist"), declaration: false, sourceMap: false },
    files: [path.join(ROOT, "src", "cli", "index.ts")],
    include: [],
  };
  const cfg = path.join(dir, "tsconfig.json");
  await fs.writeFile(cfg, JSON.stringify(tsconfig));
  await promisify(execFile)(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", cfg], { cwd: ROOT });
  const bin = path.join(dir, "dist", "cli", "index.js");
  // Same as scripts/build.js: the bin must be executable, and is run directly (through its shebang).
  await fs.chmod(bin, 0o755);
  return { bin, dir };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command line to completion; `shell` runs it through sh so "$(...)" works as a user types it. */
export function runProcess(file: string, args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: cleanEnv(env) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The environment minus anything that would change the CLI's defaults behind a test's back. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.MEROSS_KEY;
  delete env.MEROSS_WIFI_PASSWORD;
  delete env.NODE_OPTIONS;
  return { ...env, ...extra };
}

export interface Background {
  child: ChildProcessWithoutNullStreams;
  line: string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a long-running command and resolves with its first stdout line (the ready line). */
export function startBackground(file: string, args: string[]): Promise<Background> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: cleanEnv() });
    let out = "";
    let err = "";
    let done = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
      child.on("exit", (code, signal) => {
        res({ code, signal });
        if (!done) reject(new Error(`exited (${code ?? signal}) before its ready line: ${err}`));
      }),
    );
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (!done && nl >= 0) {
        done = true;
        resolve({ child, line: out.slice(0, nl), stderr: () => err, exited });
      }
    });
  });
}

/** Ends a background process we started (by its own pid) and waits for it. */
export async function stopBackground(bg: Background | undefined): Promise<void> {
  if (!bg || bg.child.exitCode !== null || bg.child.signalCode !== null) return;
  bg.child.kill("SIGTERM");
  await bg.exited;
}

/** Single quotes for sh, so any SSID survives a "$(...)" command line unchanged. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
