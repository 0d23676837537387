/**
 * A real Mosquitto set up the secure default way (`meross certs`: TLS, dynamic-security
 * plugin, no anonymous client) for the e2e specs and benches, on a port of the caller's choice
 * or on one found free when it starts.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { run } from "../../src/cli/index";
import { freePort, memIo } from "../cli/helpers";

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
 * Without `port` the listener keeps the default port: for startMosquittoOnFreePort, which sets it.
 * Returns what the command printed.
 */
export async function writeSecureConfig(dir: string, port?: number): Promise<string> {
  const certs = memIo();
  const portArgs = port === undefined ? [] : ["--port", String(port)];
  assert.equal(await run(["certs", "--host", "127.0.0.1", "--out", dir, ...portArgs], certs.io), 0, certs.err());
  const chown = /^ {2}sudo (chown mosquitto .+)$/m.exec(certs.out());
  if (process.getuid?.() === 0) {
    assert.ok(chown, `as root, "meross certs" says which chown to run:\n${certs.out()}`);
    execFileSync("sh", ["-c", chown[1]]);
  }
  return certs.out();
}

export interface RunningMosquitto {
  proc: ChildProcess;
  /** The port it listens on (the `listener` line of its mosquitto.conf). */
  port: number;
  /** Everything Mosquitto printed so far (it runs with -v). */
  log(): string;
  /** Stops it and waits for it to exit; harmless when it already has. */
  stop(): Promise<void>;
}

/** Mosquitto exited because another program holds the port of its listener. */
export class PortTakenError extends Error {}

const listenerLine = /^listener (\d+)(.*)$/m;

/**
 * Starts Mosquitto on `dir`/mosquitto.conf and waits until it says it runs and listens on the
 * configured port. Throws PortTakenError when that port is taken.
 */
export async function startMosquitto(dir: string): Promise<RunningMosquitto> {
  const conf = path.join(dir, "mosquitto.conf");
  const port = Number(listenerLine.exec(fs.readFileSync(conf, "utf8"))?.[1]);
  assert.ok(port > 0, `${conf} has a listener line`);
  let log = "";
  const proc = spawn(MOSQUITTO, ["-v", "-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const running: RunningMosquitto = {
    proc,
    port,
    log: () => log,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await exited;
    },
  };
  await until(() => /mosquitto version \S+ running/.test(log) || proc.exitCode !== null, "Mosquitto running");
  // It says "Opening ... port N" before it tries; a failure to bind follows as an error line and an exit.
  if (proc.exitCode !== null && /Address already in use/.test(log)) throw new PortTakenError(`port ${port} is taken:\n${log}`);
  assert.equal(proc.exitCode, null, `Mosquitto started: ${log}`);
  assert.match(log, new RegExp(`Opening ipv4 listen socket on port ${port}\\.`), `Mosquitto listens on port ${port}: ${log}`);
  return running;
}

/**
 * Mosquitto cannot bind port 0 and report the port it got, so: pick a port free right now,
 * write it into `dir`/mosquitto.conf, start Mosquitto, and if another program took the port in
 * between, pick another (up to `attempts` times). The port is in the result's `port`.
 */
export async function startMosquittoOnFreePort(dir: string, attempts = 5): Promise<RunningMosquitto> {
  const conf = path.join(dir, "mosquitto.conf");
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const text = fs.readFileSync(conf, "utf8");
    assert.match(text, listenerLine, `${conf} has a listener line`);
    fs.writeFileSync(
      conf,
      text.replace(listenerLine, (_, _old: string, rest: string) => `listener ${port}${rest}`),
    );
    try {
      return await startMosquitto(dir);
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= attempts) throw err;
    }
  }
}
