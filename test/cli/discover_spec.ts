import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { run } from "../../src/cli/index";
import { SimulatedDevice } from "../../src/simulator/device";
import { freePort, memIo } from "./helpers";

const KEY = "cli-discover-key";

describe("meross discover", function () {
  this.timeout(30000);
  let dev: SimulatedDevice;
  let port = 0;
  let dir = "";
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "meross-discover-"));
    port = await freePort();
    dev = await SimulatedDevice.start({ model: "mss310", host: "127.0.0.9", port, key: KEY, appPaired: true });
  });
  after(async () => {
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the devices found, named from the account list, without printing the key", async () => {
    const account = path.join(dir, "account.json");
    writeFileSync(account, JSON.stringify({ userId: "1", devices: [{ uuid: dev.uuid, name: "Patio plug" }] }));
    const keyFile = path.join(dir, "key");
    writeFileSync(keyFile, `${KEY}\n`);
    const m = memIo();
    const code = await run(["discover", "127.0.0.8/30", "--port", String(port), "--key-file", keyFile, "--account", account], m.io);
    assert.equal(code, 0, m.err());
    const out = JSON.parse(m.out()) as { scanned: number; found: Array<Record<string, unknown>> };
    assert.equal(out.scanned, 2);
    assert.deepEqual(
      out.found.map((f) => [f.address, f.uuid, f.name, f.keyFits, f.boundTo]),
      [["127.0.0.9", dev.uuid, "Patio plug", true, "meross-cloud"]],
    );
    assert.ok(!m.out().includes(KEY) && !m.err().includes(KEY));
  });

  it("refuses a /8 with a sentence, exit 2, nothing sent", async () => {
    const before = dev.requestCount;
    const m = memIo({ MEROSS_KEY: KEY });
    assert.equal(await run(["discover", "127.0.0.0/8", "--port", String(port)], m.io), 2);
    assert.match(m.err(), /too many to scan .* usually a \/24/);
    assert.equal(dev.requestCount, before);
  });
});
