/**
 * The cloud-free MQTT side of the CLI: certs, broker, request --broker and onboard --broker,
 * in-process against the embedded broker, fake devices and the simulator's MQTT side.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { run } from "../../src/cli/index";
import { generateCertificates, type Certificates } from "../../src/core/broker/certs";
import { addMosquittoDevice } from "../../src/core/broker/mosquitto";
import mqtt from "mqtt";
import { MerossBroker } from "../../src/core/broker/broker";
import { IdentityBook } from "../../src/core/broker/identity";
import { SimulatedDevice, type MqttStateEvent, type SimulatorOptions } from "../../src/simulator/device";
import { DEVICE_A, DEVICE_B, FakeDevice } from "../core/broker/fake_device";
import { freePort, memIo, type MemIo } from "./helpers";

const BIND = {
  bind: {
    bindTime: 1700000000,
    time: { timestamp: 1700000000, timezone: "", timeRule: [] },
    hardware: { type: "mss310", subType: "us", version: "2.0.0", macAddress: DEVICE_A.mac, uuid: DEVICE_A.uuid },
    firmware: { version: "2.1.4", compileTime: "2019/08/27 10:23:38" },
  },
};

interface Env {
  header: { method: string; namespace: string };
  payload: Record<string, unknown>;
}

async function tmpDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), "meross-cli-mqtt-"));
}

/** Polls a growing output until a line matches (commands run in-process write as they go). */
async function lineMatching(read: () => string, re: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    for (const line of read().split("\n")) {
      const m = re.exec(line);
      if (m) return m;
    }
    if (Date.now() > until) throw new Error(`no line matching ${String(re)} in:\n${read()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function mqttConnected(dev: SimulatedDevice): Promise<void> {
  if (dev.mqttState === "connected") return Promise.resolve();
  return new Promise((resolve) => {
    const on = (e: MqttStateEvent): void => {
      if (e.state !== "connected") return;
      dev.off("mqtt", on);
      resolve();
    };
    dev.on("mqtt", on);
  });
}

describe("meross certs", function () {
  this.timeout(30_000);
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  it("writes a chain openssl accepts for the host, a private CA key and a mosquitto.conf on the chosen port, and prints the paths", async () => {
    const dir = path.join(await tmpDir(), "certs");
    dirs.push(path.dirname(dir));
    const m = memIo();
    assert.equal(await run(["certs", "--host", "127.0.0.1", "--out", dir, "--port", "18883", "--days", "30"], m.io), 0, m.err());
    const file = (n: string): string => path.join(dir, n);
    const { stdout } = await promisify(execFile)("openssl", [
      "verify",
      "-purpose",
      "sslserver",
      "-CAfile",
      file("ca.crt"),
      file("server.crt"),
    ]);
    assert.match(stdout, /server\.crt: OK/);
    const { stdout: text } = await promisify(execFile)("openssl", [
      "x509",
      "-in",
      file("server.crt"),
      "-noout",
      "-ext",
      "subjectAltName",
      "-enddate",
    ]);
    assert.match(text, /IP Address:127\.0\.0\.1/);
    const days = (Date.parse(/notAfter=(.*)/.exec(text)![1]) - Date.now()) / 86_400_000;
    assert.ok(days > 28 && days < 31, `--days 30 gives about 30 days, got ${days}`);

    assert.equal(statSync(file("ca.key")).mode & 0o777, 0o600, "the CA key is private");
    assert.equal(statSync(file("server.key")).mode & 0o777, 0o600, "the broker key is private (Mosquitto gets it by the printed chown)");
    for (const n of ["dynamic-security.json", "nodered.password"]) assert.equal(statSync(file(n)).mode & 0o777, 0o600, `${n} is private`);
    const conf = readFileSync(file("mosquitto.conf"), "utf8");
    assert.match(conf, /^allow_anonymous false$/m, "no anonymous clients by default");
    assert.match(conf, /^plugin \/\S+mosquitto_dynamic_security\.so$/m);
    assert.match(conf, new RegExp(`^plugin_opt_config_file ${file("dynamic-security.json")}$`, "m"));
    const password = readFileSync(file("nodered.password"), "utf8").trim();
    assert.ok(password.length >= 24, "a long random password");
    assert.ok(!readFileSync(file("dynamic-security.json"), "utf8").includes(password), "the logins file holds only its hash");
    assert.ok(!m.out().includes(password), "the password is not printed");
    assert.ok(m.out().includes(`--username nodered --password-file ${file("nodered.password")}`), "says how the CLI logs in");
    assert.match(conf, /^listener 18883$/m);
    assert.match(conf, new RegExp(`^cafile ${file("ca.crt")}$`, "m"));
    assert.match(conf, new RegExp(`^certfile ${file("server.crt")}$`, "m"));
    assert.match(conf, new RegExp(`^keyfile ${file("server.key")}$`, "m"));
    assert.match(conf, /^require_certificate false$/m);

    for (const n of ["ca.crt", "ca.key", "server.crt", "server.key", "mosquitto.conf", "dynamic-security.json", "nodered.password"]) {
      assert.ok(m.out().includes(file(n)), `${n} is listed`);
    }
    assert.ok(m.out().includes(`mosquitto -c ${file("mosquitto.conf")}`), "says how to start Mosquitto");
  });

  it("the written mosquitto.conf starts a Mosquitto that speaks TLS with the chain", async function () {
    try {
      await promisify(execFile)("mosquitto", ["-h"]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        const msg = "Mosquitto not found: install it with `apt-get install mosquitto`";
        if (process.env.CI === "true") throw new Error(`${msg} (required under CI)`, { cause: err });
        process.stderr.write(`\n!!! SKIPPED: ${msg}\n`);
        this.skip();
      }
    }
    const dir = await tmpDir();
    dirs.push(dir);
    // Mosquitto started as root reads its files as user "mosquitto": the directory must be readable to it.
    await fs.chmod(dir, 0o755);
    const port = await freePort();
    const m = memIo();
    assert.equal(await run(["certs", "--host", "127.0.0.1", "--out", dir, "--port", String(port)], m.io), 0);
    // Logins are required now: the device gets one, as onboarding with --mosquitto does.
    addMosquittoDevice(dir, { ...DEVICE_A, userId: "1234" });
    const chown = /^ {2}sudo (chown mosquitto .+)$/m.exec(m.out());
    if (process.getuid?.() === 0 && chown) await promisify(execFile)("sh", ["-c", chown[1]]);
    const { spawn } = await import("node:child_process");
    const child = spawn("mosquitto", ["-c", path.join(dir, "mosquitto.conf")], { stdio: "ignore" });
    try {
      // Mosquitto needs a moment to bind: retry the TLS connection rather than assert a delay.
      let ok = false;
      for (let i = 0; i < 50 && !ok; i++) {
        await new Promise((r) => setTimeout(r, 100));
        try {
          await FakeDevice.connect({ port, ...DEVICE_A }).then((d) => d.close());
          ok = true;
        } catch {
          ok = false;
        }
      }
      assert.ok(ok, "a device logged in over TLS to the Mosquitto started from the generated config");
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("refuses to replace existing certificates without --force, and replaces them with it", async () => {
    const dir = await tmpDir();
    dirs.push(dir);
    assert.equal(await run(["certs", "--host", "127.0.0.1", "--out", dir], memIo().io), 0);
    const before = readFileSync(path.join(dir, "ca.crt"), "utf8");
    const again = memIo();
    assert.equal(await run(["certs", "--host", "127.0.0.1", "--out", dir], again.io), 2);
    assert.match(again.err(), /already holds certificates \(ca\.crt, ca\.key, server\.crt, server\.key\).*add --force/);
    assert.equal(readFileSync(path.join(dir, "ca.crt"), "utf8"), before, "nothing was overwritten");
    assert.equal(await run(["certs", "--host", "127.0.0.1", "--out", dir, "--force"], memIo().io), 0);
    assert.notEqual(readFileSync(path.join(dir, "ca.crt"), "utf8"), before);
  });

  it("--force never writes through a link planted in the output folder: the link is replaced, its target untouched", async () => {
    const dir = await tmpDir();
    const outside = await tmpDir();
    dirs.push(dir, outside);
    const victims = ["server.key", "mosquitto.conf", "ca.key", "nodered.password", "dynamic-security.json"];
    for (const name of victims) {
      await fs.writeFile(path.join(outside, name), "precious\n", { mode: 0o644 });
      await fs.symlink(path.join(outside, name), path.join(dir, name));
    }
    const m = memIo();
    assert.equal(await run(["certs", "--host", "127.0.0.1", "--out", dir, "--force"], m.io), 0, m.err());
    for (const name of victims) assert.equal(readFileSync(path.join(outside, name), "utf8"), "precious\n", `${name}'s target is untouched`);
    for (const name of ["server.key", "mosquitto.conf", "ca.key"])
      assert.equal((await fs.lstat(path.join(dir, name))).isSymbolicLink(), false, `${name} is a file of its own now`);
    assert.match(readFileSync(path.join(dir, "server.key"), "utf8"), /PRIVATE KEY/);
    assert.equal((await fs.stat(path.join(dir, "server.key"))).mode & 0o777, 0o600);
    assert.deepEqual(
      (await fs.readdir(dir)).filter((f) => f.endsWith(".tmp")),
      [],
      "no temporary file is left",
    );
  });

  it("--anonymous writes the classic open config, without logins, and warns what it allows", async () => {
    const dir = await tmpDir();
    dirs.push(dir);
    const m = memIo();
    assert.equal(await run(["certs", "--host", "127.0.0.1", "--out", dir, "--port", "18884", "--anonymous"], m.io), 0, m.err());
    const conf = readFileSync(path.join(dir, "mosquitto.conf"), "utf8");
    assert.match(conf, /^allow_anonymous true$/m);
    assert.doesNotMatch(conf, /^plugin/m);
    assert.deepEqual((await fs.readdir(dir)).sort(), ["ca.crt", "ca.key", "mosquitto.conf", "server.crt", "server.key"]);
    assert.match(
      m.err(),
      /WARNING: --anonymous .*anyone who can reach port 18884 read every device's messages and send commands to every device/,
    );
    assert.match(m.out(), /ANONYMOUS ACCESS/);
  });

  it("--force replaces the certificates but keeps the logins and the Node-RED password", async () => {
    const dir = await tmpDir();
    dirs.push(dir);
    assert.equal(await run(["certs", "--host", "127.0.0.1", "--out", dir], memIo().io), 0);
    addMosquittoDevice(dir, { ...DEVICE_A, userId: "0" });
    const logins = readFileSync(path.join(dir, "dynamic-security.json"), "utf8");
    const password = readFileSync(path.join(dir, "nodered.password"), "utf8");
    const m = memIo();
    assert.equal(await run(["certs", "--host", "127.0.0.1", "--out", dir, "--force"], m.io), 0, m.err());
    assert.equal(readFileSync(path.join(dir, "dynamic-security.json"), "utf8"), logins);
    assert.equal(readFileSync(path.join(dir, "nodered.password"), "utf8"), password);
    assert.match(m.out(), /logins: kept as they were/);
  });

  it("prints the chown Mosquitto needs when its user cannot read the private files", async function () {
    if (
      !readFileSync("/etc/passwd", "utf8")
        .split("\n")
        .some((l) => l.startsWith("mosquitto:"))
    ) {
      process.stderr.write("\n!!! SKIPPED: no mosquitto user on this machine (install Mosquitto)\n");
      if (process.env.CI === "true") throw new Error("no mosquitto user (required under CI)");
      this.skip();
    }
    const dir = await tmpDir();
    dirs.push(dir);
    const m = memIo();
    assert.equal(await run(["certs", "--host", "127.0.0.1", "--out", dir], m.io), 0);
    assert.ok(
      m.out().includes(`  sudo chown mosquitto ${path.join(dir, "server.key")} ${path.join(dir, "dynamic-security.json")}\n`),
      m.out(),
    );
  });

  it("bad arguments exit 2 with one line naming the flag", async () => {
    const dir = await tmpDir();
    dirs.push(dir);
    const cases: Array<[string[], RegExp]> = [
      [["--out", dir], /--host is required/],
      [["--host", "127.0.0.1"], /--out is required/],
      [["--host", "127.0.0.1", "--out", dir, "--port", "70000"], /--port "70000" is not valid/],
      [["--host", "127.0.0.1", "--out", dir, "--days", "0"], /--days "0" is not valid/],
      [["--host", "a host", "--out", dir], /is not a usable broker address/],
      [["--host", "127.0.0.1", "--out", dir, "--user", "no body"], /--user "no body" is not valid/],
      [["--host", "127.0.0.1", "--out", dir, "--anonymous", "--user", "nodered"], /--anonymous turns off/],
    ];
    for (const [args, re] of cases) {
      const m = memIo();
      assert.equal(await run(["certs", ...args], m.io), 2, args.join(" "));
      assert.match(m.err(), re);
      assert.equal(m.err().trimEnd().split("\n").length, 1);
    }
    assert.deepEqual(await fs.readdir(dir), [], "nothing was written");
  });
});

