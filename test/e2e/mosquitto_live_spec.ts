/**
 * Device logins added while Mosquitto runs (src/core/broker/dynsec.ts), against the real
 * Mosquitto on the set-up `meross certs` writes: the admin login it creates, a device re-bound
 * from the Meross app that logs in and is controlled without a Mosquitto restart, the CLI's
 * `rebind --mosquitto`, and clear errors for a wrong admin password or login.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { run } from "../../src/cli/index";
import { ADMIN_PASSWORD_FILE, addDeviceLive, addMosquittoLogin } from "../../src/core/broker/dynsec";
import { ADMIN_USER, DYNSEC_RESPONSE_TOPIC, DYNSEC_TOPIC, SECURITY_FILE } from "../../src/core/broker/mosquitto";
import { rebind } from "../../src/core/onboarding/rebind";
import { mqttPassword } from "../../src/core/onboarding/config";
import { MerossError } from "../../src/core/errors";
import { SimulatedDevice } from "../../src/simulator/device";
import { freePort, memIo } from "../cli/helpers";
import { requireProgram } from "./harness";
import { MOSQUITTO, mosquittoDir, startMosquittoOnFreePort, until, writeSecureConfig, type RunningMosquitto } from "./mosquitto-harness";

const APP_KEY = "app-account-key-live";
const NEW_KEY = "new-key-after-live-rebind";

describe("Mosquitto logins added live through the dynamic-security control topic (real Mosquitto)", function () {
  this.timeout(60_000);
  let dir = "";
  let port = 0;
  let certsOut = "";
  let mosquitto: RunningMosquitto | undefined;
  const sims: SimulatedDevice[] = [];
  const admin = (): string => fs.readFileSync(path.join(dir, ADMIN_PASSWORD_FILE), "utf8").trim();
  const ca = (): Buffer => fs.readFileSync(path.join(dir, "ca.crt"));

  before(async function () {
    if (!requireProgram(this, MOSQUITTO, "Mosquitto", "install it with `apt-get install mosquitto`")) return;
    dir = mosquittoDir("meross-mosq-live-");
    certsOut = await writeSecureConfig(dir);
    mosquitto = await startMosquittoOnFreePort(dir);
    port = mosquitto.port;
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") process.stderr.write(`\nMosquitto log:\n${mosquitto?.log() ?? ""}\n`);
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });

  after(async () => {
    await mosquitto?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function appPaired(model = "mss310"): Promise<SimulatedDevice> {
    const sim = await SimulatedDevice.start({ host: "127.0.0.1", port: 0, model, key: APP_KEY, appPaired: true, mqttReconnectMs: 200 });
    sims.push(sim);
    return sim;
  }

  it("meross certs creates the meross-admin login: a 0600 password file, a role with only the control topic, nothing printed", () => {
    const file = path.join(dir, ADMIN_PASSWORD_FILE);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const password = admin();
    assert.ok(password.length >= 24);
    assert.ok(!certsOut.includes(password), "meross certs does not print the admin password");
    assert.match(certsOut, /meross-admin\.password/);
    const logins = JSON.parse(fs.readFileSync(path.join(dir, SECURITY_FILE), "utf8")) as {
      clients: Array<{ username: string; roles: Array<{ rolename: string }> }>;
      roles: Array<{ rolename: string; acls: Array<{ acltype: string; topic: string; allow: boolean }> }>;
    };
    const client = logins.clients.find((c) => c.username === ADMIN_USER);
    assert.deepEqual(client?.roles, [{ rolename: "meross-admin" }]);
    const role = logins.roles.find((r) => r.rolename === "meross-admin");
    assert.deepEqual(
      role?.acls.map((a) => [a.acltype, a.topic, a.allow]),
      [
        ["publishClientSend", DYNSEC_TOPIC, true],
        ["subscribeLiteral", DYNSEC_RESPONSE_TOPIC, true],
        ["publishClientReceive", DYNSEC_RESPONSE_TOPIC, true],
        ["unsubscribeLiteral", DYNSEC_RESPONSE_TOPIC, true],
      ],
    );
  });

  it("an app-paired device re-bound with its login added live logs in and is controlled, Mosquitto never restarted", async function () {
    if (!mosquitto) return this.skip();
    const pid = mosquitto.proc.pid;
    const sim = await appPaired();
    const res = await rebind({
      address: sim.address,
      currentKey: APP_KEY,
      newKey: NEW_KEY,
      broker: { host: "127.0.0.1", port },
      addLogin: (d) => addMosquittoLogin(dir, d),
    });
    assert.deepEqual(
      res.steps.map((s) => s.name).filter((n) => n !== "set up encryption"),
      ["read device", "add broker login", "set key"],
    );
    assert.equal(res.mosquitto?.live, `mqtts://127.0.0.1:${port}`);
    assert.equal(res.mosquitto?.reload, undefined, "no restart advised");
    await until(() => sim.mqttState === "connected", "the device logged in to Mosquitto with its new login");

    // Controlled through Mosquitto with the Node-RED login: switch it on.
    const keyFile = path.join(dir, "new.key");
    fs.writeFileSync(keyFile, `${NEW_KEY}\n`, { mode: 0o600 });
    const req = memIo();
    const args = ["request", "--broker", `mqtts://127.0.0.1:${port}`, "--ca", path.join(dir, "ca.crt"), "--username", "nodered"];
    const on = JSON.stringify({ togglex: { channel: 0, onoff: 1 } });
    const cmd = [...args, "--password-file", path.join(dir, "nodered.password"), "--key-file", keyFile, "--uuid", sim.uuid];
    assert.equal(await run([...cmd, "SET", "Appliance.Control.ToggleX", on], req.io), 0, req.err());
    assert.equal(sim.state.channels[0].on, true);
    assert.equal(mosquitto.proc.pid, pid);
    assert.equal(mosquitto.proc.exitCode, null, "Mosquitto is the same process, still running");

    // Again: already there is fine (its password and rules are set again).
    const again = await addDeviceLive(
      { url: `mqtts://127.0.0.1:${port}`, ca: ca(), password: admin() },
      { uuid: sim.uuid, mac: sim.mac, key: NEW_KEY },
    );
    assert.deepEqual(again, { username: sim.mac, created: false, broker: `mqtts://127.0.0.1:${port}` });
  });

  it("meross rebind --mosquitto adds the login live, prints no secret and advises no restart", async function () {
    if (!mosquitto) return this.skip();
    const pid = mosquitto.proc.pid;
    const sim = await appPaired("mss110");
    const appKeyFile = path.join(dir, "app.key");
    const newKeyFile = path.join(dir, "new2.key");
    fs.writeFileSync(appKeyFile, `${APP_KEY}\n`, { mode: 0o600 });
    fs.writeFileSync(newKeyFile, `${NEW_KEY}\n`, { mode: 0o600 });
    const m = memIo();
    const argv = ["rebind", sim.address, "--key-file", appKeyFile, "--new-key-file", newKeyFile, "--host", "127.0.0.1"];
    assert.equal(await run([...argv, "--port", String(port), "--mosquitto", dir], m.io), 0, m.err());
    const log = JSON.parse(m.out()) as { steps: Array<{ name: string; detail?: string }>; mosquitto: { live?: string } };
    const names = log.steps.map((s) => s.name);
    assert.equal(names.indexOf("add broker login") + 1, names.indexOf("set key"));
    assert.match(log.steps.find((s) => s.name === "add broker login")?.detail ?? "", /added live on mqtts:\/\/127\.0\.0\.1/);
    assert.equal(log.mosquitto.live, `mqtts://127.0.0.1:${port}`);
    assert.doesNotMatch(m.err(), /restart/i);
    await until(() => sim.mqttState === "connected", "the device logged in to Mosquitto");
    assert.equal(mosquitto.proc.pid, pid);
    for (const secret of [APP_KEY, NEW_KEY, admin(), mqttPassword(sim.mac, NEW_KEY, "0")]) {
      assert.ok(!(m.out() + m.err()).includes(secret), `rebind printed a secret (${secret.slice(0, 4)}…)`);
    }
  });

  it("a wrong admin password, a login without the rights, or no Mosquitto are clear errors without the password", async function () {
    if (!mosquitto) return this.skip();
    // A uuid whose last 12 characters are the MAC.
    const device = { uuid: "201106101234567890127890abcd0000", mac: "78:90:ab:cd:00:00", key: "k" };
    const url = `mqtts://127.0.0.1:${port}`;
    const wrong = "not-the-admin-password";
    await assert.rejects(addDeviceLive({ url, ca: ca(), password: wrong, passwordHint: "Look in the file." }, device), (err: unknown) => {
      assert.ok(err instanceof MerossError);
      assert.equal(err.code, "BAD_INPUT");
      assert.match(err.message, /refused the admin login "meross-admin": the user name or password is wrong\. Look in the file\./);
      assert.ok(!err.message.includes(wrong));
      return true;
    });
    const nodered = fs.readFileSync(path.join(dir, "nodered.password"), "utf8").trim();
    await assert.rejects(addDeviceLive({ url, ca: ca(), username: "nodered", password: nodered }, device), (err: unknown) => {
      assert.ok(err instanceof MerossError);
      assert.match(err.message, /does not let this login read \$CONTROL\/dynamic-security\/v1\/response: use the "meross-admin" login/);
      return true;
    });
    const closed = await freePort();
    await assert.rejects(addDeviceLive({ url: `mqtts://127.0.0.1:${closed}`, ca: ca(), password: admin() }, device), (err: unknown) => {
      assert.ok(err instanceof MerossError);
      assert.equal(err.code, "UNREACHABLE");
      assert.match(err.message, /Mosquitto is not reachable at mqtts:\/\/127\.0\.0\.1:\d+ \(connection refused\)/);
      return true;
    });
    const logins = fs.readFileSync(path.join(dir, SECURITY_FILE), "utf8");
    assert.ok(!logins.includes(device.mac), "nothing was added");
  });
});
