import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { run } from "../../src/cli/index";
import { SimulatedDevice, type RequestEvent } from "../../src/simulator/device";
import { freePort, memIo } from "./helpers";

const APP_KEY = "cli-account-key";
const NEW_KEY = "cli-new-key";

interface Log {
  steps: Array<{ name: string; ok: boolean }>;
  device: { uuid: string };
  mqtt: { host: string; port: number; username: string };
  arrival?: { uuid: string };
}

describe("meross rebind: an app-paired device moves to our broker", function () {
  this.timeout(30_000);
  const started: SimulatedDevice[] = [];
  let dir = "";
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "meross-rebind-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await Promise.all(started.splice(0).map((d) => d.stop()));
  });
  const appPaired = async (model = "mss310"): Promise<SimulatedDevice> => {
    const d = await SimulatedDevice.start({ model, key: APP_KEY, appPaired: true, port: 0, mqttReconnectMs: 200 });
    started.push(d);
    return d;
  };

  it("--broker: runs the embedded broker, sends only Config.Key and waits for the device to log in", async () => {
    const dev = await appPaired("mss110");
    const sets: string[] = [];
    // Over HTTP: the broker itself sets the clock over MQTT once the device is bound (§5.4).
    dev.on("request", (e: RequestEvent) => e.method === "SET" && e.via === "http" && sets.push(e.namespace));
    const port = await freePort();
    const m = memIo({ MEROSS_KEY: APP_KEY, MEROSS_NEW_KEY: NEW_KEY });
    const argv = [
      "rebind",
      dev.address,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--broker",
      "--certs",
      path.join(dir, "certs"),
      "--listen",
      "127.0.0.1",
      "--wait",
      "20",
    ];
    const code = await run(argv, m.io);
    assert.equal(code, 0, m.err());
    const log = JSON.parse(m.out()) as Log;
    assert.deepEqual(
      log.steps.filter((s) => s.name !== "set up encryption").map((s) => s.name),
      ["read device", "set key", "device arrived"],
    );
    assert.ok(log.steps.every((s) => s.ok));
    assert.equal(log.arrival?.uuid, dev.uuid);
    assert.equal(log.mqtt.port, port);
    assert.deepEqual(sets, ["Appliance.Config.Key"]);
    assert.equal(dev.key, NEW_KEY);
    assert.equal(dev.gateway?.port, port);
    assert.doesNotMatch(m.out() + m.err(), new RegExp(`${APP_KEY}|${NEW_KEY}`), "no key is printed");
  });

  it("without --broker: keys from files, prints the step log, the device points at the given broker", async () => {
    const dev = await appPaired();
    const current = path.join(dir, "current");
    const next = path.join(dir, "next");
    writeFileSync(current, `${APP_KEY}\n`);
    writeFileSync(next, `${NEW_KEY}\n`);
    const m = memIo();
    const code = await run(
      ["rebind", dev.address, "--key-file", current, "--new-key-file", next, "--host", "192.0.2.10", "--user-id", "12"],
      m.io,
    );
    assert.equal(code, 0, m.err());
    const log = JSON.parse(m.out()) as Log;
    assert.deepEqual(
      log.steps.map((s) => s.name),
      ["read device", "set key"],
    );
    assert.deepEqual(log.mqtt.host, "192.0.2.10");
    assert.equal(log.mqtt.port, 8883);
    assert.equal(dev.key, NEW_KEY);
    assert.equal(dev.userId, "12");
    assert.equal(dev.gateway?.host, "192.0.2.10");
  });

  it("a wrong current key exits 1 with the partial step log, and the device keeps its app settings", async () => {
    const dev = await appPaired();
    const m = memIo();
    const code = await run(["rebind", dev.address, "--key", "guessed", "--new-key", NEW_KEY, "--host", "127.0.0.1"], m.io);
    assert.equal(code, 1);
    const log = JSON.parse(m.out()) as { steps: Array<{ name: string; ok: boolean }>; error: { code: string } };
    assert.deepEqual(
      log.steps.map((s) => [s.name, s.ok]),
      [["read device", false]],
    );
    assert.equal(log.error.code, "WRONG_KEY");
    assert.equal(dev.key, APP_KEY);
    assert.doesNotMatch(m.out() + m.err(), /guessed|cli-new-key/);
  });

  it("bad arguments exit 2 with one line", async () => {
    for (const [argv, mention] of [
      [["rebind", "--key", "k", "--host", "h"], /device's address/],
      [["rebind", "127.0.0.1", "--key", "k"], /--host is required/],
      [["rebind", "127.0.0.1", "--host", "h"], /current key is missing/],
      [["rebind", "127.0.0.1", "--key", "k", "--host", "h", "--certs", "x"], /only applies with --broker/],
      [["rebind", "127.0.0.1", "--key", "k", "--host", "h", "--port", "0"], /--port "0"/],
    ] as Array<[string[], RegExp]>) {
      const m = memIo();
      assert.equal(await run(argv, m.io), 2, argv.join(" "));
      assert.equal(m.out(), "");
      assert.match(m.err(), mention);
    }
  });
});
