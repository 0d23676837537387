import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { DEMO_ACCOUNT, DEMO_FLEET, demoCloudAccount, startDemo } from "../../src/simulator/demo";
import { SimulatedCloud } from "../../src/simulator/cloud";
import { fetchCloudAccount } from "../../src/core/cloud";
import type { Fleet } from "../../src/simulator/fleet";
import { demoFlow, ROW, setupFromFleet } from "../../scripts/demo-flow";
import { banner, LinePrefixer } from "../../scripts/demo-output";
import { checkDemoPorts, DEFAULT_PORTS, DEMO_HELP, parseDemoArgs } from "../../scripts/demo-options";
import { spawn } from "node:child_process";
import net from "node:net";
import os from "node:os";

/** What `npm start` prints and deploys, checked without starting Node-RED. */
describe("npm start demo", function () {
  this.timeout(30000);
  let fleet: Fleet;

  before(async () => {
    fleet = await startDemo({ key: "demo-key-1234" });
  });
  after(async () => {
    await fleet?.stop();
  });

  it("prefixes each Node-RED log line exactly once, however the output is split into chunks", () => {
    let out = "";
    const p = new LinePrefixer("  [node-red] ", (t) => (out += t));
    // Node-RED writes several lines per chunk and may split a line between chunks.
    p.push("29 Nov 15:00:00 - [info] Welcome\n29 Nov 15:00:00 - [info] Node-RED version: v4.1.15\n");
    p.push("29 Nov 15:00:01 - [info] Server now run");
    p.push("ning at http://127.0.0.1:1880/\n");
    p.push("29 Nov 15:00:01 - [info] Started flows");
    p.flush();
    const lines = out.split("\n").filter((l) => l !== "");
    assert.deepEqual(lines, [
      "  [node-red] 29 Nov 15:00:00 - [info] Welcome",
      "  [node-red] 29 Nov 15:00:00 - [info] Node-RED version: v4.1.15",
      "  [node-red] 29 Nov 15:00:01 - [info] Server now running at http://127.0.0.1:1880/",
      "  [node-red] 29 Nov 15:00:01 - [info] Started flows",
    ]);
    assert.doesNotMatch(out, /\[node-red\]\s+\[node-red\]/);
  });

  it("prints the demo key and every device's name, model and address", () => {
    const devices = fleet.devices.map((d) => ({
      name: d.name ?? d.model.name,
      model: d.model.name,
      mode: d.mode,
      address: d.address,
      uuid: d.uuid,
    }));
    const text = banner({
      editorUrl: "http://127.0.0.1:1880/",
      statusUrl: fleet.statusUrl,
      brokerUrl: "mqtts://127.0.0.1:18883",
      key: "demo-key-1234",
      wifi: { ssid: "HomeNet", password: "demo-wifi-pass" },
      devices,
    }).join("\n");
    assert.match(text, /Demo device key:\s+demo-key-1234/);
    assert.match(text, /Node-RED editor:\s+http:\/\/127\.0\.0\.1:1880\//);
    assert.match(text, new RegExp(`Simulated devices page: ${fleet.statusUrl.replace(/[.]/g, "\\.")}`));
    assert.match(text, /Embedded MQTT broker:\s+mqtts:\/\/127\.0\.0\.1:18883/);
    assert.match(text, /Demo Wi-Fi network:\s+HomeNet\s+password: demo-wifi-pass\s+\(to onboard the device in access-point mode\)/);
    assert.match(text, /npm start -- --help/);
    for (const d of devices) {
      const line = text.split("\n").find((l) => l.includes(d.name));
      assert.ok(line, `${d.name} is not listed`);
      assert.ok(line.includes(d.address) && line.includes(d.model) && line.includes(d.uuid), `incomplete line: ${line}`);
    }
  });

  it("serves the simulated Meross account: the banner names it, and signing in lists the app-paired devices", async () => {
    const account = demoCloudAccount(fleet);
    const cloud = await SimulatedCloud.start([account], 0);
    try {
      const text = banner({
        editorUrl: "http://127.0.0.1:1880/",
        statusUrl: fleet.statusUrl,
        brokerUrl: "mqtts://127.0.0.1:18883",
        key: "demo-key-1234",
        wifi: { ssid: "HomeNet", password: "demo-wifi-pass" },
        cloud: { url: cloud.url, email: account.email, password: account.password },
        devices: [],
      }).join("\n");
      const line = text.split("\n").find((l) => l.startsWith("Simulated Meross account:"));
      assert.ok(line, text);
      for (const part of [cloud.url, DEMO_ACCOUNT.email, DEMO_ACCOUNT.password, `meross cloud --api ${cloud.url}`])
        assert.ok(line.includes(part), line);
      const signedIn = await fetchCloudAccount({ email: DEMO_ACCOUNT.email, password: DEMO_ACCOUNT.password, apiUrl: cloud.url });
      const appPaired = DEMO_FLEET.filter((d) => d.appPaired).map((d) => d.name);
      assert.deepEqual(
        signedIn.devices.map((d) => d.name),
        appPaired,
      );
      assert.equal(signedIn.key, "demo-key-1234", "the account key is the key the app-paired devices sign with");
    } finally {
      await cloud.stop();
    }
  });

  it("lays out the demo tab in rows far enough apart that a node's status is not hidden by the next row", () => {
    const setup = setupFromFleet(fleet, { key: "demo-key-1234", wifiPassword: "pw-12345678", brokerPort: 18883 });
    const nodes = demoFlow(setup).flows.filter((n) => typeof n.x === "number" && typeof n.y === "number" && n.type !== "tab");
    assert.ok(ROW >= 60, "a row must leave room for a 30 px node and its status line");
    for (const a of nodes) {
      for (const b of nodes) {
        if (a === b || Math.abs(Number(a.x) - Number(b.x)) > 200) continue;
        const dy = Math.abs(Number(a.y) - Number(b.y));
        // Same row (side by side) or at least one status line apart.
        assert.ok(dy === 0 || dy >= 60, `"${String(a.name)}" and "${String(b.name)}" are only ${dy} px apart`);
      }
    }
  });

  it("does not share device names with the examples (the device picker would list both)", () => {
    const dir = path.resolve(__dirname, "..", "..", "examples");
    const exampleNames = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .flatMap((f) =>
        (JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Array<{ type: string; name?: string }>)
          .filter((n) => n.type === "meross-config")
          .map((n) => n.name),
      );
    const clash = DEMO_FLEET.map((d) => d.name).filter((n) => exampleNames.includes(n));
    assert.deepEqual(clash, []);
  });
});

/** `npm start` options: --help, a flag or variable per port, and a busy port refused by name. */
describe("npm start options and ports", function () {
  this.timeout(30000);
  const ROOT = path.resolve(__dirname, "..", "..");

  /** Runs scripts/start.ts as `npm start` does (without the build), in a throwaway demo folder. */
  function runStart(
    args: string[],
    env: Record<string, string> = {},
  ): Promise<{ code: number | null; out: string; err: string; dir: string }> {
    const dir = path.join(os.tmpdir(), `meross-demo-${process.pid}-${Math.random().toString(36).slice(2)}`);
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts", ...args], {
        cwd: ROOT,
        env: { ...process.env, MEROSS_DEMO_DIR: dir, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (err += c.toString()));
      // A demo that did start (the bug this guards against) is stopped rather than left running.
      const guard = setTimeout(() => child.kill("SIGTERM"), 20_000);
      child.once("error", reject);
      child.once("exit", (code) => {
        clearTimeout(guard);
        resolve({ code, out, err, dir });
      });
    });
  }

  function hold(): Promise<{ port: number; close: () => Promise<void> }> {
    return new Promise((resolve) => {
      const s = net.createServer();
      s.listen(0, "127.0.0.1", () => {
        const port = (s.address() as net.AddressInfo).port;
        resolve({ port, close: () => new Promise<void>((r) => s.close(() => r())) });
      });
    });
  }

  it("reads every port from its flag or environment variable, the flag winning", () => {
    assert.deepEqual(parseDemoArgs([], {}).ports, DEFAULT_PORTS);
    const env = {
      PORT: "1999",
      MEROSS_STATUS_PORT: "18200",
      MEROSS_BROKER_PORT: "18999",
      MEROSS_DEVICE_PORT: "19101",
      MEROSS_CLOUD_PORT: "18190",
    };
    assert.deepEqual(parseDemoArgs([], env).ports, { editor: 1999, status: 18200, broker: 18999, devices: 19101, cloud: 18190 });
    const both = parseDemoArgs(
      ["--port", "2001", "--status-port=18300", "--broker-port", "8883", "--device-port", "20101", "--cloud-port", "18290", "--reset"],
      env,
    );
    assert.deepEqual(both.ports, { editor: 2001, status: 18300, broker: 8883, devices: 20101, cloud: 18290 });
    assert.equal(both.reset, true);
    assert.equal(parseDemoArgs(["--help"], {}).help, true);
    assert.throws(
      () => parseDemoArgs(["--status-port", "abc"], {}),
      /--status-port "abc" is not a port: use a whole number from 1 to 65535/,
    );
    assert.throws(() => parseDemoArgs([], { MEROSS_BROKER_PORT: "70000" }), /MEROSS_BROKER_PORT "70000" is not a port/);
    assert.throws(() => parseDemoArgs(["--colour"], {}), /Unknown option "--colour"\. npm start -- --help lists the options/);
  });

  it("--help lists every port with its flag and variable", () => {
    for (const word of [
      "--port",
      "PORT",
      "--status-port",
      "MEROSS_STATUS_PORT",
      "--broker-port",
      "MEROSS_BROKER_PORT",
      "--device-port",
      "MEROSS_DEVICE_PORT",
      "--cloud-port",
      "MEROSS_CLOUD_PORT",
      "--reset",
    ]) {
      assert.ok(DEMO_HELP.includes(word), `--help does not mention ${word}`);
    }
  });

  /** A port nothing listens on (just released). */
  async function freePort(): Promise<number> {
    const h = await hold();
    await h.close();
    return h.port;
  }

  it("a busy port is refused with its number, what it is for, and the flag and variable to choose another", async () => {
    const busy = await hold();
    try {
      const ports = {
        editor: await freePort(),
        status: busy.port,
        broker: await freePort(),
        devices: await freePort(),
        cloud: await freePort(),
      };
      await assert.rejects(checkDemoPorts(ports, ["Plug"]), (err: Error) => {
        const next = busy.port + 100;
        assert.match(
          err.message,
          new RegExp(`^Port ${busy.port} on 127\\.0\\.0\\.1, for the simulated devices page, is already in use, so the demo did not start`),
        );
        assert.match(
          err.message,
          new RegExp(`choose another port: npm start -- --status-port ${next} \\(or set MEROSS_STATUS_PORT=${next}\\)`),
        );
        return true;
      });
    } finally {
      await busy.close();
    }
    const same = await freePort();
    await assert.rejects(
      checkDemoPorts({ editor: same, status: same, broker: await freePort(), devices: await freePort(), cloud: await freePort() }, []),
      new RegExp(`Port ${same} is chosen for both the Node-RED editor and the simulated devices page`),
    );
  });

  it("`npm start -- --help` prints the usage and starts nothing", async () => {
    const r = await runStart(["--help"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Usage: npm start \[-- options\]/);
    assert.match(r.out, /MEROSS_STATUS_PORT/);
    assert.doesNotMatch(r.out, /Node-RED editor:|\[node-red\]/);
    assert.equal(fs.existsSync(r.dir), false, "no demo folder was made");
  });

  it("`npm start` with its devices page port in use refuses to start, naming the port and how to choose another", async () => {
    const busy = await hold();
    try {
      const env = { PORT: String(await freePort()), MEROSS_BROKER_PORT: String(await freePort()), MEROSS_STATUS_PORT: String(busy.port) };
      const r = await runStart(["--device-port", String(await freePort())], env);
      assert.equal(r.code, 1, r.out);
      assert.match(
        r.err,
        new RegExp(`^npm start: Port ${busy.port} on 127\\.0\\.0\\.1, for the simulated devices page, is already in use`),
      );
      assert.match(r.err, /--status-port \d+ \(or set MEROSS_STATUS_PORT=\d+\)/);
      assert.equal(fs.existsSync(r.dir), false, "nothing was started or written");
    } finally {
      await busy.close();
    }
  });

  it("`npm start` with the simulated account's port in use refuses to start, naming it and how to choose another", async () => {
    const busy = await hold();
    try {
      const env = {
        PORT: String(await freePort()),
        MEROSS_BROKER_PORT: String(await freePort()),
        MEROSS_STATUS_PORT: String(await freePort()),
        MEROSS_CLOUD_PORT: String(busy.port),
      };
      const r = await runStart(["--device-port", String(await freePort())], env);
      assert.equal(r.code, 1, r.out);
      assert.match(
        r.err,
        new RegExp(`^npm start: Port ${busy.port} on 127\\.0\\.0\\.1, for the simulated Meross account service, is already in use`),
      );
      assert.match(r.err, /--cloud-port \d+ \(or set MEROSS_CLOUD_PORT=\d+\)/);
      assert.equal(fs.existsSync(r.dir), false, "nothing was started or written");
    } finally {
      await busy.close();
    }
  });
});
