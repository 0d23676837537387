import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { run } from "../../src/cli/index";
import { computeSign } from "../../src/core/protocol/message";
import { SimulatedDevice, type WifiConfigEvent } from "../../src/simulator/device";
import { freePort, memIo } from "./helpers";
import { generateCertificates } from "../../src/core/broker/certs";
import { MerossBroker } from "../../src/core/broker/broker";

interface Env {
  header: { method: string; namespace: string };
  payload: Record<string, unknown>;
}

function onceWifi(dev: SimulatedDevice): Promise<WifiConfigEvent> {
  return new Promise((resolve) => dev.once("wifi", resolve));
}

function onceReboot(dev: SimulatedDevice): Promise<void> {
  return new Promise((resolve) => dev.once("reboot", () => resolve()));
}

describe("meross commands in-process against a simulated device", () => {
  const started: SimulatedDevice[] = [];
  async function sim(opts: Parameters<typeof SimulatedDevice.start>[0]): Promise<SimulatedDevice> {
    const d = await SimulatedDevice.start({ host: "127.0.0.1", port: 0, ...opts });
    started.push(d);
    return d;
  }
  afterEach(async () => {
    await Promise.all(started.splice(0).map((d) => d.stop()));
  });

  describe("request", () => {
    it("prints the GETACK envelope as pretty JSON, with the key taken from MEROSS_KEY", async () => {
      const dev = await sim({ model: "mss310", key: "envkey" });
      const m = memIo({ MEROSS_KEY: "envkey" });
      assert.equal(await run(["request", dev.address, "get", "Appliance.System.All"], m.io), 0, m.err());
      assert.match(m.out(), /^\{\n {2}"header": \{/);
      const reply = JSON.parse(m.out()) as Env;
      assert.equal(reply.header.method, "GETACK");
      assert.equal(reply.header.namespace, "Appliance.System.All");
      assert.match(JSON.stringify(reply.payload), new RegExp(dev.uuid));
      assert.equal(m.err(), "");
    });

    it("--key wins over MEROSS_KEY", async () => {
      const dev = await sim({ key: "flagkey" });
      const m = memIo({ MEROSS_KEY: "other" });
      assert.equal(await run(["request", dev.address, "GET", "Appliance.System.All", "--key", "flagkey"], m.io), 0, m.err());
    });

    it("a wrong key prints the device's ERROR envelope, says the key is wrong on stderr, exits 1, and never shows the key", async () => {
      const dev = await sim({ key: "secret" });
      const m = memIo();
      const code = await run(
        ["request", dev.address, "SET", "Appliance.Control.ToggleX", '{"togglex":{"channel":0,"onoff":1}}', "--key", "wrongkey"],
        m.io,
      );
      assert.equal(code, 1);
      const reply = JSON.parse(m.out()) as Env;
      assert.equal(reply.header.method, "ERROR");
      assert.deepEqual((reply.payload.error as { code: number }).code, 5001);
      assert.match(m.err(), /^meross request: .*the key is wrong/);
      assert.equal(m.err().trimEnd().split("\n").length, 1);
      assert.equal(dev.state.channels[0].on, false, "the device did not switch");
      assert.doesNotMatch(m.out() + m.err(), /wrongkey|secret/);
    });

    it("sends namespaces the device does not list (no ability check) and reports its ERROR 5000 with exit 1", async () => {
      const dev = await sim({ model: "mss310", key: "k" });
      const m = memIo();
      const code = await run(["request", dev.address, "GET", "Appliance.Control.Light", '{"light":{}}', "--key", "k"], m.io);
      assert.equal(code, 1);
      assert.equal((JSON.parse(m.out()) as Env).header.method, "ERROR");
      assert.match(m.err(), /does not support GET Appliance\.Control\.Light/);
    });
    it("a signed reply nested 30,000 levels deep is one clear line and exit 1, not a stack overflow", async () => {
      const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          const rq = JSON.parse(Buffer.concat(chunks).toString()) as { header: { messageId: string; namespace: string } };
          const ts = Math.floor(Date.now() / 1000);
          const header = { ...rq.header, method: "GETACK", timestamp: ts, sign: computeSign(rq.header.messageId, "k", ts) };
          const deep = "[".repeat(30_000) + "]".repeat(30_000);
          res.end(`{"header":${JSON.stringify(header)},"payload":{"all":${deep}}}`);
        });
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      try {
        const m = memIo();
        const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
        assert.equal(await run(["request", address, "GET", "Appliance.System.All", "--key", "k"], m.io), 1);
        assert.match(m.err(), /^meross request: .*nested more than 64 levels deep/);
        assert.doesNotMatch(m.out() + m.err(), /call stack/);
      } finally {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    });
  });

  describe("wifi", () => {
    it("prints every network the device sees, SSIDs decoded, with exactly the documented fields", async () => {
      const dev = await sim({ unconfigured: true });
      const m = memIo();
      assert.equal(await run(["wifi", "--device", dev.address], m.io), 0, m.err());
      const nets = JSON.parse(m.out()) as Record<string, unknown>[];
      assert.deepEqual(
        nets,
        dev.networks.map((n) => ({
          ssid: n.ssid,
          bssid: n.bssid,
          channel: n.channel,
          signal: n.signal,
          encryption: n.encryption,
          cipher: n.cipher,
        })),
      );
      assert.ok(
        nets.some((n) => n.ssid === "Café Wi-Fi"),
        "non-ASCII SSIDs come out readable",
      );
    });

    it("with an SSID prints only that network's object", async () => {
      const dev = await sim({ unconfigured: true });
      const target = dev.networks[1];
      const m = memIo();
      assert.equal(await run(["wifi", "--device", dev.address, target.ssid], m.io), 0, m.err());
      assert.deepEqual(JSON.parse(m.out()), {
        ssid: target.ssid,
        bssid: target.bssid,
        channel: target.channel,
        signal: target.signal,
        encryption: target.encryption,
        cipher: target.cipher,
      });
    });

    it("an SSID the device does not see exits 1 saying not found and listing what it saw", async () => {
      const dev = await sim({ unconfigured: true });
      const m = memIo();
      assert.equal(await run(["wifi", "--device", dev.address, "homenet"], m.io), 1);
      assert.equal(m.out(), "");
      assert.match(m.err(), /network "homenet" not found\. The device sees "HomeNet", "Guest"/);
    });
  });

  describe("onboard", () => {
    it("fills the network from --from-json, lets explicit flags win, and prints the step log without secrets", async () => {
      const dev = await sim({ unconfigured: true });
      const home = dev.networks[0];
      const json = JSON.stringify({ ...home, channel: home.channel });
      const wifi = onceWifi(dev);
      const rebooted = onceReboot(dev);
      const m = memIo();
      const code = await run(
        [
          "onboard",
          "--device",
          dev.address,
          "--host",
          "127.0.0.1",
          "--port",
          "8883",
          "--password",
          "pw12345678",
          "--key",
          "k2",
          "--channel",
          "11",
          "--user-id",
          "42",
          "--from-json",
          json,
        ],
        m.io,
      );
      assert.equal(code, 0, m.err());
      const log = JSON.parse(m.out()) as {
        steps: { name: string; ok: boolean }[];
        device: { uuid: string };
        mqtt: { host: string; port: number };
        wifi: { ssid: string };
      };
      // Every detail was known, so no second scan.
      assert.deepEqual(
        log.steps.map((s) => s.name),
        ["read device", "read abilities", "set key", "set time", "set wifi"],
      );
      assert.ok(log.steps.every((s) => s.ok));
      assert.equal(log.device.uuid, dev.uuid);
      assert.deepEqual([log.mqtt.host, log.mqtt.port], ["127.0.0.1", 8883]);
      const sent = await wifi;
      assert.deepEqual(
        [sent.ssid, sent.bssid, sent.channel, sent.encryption, sent.cipher, sent.password],
        [home.ssid, home.bssid, 11, home.encryption, home.cipher, "pw12345678"],
      );
      await rebooted;
      assert.equal(dev.mode, "normal");
      assert.equal(dev.key, "k2");
      assert.equal(dev.userId, "42");
      assert.deepEqual(dev.gateway?.host, "127.0.0.1");
      assert.doesNotMatch(m.out() + m.err(), /pw12345678/);
      assert.doesNotMatch(m.out() + m.err(), /"k2"/);
      assert.match(m.err(), /ok {3}set wifi/, "progress goes to stderr");
    });

    it("with only --ssid it scans and takes the rest from what the device sees; the password may come from MEROSS_WIFI_PASSWORD", async () => {
      const dev = await sim({ unconfigured: true });
      const guest = dev.networks[1];
      const wifi = onceWifi(dev);
      const m = memIo({ MEROSS_WIFI_PASSWORD: "from-env-pass" });
      assert.equal(
        await run(["onboard", "--device", dev.address, "--host", "127.0.0.1", "--ssid", guest.ssid, "--key", "k3"], m.io),
        0,
        m.err(),
      );
      const log = JSON.parse(m.out()) as { steps: { name: string }[]; mqtt: { port: number } };
      assert.ok(log.steps.some((s) => s.name === "scan wifi"));
      assert.equal(log.mqtt.port, 8883, "default broker port");
      const sent = await wifi;
      assert.deepEqual([sent.bssid, sent.channel, sent.password], [guest.bssid, guest.channel, "from-env-pass"]);
      assert.doesNotMatch(m.out() + m.err(), /from-env-pass/);
    });

    it("a network the device does not see fails at the scan step: partial log on stdout, reason on stderr, exit 1", async () => {
      const dev = await sim({ unconfigured: true });
      const m = memIo();
      const code = await run(
        ["onboard", "--device", dev.address, "--host", "127.0.0.1", "--ssid", "Elsewhere", "--password", "pw12345678"],
        m.io,
      );
      assert.equal(code, 1);
      const log = JSON.parse(m.out()) as { steps: { name: string; ok: boolean }[]; error: { code: string } };
      assert.deepEqual(
        log.steps.map((s) => [s.name, s.ok]),
        [
          ["read device", true],
          ["read abilities", true],
          ["scan wifi", false],
        ],
      );
      assert.match(m.err(), /^meross onboard: The device does not see the Wi-Fi network "Elsewhere"/m);
      assert.equal(dev.mode, "ap", "nothing was configured");
    });

    it("an already configured device refuses the unsigned first step: WRONG_KEY, exit 1, nothing changed", async () => {
      const dev = await sim({ key: "secret" });
      const m = memIo();
      const code = await run(
        ["onboard", "--device", dev.address, "--host", "127.0.0.1", "--ssid", "HomeNet", "--password", "pw12345678", "--key", "new"],
        m.io,
      );
      assert.equal(code, 1);
      const log = JSON.parse(m.out()) as { steps: { name: string; ok: boolean }[]; error: { code: string } };
      assert.equal(log.error.code, "WRONG_KEY");
      assert.deepEqual(
        log.steps.map((s) => [s.name, s.ok]),
        [["read device", false]],
      );
      assert.equal(dev.key, "secret");
    });

    it("after a wrong Wi-Fi password the same command with the right one succeeds; another key is told to factory-reset", async () => {
      const dev = await sim({ unconfigured: true });
      dev.expectWifiPassword("HomeNet", "right-pass-1");
      const args = (password: string, key: string) => [
        "onboard",
        "--device",
        dev.address,
        "--host",
        "127.0.0.1",
        "--ssid",
        "HomeNet",
        "--password",
        password,
        "--key",
        key,
      ];
      let back = onceReboot(dev);
      assert.equal(await run(args("wrong-pass-1", "cli-key"), memIo().io), 0);
      await back;
      assert.deepEqual([dev.mode, dev.key], ["ap", "cli-key"], "the join failed; the device kept the key");

      const other = memIo();
      assert.equal(await run(args("right-pass-1", "a-different-key"), other.io), 1);
      assert.match(other.err(), /already holds a key that was not set from here.*Factory-reset it: hold its button/);
      assert.doesNotMatch(other.out() + other.err(), /another device may be answering|cli-key|a-different-key|right-pass-1/);

      const retry = memIo();
      back = onceReboot(dev);
      assert.equal(await run(args("right-pass-1", "cli-key"), retry.io), 0, retry.err());
      await back;
      assert.deepEqual([dev.mode, dev.wifi?.ssid], ["normal", "HomeNet"]);
    });
  });

  describe("simulate", () => {
    it("prints one ready line, serves requests, and stops cleanly with exit 0 when its signal fires", async () => {
      const port = await freePort();
      const stop = new AbortController();
      const m = memIo({}, stop.signal);
      const running = run(
        ["simulate", "--port", String(port), "--model", "mss310", "--key", "simkey", "--uuid", "0123456789abcdef0123456789abcdef"],
        m.io,
      );
      while (!m.out().includes("\n")) await new Promise((r) => setTimeout(r, 10));
      assert.equal(m.out(), `simulating mss310 uuid=0123456789abcdef0123456789abcdef url=http://127.0.0.1:${port}/config\n`);
      const req = memIo();
      assert.equal(await run(["request", `127.0.0.1:${port}`, "GET", "Appliance.System.All", "--key", "simkey"], req.io), 0, req.err());
      assert.match(req.out(), /0123456789abcdef0123456789abcdef/);
      stop.abort();
      assert.equal(await running, 0);
      const after = memIo();
      assert.equal(
        await run(["request", `127.0.0.1:${port}`, "GET", "Appliance.System.All", "--timeout", "3"], after.io),
        2,
        "the port is closed",
      );
      assert.doesNotMatch(m.out() + m.err(), /simkey/);
    });

    it("--gateway makes the simulated device log in to that broker, like an onboarded one", async function () {
      this.timeout(20000);
      const certs = generateCertificates({ host: "127.0.0.1" });
      const broker = await MerossBroker.start({ port: 0, host: "127.0.0.1", certs, keys: ["gwkey"] });
      try {
        const stop = new AbortController();
        const m = memIo({}, stop.signal);
        const arrived = new Promise<{ uuid: string }>((r) => broker.events.once("device-connected", r));
        const running = run(
          ["simulate", "--key", "gwkey", "--gateway", `127.0.0.1:${broker.port}`, "--uuid", "0123456789abcdef0123456789abcdef"],
          m.io,
        );
        assert.equal((await arrived).uuid, "0123456789abcdef0123456789abcdef");
        stop.abort();
        assert.equal(await running, 0);
      } finally {
        await broker.stop();
      }
      const bad = memIo();
      assert.equal(await run(["simulate", "--gateway", "nohostport"], bad.io), 2);
      assert.match(bad.err(), /is not host:port/);
    });

    it("--status-port adds the live status page to the ready line, and it serves while the device runs", async () => {
      const stop = new AbortController();
      const m = memIo({}, stop.signal);
      const running = run(["simulate", "--status-port", "0", "--unconfigured"], m.io);
      while (!m.out().includes("\n")) await new Promise((r) => setTimeout(r, 10));
      const line = /^simulating msl120 uuid=[0-9a-f]{32} url=(\S+) status=(http:\/\/127\.0\.0\.1:\d+\/) \(unconfigured\)\n$/.exec(m.out());
      assert.ok(line, m.out());
      const page = await fetch(line[2]);
      assert.equal(page.status, 200);
      await page.text();
      const scan = memIo();
      assert.equal(await run(["wifi", "--device", line[1]], scan.io), 0, scan.err());
      stop.abort();
      assert.equal(await running, 0);
    });
  });
});
