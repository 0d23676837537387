/**
 * `meross simulate --fleet N`: N devices log in to one broker, each from its own loopback
 * address (so the broker's per-address login limit refuses none), with uuids fixed by index.
 */
import assert from "node:assert/strict";
import { run } from "../../src/cli/index";
import { MerossBroker } from "../../src/core/broker/broker";
import { generateCertificates } from "../../src/core/broker/certs";
import { memIo } from "./helpers";

describe("meross simulate --fleet", () => {
  let broker: MerossBroker | undefined;
  afterEach(async () => {
    await broker?.stop();
    broker = undefined;
  });

  it("starts 40 configured devices that all log in to the broker at once, and stops them on the signal", async () => {
    const certs = generateCertificates({ host: "127.0.0.1" });
    broker = await MerossBroker.start({ port: 0, host: "127.0.0.1", certs, keys: ["fleet-key"] });
    const refused: string[] = [];
    broker.events.on("refused", (r) => refused.push(r.reason));
    const ctl = new AbortController();
    const m = memIo({}, ctl.signal);
    const running = run(
      ["simulate", "--fleet", "40", "--model", "mss110", "--key", "fleet-key", "--gateway", `127.0.0.1:${broker.port}`],
      m.io,
    );
    const b = broker;
    while (b.devices().filter((d) => b.isConnected(d.uuid)).length < 40) await new Promise((r) => setTimeout(r, 50));
    assert.match(m.out(), /^simulating fleet devices=40 model=mss110 first=\w{32} last=\w{32}\n$/);
    const first = /first=(\w+)/.exec(m.out())?.[1];
    assert.ok(
      b.devices().some((d) => d.uuid === first),
      "the first device named in the ready line is on the broker",
    );
    assert.equal(new Set(b.devices().map((d) => d.ip)).size, 40, "each device from its own address");
    assert.deepEqual(refused, [], "no device was refused");
    ctl.abort();
    assert.equal(await running, 0);
  });

  it("refuses --fleet without a broker, or a fleet of none, with one line", async () => {
    const m = memIo();
    assert.equal(await run(["simulate", "--fleet", "3"], m.io), 2);
    assert.match(m.err(), /--fleet needs --gateway/);
    const n = memIo();
    assert.equal(await run(["simulate", "--fleet", "0", "--gateway", "127.0.0.1:8883"], n.io), 2);
    assert.match(n.err(), /--fleet/);
  });
});
