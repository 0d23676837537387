import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { COMMANDS, run } from "../../src/cli/index";
import { listModels } from "../../src/simulator/models";
import { ROOT, freePort, memIo } from "./helpers";

/** Asserts the "bad arguments" contract: exit 2, nothing on stdout, one line on stderr that says something. */
async function expectUsage(argv: string[], mention: RegExp, env: Record<string, string> = {}): Promise<void> {
  const m = memIo(env);
  const code = await run(argv, m.io);
  assert.equal(code, 2, `exit code for ${argv.join(" ")}; stderr: ${m.err()}`);
  assert.equal(m.out(), "", "nothing on stdout");
  const lines = m.err().split("\n").filter(Boolean);
  assert.equal(lines.length, 1, `one line on stderr, got: ${m.err()}`);
  assert.match(lines[0], mention);
}

describe("meross CLI: help, version and bad arguments", () => {
  it("meross --help and meross help list every command", async () => {
    for (const argv of [["--help"], ["help"], ["-h"]]) {
      const m = memIo();
      assert.equal(await run(argv, m.io), 0);
      for (const name of ["request", "wifi", "onboard", "simulate"]) assert.match(m.out(), new RegExp(`^  ${name}\\s`, "m"));
    }
  });

  it("every command answers --help with its usage on stdout and exit 0", async () => {
    for (const name of Object.keys(COMMANDS)) {
      const m = memIo();
      assert.equal(await run([name, "--help"], m.io), 0, name);
      assert.match(m.out(), new RegExp(`^Usage: meross ${name}`), name);
      assert.equal(m.err(), "");
      const viaHelp = memIo();
      assert.equal(await run(["help", name], viaHelp.io), 0);
      assert.equal(viaHelp.out(), m.out());
    }
  });

  it("--version prints the package version", async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    const m = memIo();
    assert.equal(await run(["--version"], m.io), 0);
    assert.equal(m.out(), `${pkg.version}\n`);
  });

  it("an unknown command exits 2 and names the real ones; no command prints usage and exits 2", async () => {
    await expectUsage(["frobnicate"], /unknown command "frobnicate".*request, wifi, onboard, simulate/);
    const m = memIo();
    assert.equal(await run([], m.io), 2);
    assert.match(m.err(), /Usage: meross <command>/);
  });

  it("request: missing arguments, a bad method, a bad payload, an unknown flag or a bad timeout exit 2 with one line", async () => {
    await expectUsage(["request", "127.0.0.1"], /expected a device, a method and a namespace/);
    await expectUsage(["request", "127.0.0.1", "FETCH", "Appliance.System.All"], /"FETCH" is not a request method: use GET, SET or PUSH/);
    await expectUsage(["request", "127.0.0.1", "SET", "Appliance.Control.ToggleX", "{togglex:1}"], /payload is not valid JSON/);
    await expectUsage(["request", "127.0.0.1", "SET", "Appliance.Control.ToggleX", "[1]"], /payload must be a JSON object/);
    await expectUsage(["request", "127.0.0.1", "GET", "Appliance.System.All", "--bogus"], /Unknown option '--bogus'/);
    await expectUsage(["request", "127.0.0.1", "GET", "Appliance.System.All", "--timeout", "soon"], /--timeout "soon" is not valid/);
    await expectUsage(["request", "127.0.0.1", "GET", "System.All"], /"System.All" is not a Meross namespace/);
    await expectUsage(["request", "not a host", "GET", "Appliance.System.All"], /is not a device address/);
  });

  it("wifi: two SSIDs or a bad timeout exit 2", async () => {
    await expectUsage(["wifi", "a", "b"], /at most one SSID/);
    await expectUsage(["wifi", "--timeout", "0"], /--timeout "0" is not valid/);
  });

  it("onboard: missing broker, network or password, bad numbers and bad --from-json exit 2 before anything is sent", async () => {
    const unused = String(await freePort());
    const dev = ["--device", `127.0.0.1:${unused}`];
    await expectUsage(["onboard", ...dev, "--ssid", "home", "--password", "pw12345678"], /--host is required/);
    await expectUsage(["onboard", ...dev, "--host", "127.0.0.1", "--password", "pw12345678"], /Wi-Fi network is missing/);
    await expectUsage(["onboard", ...dev, "--host", "127.0.0.1", "--ssid", "home"], /Wi-Fi password is missing.*MEROSS_WIFI_PASSWORD/);
    await expectUsage(
      ["onboard", ...dev, "--host", "127.0.0.1", "--ssid", "home", "--password", "pw12345678", "--port", "99999"],
      /--port "99999" is not valid/,
    );
    await expectUsage(
      ["onboard", ...dev, "--host", "127.0.0.1", "--ssid", "home", "--password", "pw12345678", "--channel", "x"],
      /--channel "x" is not valid/,
    );
    await expectUsage(
      ["onboard", ...dev, "--host", "127.0.0.1", "--password", "pw12345678", "--from-json", "{nope"],
      /--from-json is not valid JSON/,
    );
    await expectUsage(
      ["onboard", ...dev, "--host", "127.0.0.1", "--password", "pw12345678", "--from-json", "[]"],
      /--from-json must be one network object/,
    );
    await expectUsage(
      ["onboard", ...dev, "--host", "127.0.0.1", "--ssid", "home", "--password", "pw12345678", "--time-zone", "Mars/Olympus"],
      /not a known time zone/,
    );
  });

  it("onboard: the Wi-Fi password never appears in an error, even a bad-argument one", async () => {
    const m = memIo({ MEROSS_WIFI_PASSWORD: "s3cret-wifi-pass" });
    const code = await run(["onboard", "--host", "127.0.0.1", "--port", "0"], m.io);
    assert.equal(code, 2);
    assert.doesNotMatch(m.err() + m.out(), /s3cret-wifi-pass/);
  });

  it("simulate: an unknown model, a bad port or a bad uuid exit 2 with one line", async () => {
    await expectUsage(["simulate", "--model", "toaster"], /unknown model "toaster": choose one of msl120/);
    await expectUsage(["simulate", "--port", "http"], /--port "http" is not valid/);
    await expectUsage(["simulate", "--uuid", "xyz"], /--uuid "xyz" is not valid/);
  });

  it("simulate --list-models prints one model a line: its name, then its features and description", async () => {
    const m = memIo();
    assert.equal(await run(["simulate", "--list-models"], m.io), 0);
    const lines = m.out().trimEnd().split("\n");
    const models = listModels();
    assert.equal(lines.length, models.length);
    models.forEach((model, i) => {
      assert.ok(lines[i].startsWith(`${model.name} `), lines[i]);
      assert.ok(lines[i].includes(model.description), lines[i]);
      for (const f of model.features) assert.ok(lines[i].includes(f), `${model.name} line mentions ${f}`);
    });
  });
});

