import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { run } from "../../src/cli/index";
import { SimulatedDevice, type RequestEvent } from "../../src/simulator/device";
import { freePort, memIo } from "./helpers";

const ACCOUNT_KEY = "migrate-account-key";
const NEW_KEY = "migrate-new-key";
const OTHER_KEY = "someone-elses-key";

/** outcome per address, from the printed lines "outcome   address  uuid ...: why". */
function outcomes(out: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const l of out.trim().split("\n")) {
    const m = /^(moved|already moved|wrong key|unreachable|did not arrive|failed)\s+(\S+)/.exec(l);
    assert.ok(m, `not a migrate line: ${l}`);
    map.set(m[2], m[1]);
  }
  return map;
}

describe("meross migrate: app-paired devices move to the embedded broker", function () {
  this.timeout(60_000);
  const devices: SimulatedDevice[] = [];
  let other: SimulatedDevice;
  let dir = "";
  let devicePort = 0;
  let brokerPort = 0;
  let argv: string[] = [];
  const hosts = ["127.0.0.21", "127.0.0.22", "127.0.0.23"];
  const silent = "127.0.0.25";

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "meross-migrate-"));
    devicePort = await freePort();
    brokerPort = await freePort();
    for (const [i, host] of hosts.entries()) {
      const model = ["mss310", "msl120", "mss110"][i];
      devices.push(await SimulatedDevice.start({ model, host, port: devicePort, key: ACCOUNT_KEY, appPaired: true, mqttReconnectMs: 200 }));
    }
    other = await SimulatedDevice.start({ model: "mss210", host: "127.0.0.24", port: devicePort, key: OTHER_KEY, appPaired: true });
    const keyFile = path.join(dir, "account-key");
    const newKeyFile = path.join(dir, "new-key");
    writeFileSync(keyFile, `${ACCOUNT_KEY}\n`);
    writeFileSync(newKeyFile, `${NEW_KEY}\n`);
    argv = [
      "migrate",
      [...hosts, "127.0.0.24", silent].join(","),
      "--device-port",
      String(devicePort),
      "--key-file",
      keyFile,
      "--new-key-file",
      newKeyFile,
      "--host",
      "127.0.0.1",
      "--port",
      String(brokerPort),
      "--listen",
      "127.0.0.1",
      "--certs",
      path.join(dir, "certs"),
      "--wait",
      "20",
      "--timeout",
      "2",
    ];
  });
  after(async () => {
    await Promise.all([...devices, other].map((d) => d?.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("moves each device the account key fits, reports the others, and touches none of them", async () => {
    const toOther: string[] = [];
    other.on("request", (e: RequestEvent) => toOther.push(`${e.method} ${e.namespace}`));
    const m = memIo();
    const code = await run(argv, m.io);
    assert.equal(code, 1, "not every device could be moved");
    const got = outcomes(m.out());
    assert.deepEqual(
      [...hosts, "127.0.0.24", silent].map((a) => got.get(a)),
      ["moved", "moved", "moved", "wrong key", "unreachable"],
      m.out() + m.err(),
    );
    assert.match(m.out(), /moved .* logged in to 127\.0\.0\.1:\d+/);
    assert.match(m.out(), /wrong key +127\.0\.0\.24 .* refuses the account key and the new key.*left untouched/);
    for (const d of devices) {
      assert.equal(d.key, NEW_KEY);
      assert.equal(d.gateway?.port, brokerPort);
    }
    assert.equal(other.key, OTHER_KEY, "the device with another key keeps it");
    assert.match(other.gateway?.host ?? "", /meross\.com$/, "it still points at the Meross cloud");
    // Only looked at (with the account key, then the new key): no Config.Key.
    assert.ok(toOther.length > 0);
    assert.deepEqual(
      toOther.filter((r) => !r.startsWith("GET")),
      [],
    );
    assert.match(m.err(), /3 of 5 device\(s\) on the broker/);
    for (const secret of [ACCOUNT_KEY, NEW_KEY, OTHER_KEY]) assert.ok(!(m.out() + m.err()).includes(secret), "no key is printed");
  });

  it("a second run says already moved and sends nothing to the moved devices", async () => {
    const http: string[][] = devices.map(() => []);
    devices.forEach((d, i) => d.on("request", (e: RequestEvent) => e.via === "http" && http[i].push(`${e.method} ${e.namespace}`)));
    const m = memIo();
    assert.equal(await run(argv, m.io), 1);
    const got = outcomes(m.out());
    assert.deepEqual(
      hosts.map((a) => got.get(a)),
      ["already moved", "already moved", "already moved"],
      m.out(),
    );
    assert.equal(got.get("127.0.0.24"), "wrong key");
    // Looked at over HTTP (the account key is refused, the new key answers), nothing set.
    assert.deepEqual(
      http.map((reqs) => reqs.filter((r) => r.startsWith("SET"))),
      [[], [], []],
    );
  });

  it("--broker HOST:PORT: moves a device to a running broker without starting one, and says its login is not watched", async () => {
    const dev = await SimulatedDevice.start({ model: "mss310", host: "127.0.0.26", port: devicePort, key: ACCOUNT_KEY, appPaired: true });
    try {
      const m = memIo({ MEROSS_KEY: ACCOUNT_KEY, MEROSS_NEW_KEY: NEW_KEY });
      const code = await run(
        ["migrate", "127.0.0.26", "--device-port", String(devicePort), "--broker", "192.0.2.10:8883", "--user-id", "7"],
        m.io,
      );
      assert.equal(code, 0, m.out() + m.err());
      assert.match(m.out(), /^moved +127\.0\.0\.26 .* re-bound to 192\.0\.2\.10:8883; its login there is not watched from here/);
      assert.doesNotMatch(m.err(), /broker listening/);
      assert.equal(dev.key, NEW_KEY);
      assert.deepEqual([dev.gateway?.host, dev.gateway?.port, dev.userId], ["192.0.2.10", 8883, "7"]);
    } finally {
      await dev.stop();
    }
  });

  it("a device told an address where the broker is not: did not arrive, with the diagnosis, after --wait", async () => {
    const dev = await SimulatedDevice.start({ model: "mss310", host: "127.0.0.27", port: devicePort, key: ACCOUNT_KEY, appPaired: true });
    try {
      const m = memIo({ MEROSS_KEY: ACCOUNT_KEY, MEROSS_NEW_KEY: NEW_KEY });
      const port = await freePort();
      const args = ["migrate", "127.0.0.27", "--device-port", String(devicePort), "--host", "127.0.0.2", "--port", String(port)];
      const code = await run([...args, "--listen", "127.0.0.1", "--certs", path.join(dir, "certs-2"), "--wait", "1"], m.io);
      assert.equal(code, 1);
      assert.match(
        m.out(),
        /^did not arrive +127\.0\.0\.27 .* did not log in to the MQTT broker within 1 s: .*check the broker host and port/,
      );
    } finally {
      await dev.stop();
    }
  });

  it("bad arguments exit 2 with one line and nothing sent", async () => {
    for (const [args, mention] of [
      [["migrate", "--key", "k", "--host", "h", "--certs", "c"], /subnet/],
      [["migrate", "127.0.0.0/8", "--key", "k", "--host", "h", "--certs", "c"], /too many to scan/],
      [["migrate", "127.0.0.21", "--host", "h", "--certs", "c"], /account key is missing/],
      [["migrate", "127.0.0.21", "--key", "k", "--certs", "c"], /--host is required/],
      [["migrate", "127.0.0.21", "--key", "k", "--broker", "nohost"], /not HOST:PORT/],
      [["migrate", "127.0.0.21", "--key", "k", "--host", "h", "--certs", "c", "--mosquitto", "d"], /--mosquitto needs --broker/],
    ] as Array<[string[], RegExp]>) {
      const m = memIo();
      assert.equal(await run(args, m.io), 2, args.join(" "));
      assert.equal(m.out(), "");
      assert.match(m.err(), mention);
    }
  });
});
