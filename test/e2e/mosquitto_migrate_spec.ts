/**
 * `meross migrate --broker HOST:PORT --mosquitto DIR` against the real Mosquitto on the set-up
 * `meross certs` writes: app-paired devices get their logins added live, move, and log in
 * without a Mosquitto restart; a second run sends them nothing.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { run } from "../../src/cli/index";
import { ADMIN_PASSWORD_FILE } from "../../src/core/broker/dynsec";
import { mqttPassword } from "../../src/core/onboarding/config";
import { SimulatedDevice, type RequestEvent } from "../../src/simulator/device";
import { freePort, memIo } from "../cli/helpers";
import { requireProgram } from "./harness";
import { MOSQUITTO, mosquittoDir, startMosquittoOnFreePort, until, writeSecureConfig, type RunningMosquitto } from "./mosquitto-harness";

const ACCOUNT_KEY = "account-key-for-migrate";
const NEW_KEY = "new-key-after-migrate";

describe("meross migrate onto Mosquitto, logins added live (real Mosquitto)", function () {
  this.timeout(60_000);
  let dir = "";
  let mosquitto: RunningMosquitto | undefined;
  const sims: SimulatedDevice[] = [];

  after(async function () {
    if (this.currentTest?.state === "failed") process.stderr.write(`\nMosquitto log:\n${mosquitto?.log() ?? ""}\n`);
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    await mosquitto?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("moves two app-paired devices, each logs in without a restart, and a second run says already moved", async function () {
    if (!requireProgram(this, MOSQUITTO, "Mosquitto", "install it with `apt-get install mosquitto`")) return;
    dir = mosquittoDir("meross-mosq-migrate-");
    await writeSecureConfig(dir);
    mosquitto = await startMosquittoOnFreePort(dir);
    const port = mosquitto.port;
    const pid = mosquitto.proc.pid;
    const devicePort = await freePort();
    for (const [host, model] of [
      ["127.0.0.41", "mss310"],
      ["127.0.0.42", "msl120"],
    ]) {
      sims.push(await SimulatedDevice.start({ host, port: devicePort, model, key: ACCOUNT_KEY, appPaired: true, mqttReconnectMs: 200 }));
    }
    const accountKeyFile = path.join(dir, "account.key");
    const newKeyFile = path.join(dir, "new.key");
    fs.writeFileSync(accountKeyFile, `${ACCOUNT_KEY}\n`, { mode: 0o600 });
    fs.writeFileSync(newKeyFile, `${NEW_KEY}\n`, { mode: 0o600 });
    const argv = [
      "migrate",
      "127.0.0.41,127.0.0.42",
      "--device-port",
      String(devicePort),
      "--key-file",
      accountKeyFile,
      "--new-key-file",
      newKeyFile,
      "--broker",
      `127.0.0.1:${port}`,
      "--mosquitto",
      dir,
    ];
    const m = memIo();
    assert.equal(await run(argv, m.io), 0, m.out() + m.err());
    assert.equal((m.out().match(/^moved /gm) ?? []).length, 2, m.out());
    for (const sim of sims) await until(() => sim.mqttState === "connected", `${sim.address} logged in to Mosquitto`);
    assert.equal(mosquitto.proc.pid, pid, "Mosquitto was not restarted");
    const admin = fs.readFileSync(path.join(dir, ADMIN_PASSWORD_FILE), "utf8").trim();
    const secrets = [ACCOUNT_KEY, NEW_KEY, admin, ...sims.map((s) => mqttPassword(s.mac, NEW_KEY, "0"))];
    for (const secret of secrets) assert.ok(!(m.out() + m.err()).includes(secret), `migrate printed a secret (${secret.slice(0, 4)}…)`);

    const sets: string[] = [];
    for (const sim of sims) sim.on("request", (e: RequestEvent) => e.via === "http" && e.method === "SET" && sets.push(e.namespace));
    const again = memIo();
    assert.equal(await run(argv, again.io), 0, again.out() + again.err());
    assert.equal((again.out().match(/^already moved /gm) ?? []).length, 2, again.out());
    assert.deepEqual(sets, []);
  });
});