describe("meross request: no answer exits 2", () => {
  it("a port with nothing listening is unreachable: exit 2 with the reason, nothing on stdout", async () => {
    const port = await freePort();
    const m = memIo();
    const code = await run(["request", `127.0.0.1:${port}`, "GET", "Appliance.System.All", "--timeout", "3"], m.io);
    assert.equal(code, 2);
    assert.equal(m.out(), "");
    assert.match(m.err(), /^meross request: Could not connect to the device at 127\.0\.0\.1:\d+ \(connection refused\)/);
  });

  it("a device that accepts but never answers times out: exit 2 naming the timeout", async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const m = memIo();
      const code = await run(
        ["request", `127.0.0.1:${port}`, "SET", "Appliance.Control.ToggleX", '{"togglex":{"onoff":1}}', "--timeout", "0.5"],
        m.io,
      );
      assert.equal(code, 2);
      assert.equal(m.out(), "");
      assert.match(m.err(), /did not answer SET Appliance\.Control\.ToggleX within 0\.5 s/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it("a reply that is not an envelope exits 1 (the device answered, but nonsense)", async () => {
    const srv = net.createServer((s) => {
      s.once("data", () => s.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{"half":'));
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const m = memIo();
      const code = await run(["request", `127.0.0.1:${port}`, "SET", "Appliance.Control.ToggleX", "{}"], m.io);
      assert.equal(code, 1);
      assert.match(m.err(), /could not be used \(invalid or truncated JSON/);
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });

  it("wifi and onboard against nothing listening exit 2 too", async () => {
    const port = await freePort();
    const w = memIo();
    assert.equal(await run(["wifi", "--device", `127.0.0.1:${port}`, "--timeout", "3"], w.io), 2);
    assert.match(w.err(), /Could not connect/);
    const o = memIo();
    const code = await run(
      ["onboard", "--device", `127.0.0.1:${port}`, "--host", "127.0.0.1", "--ssid", "home", "--password", "pw12345678", "--timeout", "3"],
      o.io,
    );
    assert.equal(code, 2);
    const log = JSON.parse(o.out()) as { steps: { name: string; ok: boolean }[]; error: { code: string } };
    assert.deepEqual(
      log.steps.map((s) => [s.name, s.ok]),
      [["read device", false]],
    );
    assert.equal(log.error.code, "UNREACHABLE");
    assert.doesNotMatch(o.out() + o.err(), /pw12345678/);
  });
});
