/**
 * A real Mosquitto set up the secure default way (`meross certs`: TLS, dynamic-security
 * plugin, no anonymous client) for the e2e specs, on 127.0.0.1 and a port of the caller's choice.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { run } from "../../src/cli/index";
import { memIo } from "../cli/helpers";

export const MOSQUITTO = process.env.MOSQUITTO_PATH ?? "/usr/sbin/mosquitto";

export function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) return resolve();
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

/** A new folder Mosquitto can read (started as root it reads its files as user "mosquitto"). */
export function mosquittoDir(prefix = "meross-mosq-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/**
 * Writes the broker's files with `meross certs` into `dir` and, as root, runs the chown the
 * command prints, as printed, so Mosquitto reads the private files as its own user.
 * Returns what the command printed.
 */
export async function writeSecureConfig(dir: string, port: number): Promise<string> {
  const certs = memIo();
  assert.equal(await run(["certs", "--host", "127.0.0.1", "--out", dir, "--port", String(port)], certs.io), 0, certs.err());
  const chown = /^ {2}sudo (chown mosquitto .+)$/m.exec(certs.out());
  if (process.getuid?.() === 0) {
    assert.ok(chown, `as root, "meross certs" says which chown to run:\n${certs.out()}`);
    execFileSync("sh", ["-c", chown[1]]);
  }
  return certs.out();
}

export interface RunningMosquitto {
  proc: ChildProcess;
  /** Everything Mosquitto printed so far (it runs with -v). */
  log(): string;
  /** Stops it and waits for it to exit; harmless when it already has. */
  stop(): Promise<void>;
}

/** Starts Mosquitto on `dir`/mosquitto.conf and waits until it says it runs. */
export async function startMosquitto(dir: string): Promise<RunningMosquitto> {
  let log = "";
  const proc = spawn(MOSQUITTO, ["-v", "-c", path.join(dir, "mosquitto.conf")], { stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const running: RunningMosquitto = {
    proc,
    log: () => log,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await exited;
    },
  };
  await until(() => /mosquitto version \S+ running/.test(log) || proc.exitCode !== null, "Mosquitto running");
  assert.equal(proc.exitCode, null, `Mosquitto started: ${log}`);
  return running;
}
