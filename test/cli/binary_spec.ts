/**
 * The acceptance scenario, run as a user would: the compiled `meross` executable
 * (started through its shebang), separate processes, and a shell for "$(meross wifi ...)";
 * the broker commands with a simulated device dialling in.
 */
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { SimulatedDevice } from "../../src/simulator/device";
import { type Background, compileCli, freePort, runProcess, shQuote, startBackground, stopBackground } from "./helpers";

interface Env {
  header: { method: string };
  payload: Record<string, unknown>;
}

function onoffOf(reply: Env): number | undefined {
  const t = reply.payload.togglex as { channel: number; onoff: number } | { channel: number; onoff: number }[];
  const list = Array.isArray(t) ? t : [t];
  return list.find((c) => c.channel === 0)?.onoff;
}

describe("meross executable end to end (compiled, spawned)", function () {
  this.timeout(60_000);
  let bin = "";
  let buildDir = "";
  const running: Background[] = [];

  before(async function () {
    this.timeout(120_000);
    ({ bin, dir: buildDir } = await compileCli());
  });

  after(async () => {
    await Promise.all(running.splice(0).map(stopBackground));
    if (buildDir) await fs.rm(buildDir, { recursive: true, force: true });
  });

  it("compiles to an executable file starting with #!/usr/bin/env node", async () => {
    const head = (await fs.readFile(bin, "utf8")).split("\n")[0];
    assert.equal(head, "#!/usr/bin/env node");
    const r = await runProcess(bin, ["--version"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  it("simulate --key secret; request SET with the key gets a SETACK, GET shows onoff 1, --key wrong exits 1", async () => {
    const port = await freePort();
    const sim = await startBackground(bin, ["simulate", "--port", String(port), "--key", "secret"]);
    running.push(sim);
    assert.match(sim.line, new RegExp(`^simulating msl120 uuid=[0-9a-f]{32} url=http://127\\.0\\.0\\.1:${port}/config$`));

    const addr = `127.0.0.1:${port}`;
    const set = await runProcess(bin, [
      "request",
      addr,
      "SET",
      "Appliance.Control.ToggleX",
      '{"togglex":{"channel":0,"onoff":1}}',
      "--key",
      "secret",
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.equal((JSON.parse(set.stdout) as Env).header.method, "SETACK");

    const get = await runProcess(bin, [
      "request",
      addr,
      "GET",
      "Appliance.Control.ToggleX",
      '{"togglex":{"channel":0}}',
      "--key",
      "secret",
    ]);
    assert.equal(get.code, 0, get.stderr);
    const reply = JSON.parse(get.stdout) as Env;
    assert.equal(reply.header.method, "GETACK");
    assert.equal(onoffOf(reply), 1);

    const wrong = await runProcess(bin, [
      "request",
      addr,
      "SET",
      "Appliance.Control.ToggleX",
      '{"togglex":{"channel":0,"onoff":1}}',
      "--key",
      "wrong",
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /the key is wrong/);
    assert.equal((JSON.parse(wrong.stdout) as Env).header.method, "ERROR");
  });

  it('simulate --unconfigured; wifi, then onboard --from-json "$(meross wifi ... <ssid>)"; afterwards only k2 works', async () => {
    const port = await freePort();
    const sim = await startBackground(bin, ["simulate", "--port", String(port), "--unconfigured"]);
    running.push(sim);
    const addr = `127.0.0.1:${port}`;

    const scan = await runProcess(bin, ["wifi", "--device", addr]);
    assert.equal(scan.code, 0, scan.stderr);
    const nets = JSON.parse(scan.stdout) as { ssid: string; bssid: string }[];
    assert.ok(nets.length > 0);
    const ssid = nets[0].ssid;

    const cmd =
      `${shQuote(bin)} onboard --device ${addr} --host 127.0.0.1 --port 8883 --password pw12345678 --key k2 ` +
      `--from-json "$(${shQuote(bin)} wifi --device ${addr} ${shQuote(ssid)})"`;
    const ob = await runProcess("/bin/sh", ["-c", cmd]);
    assert.equal(ob.code, 0, ob.stderr);
    const log = JSON.parse(ob.stdout) as { steps: { name: string; ok: boolean }[]; wifi: { ssid: string } };
    assert.ok(log.steps.every((s) => s.ok));
    assert.equal(log.steps[log.steps.length - 1].name, "set wifi");
    assert.equal(log.wifi.ssid, ssid);
    assert.doesNotMatch(ob.stdout + ob.stderr, /pw12345678/);

    // The device reboots onto the network after Config.Wifi; poll until it answers again.
    let withK2 = await runProcess(bin, ["request", addr, "GET", "Appliance.System.All", "--key", "k2"]);
    for (let i = 0; i < 50 && withK2.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      withK2 = await runProcess(bin, ["request", addr, "GET", "Appliance.System.All", "--key", "k2"]);
    }
    assert.equal(withK2.code, 0, withK2.stderr);
    const unsigned = await runProcess(bin, ["request", addr, "GET", "Appliance.System.All"]);
    assert.equal(unsigned.code, 1);
    assert.match(unsigned.stderr, /the key is wrong/);
    const other = await runProcess(bin, ["request", addr, "GET", "Appliance.System.All", "--key", "k1"]);
    assert.equal(other.code, 1);
  });

  it("SIGTERM stops simulate cleanly: exit code 0 and the port is released", async () => {
    const port = await freePort();
    const sim = await startBackground(bin, ["simulate", "--port", String(port), "--model", "mss425"]);
    running.push(sim);
    sim.child.kill("SIGTERM");
    const end = await sim.exited;
    assert.deepEqual(end, { code: 0, signal: null });
    assert.equal(sim.stderr(), "");
    const after = await runProcess(bin, ["request", `127.0.0.1:${port}`, "GET", "Appliance.System.All", "--timeout", "3"]);
    assert.equal(after.code, 2);
    assert.match(after.stderr, /connection refused/);
  });

  it("certs, then broker on them with a device logged in; request --broker reaches it; SIGTERM stops the broker with exit 0", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "meross-bin-certs-"));
    try {
      const certs = await runProcess(bin, ["certs", "--host", "127.0.0.1", "--out", dir]);
      assert.equal(certs.code, 0, certs.stderr);
      const port = await freePort();
      const broker = await startBackground(bin, [
        "broker",
        "--certs",
        dir,
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--cert-host",
        "127.0.0.1",
        "--key",
        "simkey",
        "--allow-anonymous",
      ]);
      running.push(broker);
      assert.equal(broker.line, `broker listening on mqtts://127.0.0.1:${port}`);
      assert.match(broker.stderr(), /using certificates for 127\.0\.0\.1/, "the ones certs wrote");

      const sim = await SimulatedDevice.start({ model: "mss310", key: "simkey", gateway: { host: "127.0.0.1", port } });
      try {
        while (sim.mqttState !== "connected") await new Promise((r) => sim.once("mqtt", r));
        const req = await runProcess(bin, [
          "request",
          "--broker",
          `mqtts://127.0.0.1:${port}`,
          "--ca",
          path.join(dir, "ca.crt"),
          "--uuid",
          sim.uuid,
          "GET",
          "Appliance.System.All",
          "--key",
          "simkey",
        ]);
        assert.equal(req.code, 0, req.stderr);
        assert.equal((JSON.parse(req.stdout) as Env).header.method, "GETACK");
      } finally {
        await sim.stop();
      }
      broker.child.kill("SIGTERM");
      assert.deepEqual(await broker.exited, { code: 0, signal: null });
      const after = await runProcess(bin, [
        "request",
        "--broker",
        `mqtts://127.0.0.1:${port}`,
        "--insecure",
        "--uuid",
        "0123456789abcdef0123456789abcdef",
        "GET",
        "Appliance.System.All",
        "--timeout",
        "3",
      ]);
      assert.equal(after.code, 2);
      assert.match(after.stderr, /connection refused/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("bad arguments exit 2 with one line on stderr; unknown commands too", async () => {
    const bad = await runProcess(bin, ["request", "127.0.0.1", "GET"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, "");
    assert.equal(bad.stderr.trimEnd().split("\n").length, 1);
    const unknown = await runProcess(bin, ["nope"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "nope"/);
  });
});
