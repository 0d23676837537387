import assert from "node:assert/strict";
import brokerModule = require("../../src/nodes/meross-broker");
import onboardModule = require("../../src/nodes/meross-onboard");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, startDevice, nextMessage, onTab, CATCH_NODES, useRuntime } from "./helpers";
import { brokerNode, getBroker, statuses } from "./broker-helpers";

const APP_KEY = "the-meross-account-key";
const NEW_KEY = "moved-home-key";
const OTHER_KEY = "someone-elses-account";

type Line = { address: string; uuid?: string; name?: string; outcome: string; why: string };

describe("meross-onboard in re-bind mode with several devices: the home moves in one message", function () {
  const sims: SimulatedDevice[] = [];

  useRuntime(async () => {
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });

  async function load(address = "") {
    for (const [model, key] of [
      ["mss310", APP_KEY],
      ["msl120", APP_KEY],
      ["mss210", OTHER_KEY],
    ]) {
      sims.push(await startDevice({ model, key, appPaired: true, mqttReconnectMs: 50 }));
    }
    const flow = onTab(
      [brokerNode()],
      [
        {
          id: "o1",
          type: "meross-onboard",
          mode: "rebind",
          address,
          mqttHost: "",
          mqttPort: "",
          userId: "7",
          broker: "b1",
          timeout: "20",
          wires: [["out"]],
        },
        { id: "out", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load([brokerModule, onboardModule], flow, { o1: { currentKey: APP_KEY, key: NEW_KEY } });
    return { o1: helper.getNode("o1"), out: helper.getNode("out"), caught: helper.getNode("caught") };
  }

  it("moves each listed device whose key fits, waits for each, and answers one line per device", async function () {
    this.timeout(40_000);
    const { o1, out } = await load();
    const st = statuses(o1);
    const [a, b, other] = sims;
    const list = [
      { host: a.address, uuid: a.uuid, name: "Patio plug" },
      { host: b.address, uuid: b.uuid },
      { host: other.address, uuid: other.uuid },
      { host: "127.0.0.1:1" },
    ];
    const got = nextMessage<{ payload: Line[] }>(out, 40_000);
    o1.receive({ payload: list });
    const lines = (await got).payload;
    assert.deepEqual(
      lines.map((l) => [l.address, l.outcome]),
      [
        [a.address, "moved"],
        [b.address, "moved"],
        [other.address, "wrong key"],
        ["127.0.0.1:1", "unreachable"],
      ],
    );
    assert.equal(lines[0].name, "Patio plug");
    assert.equal(a.key, NEW_KEY);
    assert.equal(b.key, NEW_KEY);
    assert.equal(other.key, OTHER_KEY, "a device whose key is neither is not touched");
    const online = getBroker()
      .devices()
      .map((d) => d.uuid);
    assert.ok(online.includes(a.uuid) && online.includes(b.uuid), "both moved devices are on the broker");
    assert.equal(st[st.length - 1].text, "2 of 4 on the broker");

    // Running it again skips what is done.
    const again = nextMessage<{ payload: Line[] }>(out, 40_000);
    o1.receive({ payload: list.slice(0, 2) });
    assert.deepEqual(
      (await again).payload.map((l) => l.outcome),
      ["already moved", "already moved"],
    );
    const everything = JSON.stringify({ lines, st, logs: helper.log().args });
    assert.ok(![APP_KEY, NEW_KEY, OTHER_KEY].some((k) => everything.includes(k)), "no key in the output, status or log");
  });

  it("refuses a bad list or a /8 with a sentence and sends nothing", async () => {
    const { o1, caught } = await load();
    for (const [payload, want] of [
      [[], /is empty/],
      [[{ uuid: "x" }], /Device 1 of the list .* has no address/],
      [["10.0.0.0/8"], /too many to scan/],
      [["not an address"], /is not an IPv4 address/],
    ] as const) {
      const got = nextMessage<{ error: { code: string; message: string } }>(caught);
      o1.receive({ payload });
      const msg = await got;
      assert.equal(msg.error.code, "BAD_INPUT");
      assert.match(msg.error.message, want);
    }
    assert.ok(sims.every((s) => s.key !== NEW_KEY));
  });
});