describe("meross broker", function () {
  this.timeout(30_000);
  const dirs: string[] = [];
  const devices: FakeDevice[] = [];
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  async function startCli(args: string[], env: Record<string, string> = {}): Promise<{ m: MemIo; port: number; stop(): Promise<number> }> {
    const dir = await tmpDir();
    dirs.push(dir);
    const ctl = new AbortController();
    const m = memIo(env, ctl.signal);
    const running = run(["broker", "--certs", dir, "--host", "127.0.0.1", "--port", "0", "--cert-host", "127.0.0.1", ...args], m.io);
    const ready = await Promise.race([
      lineMatching(m.out, /^broker listening on mqtts:\/\/127\.0\.0\.1:(\d+)$/),
      running.then((code) => {
        throw new Error(`exited ${code}: ${m.err()}`);
      }),
    ]);
    assert.ok(m.out().startsWith("broker listening on "), "the ready line comes first");
    return {
      m,
      port: Number(ready[1]),
      stop: () => {
        ctl.abort();
        return running;
      },
    };
  }

  it("prints the ready line, a connected line with the model from the Bind, and a disconnected line; stops with exit 0", async () => {
    const b = await startCli(["--key", DEVICE_A.key]);
    assert.match(b.m.err(), /created certificates for 127\.0\.0\.1 in .*ca\.crt/);
    const dev = await FakeDevice.connect({ port: b.port, ...DEVICE_A });
    await dev.publish(dev.message("SET", "Appliance.Control.Bind", BIND));
    await lineMatching(b.m.out, new RegExp(`^connected ${DEVICE_A.uuid} ${DEVICE_A.mac} 127\\.0\\.0\\.1 mss310$`));
    await dev.close();
    await lineMatching(b.m.out, new RegExp(`^disconnected ${DEVICE_A.uuid}$`));
    assert.equal(await b.stop(), 0);
    assert.doesNotMatch(b.m.out() + b.m.err(), new RegExp(DEVICE_A.key));
  });

  it("reads device keys from --key-file and client logins from --user-file and $MEROSS_BROKER_USER", async () => {
    const dir = await tmpDir();
    dirs.push(dir);
    await fs.writeFile(path.join(dir, "keys"), `other-key\n${DEVICE_A.key}\n`);
    await fs.writeFile(path.join(dir, "users"), "cli:file-pass\n");
    const b = await startCli(["--key-file", path.join(dir, "keys"), "--user-file", path.join(dir, "users")], {
      MEROSS_BROKER_USER: "envuser:env-pass",
    });
    devices.push(await FakeDevice.connect({ port: b.port, ...DEVICE_A }));
    const login = (username: string, password: string) =>
      mqtt.connectAsync(`mqtts://127.0.0.1:${b.port}`, {
        username,
        password,
        rejectUnauthorized: false,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      });
    for (const [u, p] of [
      ["cli", "file-pass"],
      ["envuser", "env-pass"],
    ])
      await (await login(u, p)).endAsync();
    await assert.rejects(login("cli", "wrong"));
    assert.equal(await b.stop(), 0);
    assert.doesNotMatch(b.m.out() + b.m.err(), /file-pass|env-pass|other-key/);
  });

  it("a device with the wrong key gets a refused line naming its MAC and address, never the key", async () => {
    const b = await startCli(["--key", "broker-key"]);
    await assert.rejects(FakeDevice.connect({ port: b.port, ...DEVICE_A }));
    await lineMatching(b.m.out, new RegExp(`^refused ${DEVICE_A.mac} 127\\.0\\.0\\.1: wrong password: no known device key matches$`));
    assert.equal(await b.stop(), 0);
    assert.doesNotMatch(b.m.out() + b.m.err(), /broker-key|key-of-device-a/);
  });

  it("accepts every --key and $MEROSS_KEY; a device that sends no Bind is still listed, with model unknown", async () => {
    // DEVICE_B was set up with the empty key: only --accept-empty-key lets it in.
    const b = await startCli(["--key", "first", "--key", DEVICE_A.key, "--accept-empty-key"], { MEROSS_KEY: "" });
    assert.match(b.m.err(), /accepting devices signed with 3 keys/);
    devices.push(await FakeDevice.connect({ port: b.port, ...DEVICE_A }));
    devices.push(await FakeDevice.connect({ port: b.port, ...DEVICE_B }));
    await lineMatching(b.m.out, new RegExp(`^connected ${DEVICE_A.uuid} ${DEVICE_A.mac} 127\\.0\\.0\\.1 unknown$`));
    await lineMatching(b.m.out, new RegExp(`^connected ${DEVICE_B.uuid} ${DEVICE_B.mac} 127\\.0\\.0\\.1 unknown$`));
    assert.equal(await b.stop(), 0);
  });

  it("refuses a device with the empty key unless --accept-empty-key, and says why", async () => {
    const b = await startCli(["--key", DEVICE_A.key], { MEROSS_KEY: "" });
    await assert.rejects(FakeDevice.connect({ port: b.port, ...DEVICE_B }));
    await lineMatching(
      b.m.out,
      new RegExp(`^refused ${DEVICE_B.mac} 127\\.0\\.0\\.1: the device logged in with the empty key, which anyone can compute`),
    );
    assert.equal(await b.stop(), 0);
  });

  it("binds a device's uuid to its key in the certificate folder (0600) and refuses another key under it", async () => {
    const b = await startCli(["--key", DEVICE_A.key, "--key", "someone-elses-key"]);
    const dev = await FakeDevice.connect({ port: b.port, ...DEVICE_A });
    devices.push(dev);
    await dev.publish(dev.message("SET", "Appliance.Control.Bind", BIND));
    await lineMatching(b.m.out, new RegExp(`^connected ${DEVICE_A.uuid} .* mss310$`));
    const file = path.join(dirs[dirs.length - 1], "device-identities.json");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(readFileSync(file, "utf8").includes(DEVICE_A.uuid));
    await assert.rejects(
      FakeDevice.connect({ port: b.port, ...DEVICE_A, key: "someone-elses-key", clientId: `fmware:${DEVICE_A.uuid}_impostor0000000` }),
    );
    await lineMatching(b.m.out, new RegExp(`^refused ${DEVICE_A.mac} 127\\.0\\.0\\.1: device ${DEVICE_A.uuid} is bound to another key`));
    assert.equal(await b.stop(), 0);
    assert.doesNotMatch(b.m.out() + b.m.err(), /someone-elses-key|key-of-device-a/);
  });

  it("--key K1 --key K2: a K2 holder cannot take a device proven by its onboarding; unproven devices are named", async () => {
    const dir = await tmpDir();
    dirs.push(dir);
    // "meross onboard --broker --certs DIR" recorded this device's key; a squatter's Bind left another uuid unproven.
    const book = new IdentityBook(path.join(dir, "device-identities.json"));
    book.learn(DEVICE_A.uuid, DEVICE_A.mac, DEVICE_A.key, "onboarding");
    book.learn("1912174206936125185848e1e9cc0007", "48:e1:e9:cc:00:07", "k2-of-a-neighbour", "bind");
    book.flush();
    const b = await startCli(["--certs", dir, "--key", DEVICE_A.key, "--key", "k2-of-a-neighbour"]);
    assert.match(b.m.err(), /1 uuid is bound only by an unproven Bind: 1912174206936125185848e1e9cc0007/);
    await assert.rejects(
      FakeDevice.connect({ port: b.port, ...DEVICE_A, key: "k2-of-a-neighbour", clientId: `fmware:${DEVICE_A.uuid}_squatter0000000` }),
    );
    await lineMatching(
      b.m.out,
      new RegExp(`^refused ${DEVICE_A.mac} 127\\.0\\.0\\.1: device ${DEVICE_A.uuid} is bound to another key \\(since .*its onboarding\\)`),
    );
    const dev = await FakeDevice.connect({ port: b.port, ...DEVICE_A });
    devices.push(dev);
    await dev.publish(dev.message("SET", "Appliance.Control.Bind", BIND));
    await lineMatching(b.m.out, new RegExp(`^connected ${DEVICE_A.uuid} .* mss310$`));
    const other = { uuid: "1912174206936125185848e1e9dd0008", mac: "48:e1:e9:dd:00:08", key: "k2-of-a-neighbour" };
    devices.push(await FakeDevice.connect({ port: b.port, ...other }));
    await lineMatching(b.m.out, new RegExp(`^unproven ${other.uuid} 127\\.0\\.0\\.1: logged in with a key this broker accepts`));
    assert.equal(await b.stop(), 0);
    assert.doesNotMatch(b.m.out(), new RegExp(`^unproven ${DEVICE_A.uuid}`, "m"), "the onboarded device is proven");
    assert.doesNotMatch(b.m.out() + b.m.err(), /k2-of-a-neighbour|key-of-device-a/);
  });

  it("reuses the certificates in --certs across restarts", async () => {
    const first = await startCli([]);
    assert.equal(await first.stop(), 0);
    const dir = dirs[0];
    const ca = readFileSync(path.join(dir, "ca.crt"), "utf8");
    const ctl = new AbortController();
    const m = memIo({}, ctl.signal);
    const running = run(["broker", "--certs", dir, "--host", "127.0.0.1", "--port", "0", "--cert-host", "127.0.0.1"], m.io);
    await lineMatching(m.out, /^broker listening on /);
    assert.match(m.err(), /using certificates for 127\.0\.0\.1/);
    ctl.abort();
    assert.equal(await running, 0);
    assert.equal(readFileSync(path.join(dir, "ca.crt"), "utf8"), ca);
  });

  it("bad arguments and a port in use exit 2 with one line", async () => {
    const dir = await tmpDir();
    dirs.push(dir);
    const holder = await MerossBroker.start({ port: 0, host: "127.0.0.1", certs: generateCertificates({ host: "127.0.0.1" }) });
    try {
      const cases: Array<[string[], RegExp]> = [
        [[], /--certs is required/],
        [["--certs", dir, "--port", "99999"], /--port "99999" is not valid/],
        [["--certs", dir, "--user", "nocolon"], /--user must be NAME:PASSWORD/],
        [
          ["--certs", dir, "--host", "127.0.0.1", "--cert-host", "127.0.0.1", "--port", String(holder.port)],
          new RegExp(`port ${holder.port} is already in use`),
        ],
      ];
      for (const [args, re] of cases) {
        const m = memIo();
        assert.equal(await run(["broker", ...args], m.io), 2, args.join(" "));
        assert.match(m.err(), re);
        assert.equal(m.err().trimEnd().split("\n").length, 1, m.err());
        assert.equal(m.out(), "", "no ready line");
      }
    } finally {
      await holder.stop();
    }
  });
});

