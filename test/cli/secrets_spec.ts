/**
 * Secrets in the CLI: every one has a file or environment alternative, documented in the
 * command's --help; onboarding against Mosquitto adds the device's login without ever
 * printing the broker password derived from the key.
 */
import assert from "node:assert/strict";
import { promises as fs, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { run } from "../../src/cli/index";
import { mqttPassword } from "../../src/core/onboarding/config";
import { SimulatedDevice, type WifiConfigEvent } from "../../src/simulator/device";
import { memIo } from "./helpers";
import { echoingAccessPoint } from "../helpers/echo-ap";
import { secretForms } from "../../src/core/errors";

describe("CLI secrets", function () {
  this.timeout(30_000);
  const sims: SimulatedDevice[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
  });
  const tmp = async (): Promise<string> => {
    const d = await fs.mkdtemp(path.join(os.tmpdir(), "meross-cli-secrets-"));
    dirs.push(d);
    return d;
  };
  const fresh = async (): Promise<SimulatedDevice> => {
    const d = await SimulatedDevice.start({ host: "127.0.0.1", port: 0, model: "mss310", unconfigured: true });
    sims.push(d);
    return d;
  };

  it("each command's --help names the file or environment alternative of every secret", async () => {
    const expected: Record<string, RegExp[]> = {
      request: [/--key-file F/, /\$MEROSS_KEY/, /--password-file F/, /\$MEROSS_MQTT_PASSWORD/, /must not contain user:password@/],
      wifi: [/--key-file F/, /\$MEROSS_KEY/],
      onboard: [/--key-file F/, /\$MEROSS_KEY/, /--password-file F/, /\$MEROSS_WIFI_PASSWORD/, /--mosquitto DIR/],
      broker: [/--key-file F/, /\$MEROSS_KEY/, /--user-file F/, /\$MEROSS_BROKER_USER/],
      certs: [/--anonymous/, /password-file/, /meross-admin\.password/],
      rebind: [/--key-file F/, /--new-key-file F/, /\$MEROSS_NEW_KEY/, /--mosquitto DIR/],
    };
    for (const [command, patterns] of Object.entries(expected)) {
      const m = memIo();
      assert.equal(await run([command, "--help"], m.io), 0);
      for (const re of patterns) assert.match(m.out(), re, `meross ${command} --help`);
    }
  });

  it("a secret file that cannot be read is one line naming the flag, exit 2", async () => {
    const m = memIo();
    assert.equal(await run(["request", "127.0.0.1:9", "GET", "Appliance.System.All", "--key-file", "/nonexistent/key"], m.io), 2);
    assert.match(m.err(), /^meross request: --key-file "\/nonexistent\/key" could not be read \(ENOENT\)/);
    const both = memIo();
    assert.equal(await run(["request", "127.0.0.1:9", "GET", "Appliance.System.All", "--key", "a", "--key-file", "/tmp/x"], both.io), 2);
    assert.match(both.err(), /give either --key or --key-file, not both/);
  });

  it("onboard --mosquitto reads key and Wi-Fi password from files, adds the device's login, and prints no password", async () => {
    const dev = await fresh();
    const dir = await tmp();
    assert.equal(await run(["certs", "--host", "127.0.0.1", "--out", dir], memIo().io), 0);
    await fs.writeFile(path.join(dir, "key"), "k-from-file\n");
    await fs.writeFile(path.join(dir, "wifi"), "wifi-from-file\n");
    const wifi = new Promise<WifiConfigEvent>((r) => dev.once("wifi", r));
    const m = memIo();
    const args = ["onboard", "--device", dev.address, "--host", "127.0.0.1", "--ssid", "HomeNet", "--user-id", "7", "--mosquitto", dir];
    assert.equal(await run([...args, "--key-file", path.join(dir, "key"), "--password-file", path.join(dir, "wifi")], m.io), 0, m.err());
    assert.equal((await wifi).password, "wifi-from-file");
    const log = JSON.parse(m.out()) as {
      steps: Array<{ name: string; detail?: string }>;
      mqtt: Record<string, unknown>;
      mosquitto: { file: string };
    };
    assert.deepEqual(log.mqtt, {
      host: "127.0.0.1",
      port: 8883,
      username: dev.mac,
      passwordNote: "derived from the device key: 7_md5(<MAC> + <key>)",
    });
    assert.equal(log.mosquitto.file, path.join(dir, "dynamic-security.json"));
    assert.ok(log.steps.some((s) => s.name === "add broker login" && s.detail?.includes(dev.mac)));
    assert.match(m.err(), /Restart Mosquitto .*systemctl restart mosquitto/);
    const out = m.out() + m.err();
    for (const secret of ["k-from-file", "wifi-from-file", mqttPassword(dev.mac, "k-from-file", "7")])
      assert.ok(!out.includes(secret), `printed ${secret}`);

    const logins = JSON.parse(readFileSync(log.mosquitto.file, "utf8")) as {
      clients: Array<{ username: string; roles: Array<{ rolename: string }> }>;
      roles: Array<{ rolename: string; acls: Array<{ acltype: string; topic: string }> }>;
    };
    const client = logins.clients.find((c) => c.username === dev.mac);
    assert.ok(client, "the device has a login");
    const role = logins.roles.find((r) => r.rolename === client.roles[0].rolename);
    assert.deepEqual(
      role?.acls.filter((a) => a.acltype === "subscribeLiteral").map((a) => a.topic),
      [`/appliance/${dev.uuid}/subscribe`],
    );
    assert.ok(role?.acls.some((a) => a.acltype === "publishClientSend" && a.topic === `/appliance/${dev.uuid}/publish`));
  });

  it("onboard against an access point that echoes the Wi-Fi payload in an ERROR prints no form of the password", async () => {
    const dev = await fresh();
    const ap = await echoingAccessPoint(dev.address, () => "echo-key");
    try {
      const m = memIo();
      const args = ["onboard", "--device", ap.address, "--host", "127.0.0.1", "--ssid", dev.networks[0].ssid, "--key", "echo-key"];
      assert.notEqual(await run([...args, "--password", "wifi-echoed-pass"], m.io), 0);
      assert.equal(ap.echoed.length, 1);
      const out = m.out() + m.err();
      assert.match(out, /refused SET Appliance\.Config\.WifiX? \(it said "refused /, "the device's refusal is shown, masked");
      for (const form of secretForms("wifi-echoed-pass")) assert.ok(!out.includes(form), `printed ${form}`);
    } finally {
      await ap.close();
    }
  });

  it("onboard --mosquitto without a `meross certs` folder fails before the device is touched; --mosquitto excludes --broker", async () => {
    const dev = await fresh();
    const dir = await tmp();
    const m = memIo();
    const base = [
      "onboard",
      "--device",
      dev.address,
      "--host",
      "127.0.0.1",
      "--ssid",
      "HomeNet",
      "--password",
      "pw12345678",
      "--key",
      "k5",
    ];
    assert.equal(await run([...base, "--mosquitto", dir], m.io), 1);
    assert.match(m.err(), /dynamic-security\.json does not exist\. Create it with "meross certs/);
    const log = JSON.parse(m.out()) as { steps: Array<{ name: string; ok: boolean }> };
    assert.deepEqual(log.steps[log.steps.length - 1], { ...log.steps[log.steps.length - 1], name: "add broker login", ok: false });
    assert.equal(dev.mode, "ap", "the device was not reconfigured");
    const both = memIo();
    assert.equal(await run([...base, "--mosquitto", dir, "--broker", "--certs", dir], both.io), 2);
    assert.match(both.err(), /--mosquitto and --broker exclude each other/);
  });
});