describe("meross request --broker", function () {
  this.timeout(30_000);
  const KEY = "mqtt-cli-key";
  let certs: Certificates;
  let dir: string;
  let broker: MerossBroker;
  let sim: SimulatedDevice;
  let url: string;

  before(async () => {
    certs = generateCertificates({ host: "127.0.0.1" });
    dir = await tmpDir();
    await fs.writeFile(path.join(dir, "ca.crt"), certs.caCert);
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    broker = await MerossBroker.start({
      port: 0,
      host: "127.0.0.1",
      certs,
      keys: [KEY],
      users: [{ username: "cli", password: "cli-pass" }],
    });
    url = `mqtts://127.0.0.1:${broker.port}`;
    const opts: SimulatorOptions = { model: "mss310", key: KEY, gateway: { host: "127.0.0.1", port: broker.port } };
    sim = await SimulatedDevice.start(opts);
    await mqttConnected(sim);
  });
  afterEach(async () => {
    await sim.stop();
    await broker.stop();
  });

  const auth = (): string[] => ["--broker", url, "--ca", path.join(dir, "ca.crt"), "--username", "cli"];
  const env = { MEROSS_MQTT_PASSWORD: "cli-pass" };

  it("GETs System.All over MQTT and prints the GETACK, as over HTTP", async () => {
    const m = memIo(env);
    assert.equal(await run(["request", ...auth(), "--uuid", sim.uuid, "GET", "Appliance.System.All", "--key", KEY], m.io), 0, m.err());
    const reply = JSON.parse(m.out()) as Env;
    assert.equal(reply.header.method, "GETACK");
    assert.match(JSON.stringify(reply.payload), new RegExp(sim.uuid));
    assert.equal(m.err(), "");
  });

  it("SETs with - in place of the device address and switches the device", async () => {
    const m = memIo(env);
    const code = await run(
      [
        "request",
        "-",
        "SET",
        "Appliance.Control.ToggleX",
        '{"togglex":{"channel":0,"onoff":1}}',
        ...auth(),
        "--uuid",
        sim.uuid,
        "--key",
        KEY,
      ],
      m.io,
    );
    assert.equal(code, 0, m.err());
    assert.equal((JSON.parse(m.out()) as Env).header.method, "SETACK");
    assert.equal(sim.state.channels[0].on, true);
  });

  it("a wrong key prints the device's ERROR, says the key is wrong and exits 1", async () => {
    const m = memIo(env);
    assert.equal(await run(["request", ...auth(), "--uuid", sim.uuid, "GET", "Appliance.System.All", "--key", "wrong"], m.io), 1);
    assert.equal((JSON.parse(m.out()) as Env).header.method, "ERROR");
    assert.match(m.err(), /^meross request: .*the key is wrong/);
  });

  it("a uuid nobody answers for times out: exit 2", async () => {
    const m = memIo(env);
    assert.equal(
      await run(
        ["request", ...auth(), "--uuid", "0123456789abcdef0123456789abcdef", "GET", "Appliance.System.All", "--timeout", "1"],
        m.io,
      ),
      2,
    );
    assert.match(m.err(), /did not answer GET Appliance\.System\.All within 1 s/);
    assert.equal(m.out(), "");
  });

  it("without --ca the broker certificate is refused (exit 2, says to give the CA); --insecure accepts it", async () => {
    const noCa = memIo(env);
    assert.equal(
      await run(
        ["request", "--broker", url, "--username", "cli", "--uuid", sim.uuid, "GET", "Appliance.System.All", "--key", KEY],
        noCa.io,
      ),
      2,
    );
    assert.match(noCa.err(), /certificate was not accepted .*give the broker's CA certificate/);
    const insecure = memIo(env);
    assert.equal(
      await run(
        ["request", "--broker", url, "--insecure", "--username", "cli", "--uuid", sim.uuid, "GET", "Appliance.System.All", "--key", KEY],
        insecure.io,
      ),
      0,
      insecure.err(),
    );
  });

  it('reads the broker password from --password-file (the file "meross certs" writes ends in a newline)', async () => {
    const file = path.join(dir, "cli.password");
    await fs.writeFile(file, "cli-pass\n", { mode: 0o600 });
    const m = memIo();
    assert.equal(
      await run(["request", ...auth(), "--password-file", file, "--uuid", sim.uuid, "GET", "Appliance.System.All", "--key", KEY], m.io),
      0,
      m.err(),
    );
    const both = memIo();
    assert.equal(
      await run(
        ["request", ...auth(), "--password", "x", "--password-file", file, "--uuid", sim.uuid, "GET", "Appliance.System.All"],
        both.io,
      ),
      2,
    );
    assert.match(both.err(), /give either --password or --password-file, not both/);
  });

  it("refuses a broker URL with user:password@ in it, pointing to the password options, without echoing it", async () => {
    const m = memIo(env);
    const withPassword = url.replace("mqtts://", "mqtts://cli:cli-pass@");
    assert.equal(
      await run(
        ["request", "--broker", withPassword, "--ca", path.join(dir, "ca.crt"), "--uuid", sim.uuid, "GET", "Appliance.System.All"],
        m.io,
      ),
      2,
    );
    assert.match(m.err(), /contains a user name and password\. Remove "user:password@" .*--password-file/);
    assert.doesNotMatch(m.err(), /cli-pass/);
  });

  it("a wrong broker password exits 2 saying the broker refused it, without printing it", async () => {
    const m = memIo({ MEROSS_MQTT_PASSWORD: "not-the-pass" });
    assert.equal(await run(["request", ...auth(), "--uuid", sim.uuid, "GET", "Appliance.System.All"], m.io), 2);
    assert.match(m.err(), /refused the user name or password/);
    assert.doesNotMatch(m.err(), /not-the-pass/);
  });

  it("bad combinations exit 2 before connecting", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--broker", url, "GET", "Appliance.System.All"], /--uuid is required with --broker/],
      [
        ["--broker", url, "--uuid", sim.uuid, "10.0.0.5", "GET", "Appliance.System.All"],
        /leave the address "10\.0\.0\.5" out, or write - in its place/,
      ],
      [["10.0.0.5", "GET", "Appliance.System.All", "--uuid", sim.uuid], /--uuid only applies with --broker/],
      [["--broker", "http://x", "--uuid", sim.uuid, "GET", "Appliance.System.All"], /is not an MQTT broker address/],
      [["--broker", url, "--uuid", "not a uuid!", "GET", "Appliance.System.All"], /--uuid "not a uuid!" is not valid/],
      [
        ["--broker", url, "--uuid", sim.uuid, "--ca", "/nonexistent/ca.crt", "GET", "Appliance.System.All"],
        /--ca "\/nonexistent\/ca\.crt" could not be read/,
      ],
    ];
    for (const [args, re] of cases) {
      const m = memIo();
      assert.equal(await run(["request", ...args], m.io), 2, args.join(" "));
      assert.match(m.err(), re);
    }
  });
});

describe("meross onboard --broker", function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  const sims: SimulatedDevice[] = [];
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((d) => d.stop()));
    await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  async function setup(): Promise<{ sim: SimulatedDevice; dir: string; port: number }> {
    const sim = await SimulatedDevice.start({ host: "127.0.0.1", port: 0, model: "mss310", unconfigured: true });
    sims.push(sim);
    const dir = await tmpDir();
    dirs.push(dir);
    return { sim, dir, port: await freePort() };
  }

  interface Log {
    steps: { name: string; ok: boolean; detail?: string; error?: string }[];
    device: { uuid: string; model: string };
    arrival?: { uuid: string; mac: string; ip: string; model?: string };
    error?: { code: string; reason?: string };
  }

  it("runs the broker, onboards, and ends the log with the device's arrival at its address", async () => {
    const { sim, dir, port } = await setup();
    const m = memIo();
    const code = await run(
      [
        "onboard",
        "--device",
        sim.address,
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--broker",
        "--certs",
        dir,
        "--ssid",
        "HomeNet",
        "--password",
        "pw12345678",
        "--key",
        "k9",
        "--wait",
        "20",
      ],
      m.io,
    );
    assert.equal(code, 0, m.err());
    const log = JSON.parse(m.out()) as Log;
    const last = log.steps[log.steps.length - 1];
    assert.deepEqual([last.name, last.ok, last.detail], ["device arrived", true, `${sim.uuid} at 127.0.0.1`]);
    assert.deepEqual(
      [log.arrival?.uuid, log.arrival?.mac, log.arrival?.model],
      [sim.uuid, sim.mac, log.device.model],
      "the model comes from the device's Bind",
    );
    assert.equal(sim.mode, "normal");
    assert.match(m.err(), new RegExp(`ok {3}broker listening on mqtts://127\\.0\\.0\\.1:${port}`));
    assert.match(m.err(), /ok {3}device arrived/);
    assert.doesNotMatch(m.out() + m.err(), /pw12345678|"k9"/);
    await lineMatching(() => sim.mqttState, /^(connecting|disabled|refused)$/);
  });

  it("a wrong Wi-Fi password leaves the device in access-point mode: the arrival step fails saying so, exit 2", async () => {
    const { sim, dir, port } = await setup();
    sim.expectWifiPassword("HomeNet", "the-right-one");
    const m = memIo();
    const code = await run(
      [
        "onboard",
        "--device",
        sim.address,
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--broker",
        "--certs",
        dir,
        "--ssid",
        "HomeNet",
        "--password",
        "wrong-pass",
        "--key",
        "k9",
        "--wait",
        "2",
      ],
      m.io,
    );
    assert.equal(code, 2);
    const log = JSON.parse(m.out()) as Log;
    const last = log.steps[log.steps.length - 1];
    assert.deepEqual([last.name, last.ok], ["device arrived", false]);
    assert.match(last.error ?? "", /stayed in access-point mode/);
    assert.deepEqual([log.error?.code, log.error?.reason], ["TIMEOUT", "access-point"]);
    assert.match(m.err(), /^meross onboard: .*stayed in access-point mode.*could not join "HomeNet" — check the Wi-Fi password.*2\.4 GHz/m);
    assert.doesNotMatch(m.out() + m.err(), /wrong-pass|the-right-one/);
  });

  it("a broker port already in use exits 2 before the device is touched", async () => {
    const { sim, dir } = await setup();
    const holder = await MerossBroker.start({ port: 0, host: "127.0.0.1", certs: generateCertificates({ host: "127.0.0.1" }) });
    try {
      const m = memIo();
      const args = [
        "onboard",
        "--device",
        sim.address,
        "--host",
        "127.0.0.1",
        "--port",
        String(holder.port),
        "--broker",
        "--listen",
        "127.0.0.1",
        "--certs",
        dir,
        "--ssid",
        "HomeNet",
        "--password",
        "pw12345678",
      ];
      assert.equal(await run(args, m.io), 2);
      assert.match(m.err(), new RegExp(`port ${holder.port} is already in use`));
      assert.equal(sim.requestCount, 0);
    } finally {
      await holder.stop();
    }
  });

  it("--broker needs --certs, and --certs/--wait/--listen need --broker: exit 2", async () => {
    const base = ["onboard", "--host", "127.0.0.1", "--ssid", "HomeNet", "--password", "pw12345678"];
    const cases: Array<[string[], RegExp]> = [
      [["--broker"], /--broker needs --certs DIR/],
      [["--wait", "10"], /--wait only applies with --broker/],
      [["--certs", "/tmp/x"], /--certs only applies with --broker/],
      [["--broker", "--certs", "/tmp/x", "--wait", "soon"], /--wait "soon" is not valid/],
    ];
    for (const [args, re] of cases) {
      const m = memIo();
      assert.equal(await run([...base, ...args], m.io), 2, args.join(" "));
      assert.match(m.err(), re);
    }
  });
});
