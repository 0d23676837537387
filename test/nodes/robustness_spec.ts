import assert from "node:assert/strict";
import path from "node:path";
import configNodeModule = require("../../src/nodes/meross-config");
import toggleNode = require("../../src/nodes/meross-toggle");
import lightNode = require("../../src/nodes/meross-light");
import requestNode = require("../../src/nodes/meross-request");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, collect, configNode, waitFor, onTab, CATCH_NODES } from "./helpers";

type Msg = Record<string, unknown> & { _msgid?: string };
const NODES = [configNodeModule, toggleNode, lightNode, requestNode];

// The helper wraps these prototype methods with sinon on load; a plain recorder underneath sees every call from load on.
// The runtime of the Node-RED under test (NR_PATH selects Node-RED 5 in scripts/nr5.js), not necessarily ours.
const runtimeNode = require.resolve("@node-red/runtime/lib/nodes/Node", {
  paths: [process.env.NR_PATH ? path.dirname(process.env.NR_PATH) : __dirname],
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
const NodeProto = (require(runtimeNode) as { prototype: Record<string, (...a: unknown[]) => unknown> }).prototype;

describe("meross nodes under bad conditions", function () {
  const sims: SimulatedDevice[] = [];
  const calls: Array<{ method: string; id: string; args: unknown[] }> = [];
  const originals = new Map<string, (...a: unknown[]) => unknown>();

  beforeEach((done) => {
    calls.length = 0;
    for (const m of ["status", "log", "warn", "error"]) {
      const orig = NodeProto[m];
      originals.set(m, orig);
      NodeProto[m] = function (this: { id: string }, ...args: unknown[]) {
        calls.push({ method: m, id: this.id, args });
        return orig.apply(this, args);
      };
    }
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    for (const [m, orig] of originals) NodeProto[m] = orig;
    while (sims.length) await sims.pop()!.stop();
  });

  async function sim(opts: Parameters<typeof startDevice>[0] = {}): Promise<SimulatedDevice> {
    const s = await startDevice(opts);
    sims.push(s);
    return s;
  }

  function flowFor(host: string) {
    return onTab(
      [configNode("c1", host)],
      [
        { id: "t1", type: "meross-toggle", device: "c1", channel: "", wires: [["out"]] },
        { id: "l1", type: "meross-light", device: "c1", wires: [["out"]] },
        { id: "r1", type: "meross-request", device: "c1", method: "", namespace: "", wires: [["out"]] },
        { id: "out", type: "helper" },
        { id: "completer", type: "complete", scope: ["t1", "l1", "r1"], uncaught: false, wires: [["completed"]] },
        { id: "completed", type: "helper" },
        ...CATCH_NODES,
      ],
    );
  }

  it("says WRONG_KEY with a sentence when the config's key is not the device's", async () => {
    const s = await sim({ model: "mss310" });
    await helper.load(NODES, flowFor(s.address), { c1: { key: "not-the-right-key" } });
    const got = nextMessage<Msg>(helper.getNode("caught"));
    helper.getNode("t1").receive({ payload: "on" });
    const err = (await got).error as { code: string; message: string; source: { id: string } };
    assert.equal(err.code, "WRONG_KEY");
    assert.match(err.message, /the key is wrong/);
    assert.equal(err.source.id, "t1");
    assert.equal(s.state.channels[0].on, false);
    const t1Status = calls.filter((c) => c.method === "status" && c.id === "t1").map((c) => c.args[0]);
    assert.deepEqual(t1Status[t1Status.length - 1], { fill: "red", shape: "ring", text: "dev · wrong key" });
  });

  it("says UNREACHABLE when nothing answers at the address", async () => {
    const s = await sim({ model: "mss310" });
    const address = s.address;
    await s.stop();
    await helper.load(NODES, flowFor(address), { c1: { key: KEY } });
    const got = nextMessage<Msg>(helper.getNode("caught"));
    helper.getNode("t1").receive({ payload: true });
    const err = (await got).error as { code: string; message: string };
    assert.equal(err.code, "UNREACHABLE");
    assert.match(err.message, /Could not connect to the device at 127\.0\.0\.1:/);
  });

  it("finishes every garbage message with done or done(err) and keeps working", async function () {
    this.timeout(30000);
    const s = await sim({ model: "msl120" });
    await helper.load(NODES, flowFor(s.address), { c1: { key: KEY } });
    const completes = collect<Msg>(helper.getNode("completed"));
    const errors = collect<Msg>(helper.getNode("caught"));
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const garbage: unknown[] = [
      undefined,
      null,
      NaN,
      Infinity,
      -Infinity,
      1e308,
      -5,
      101,
      0.5,
      "",
      "   ",
      "blah",
      "#12345",
      "rgb(300,0,0)",
      "99999K",
      [],
      [1, 2],
      [1, 2, 3, 4],
      {},
      { foo: 1 },
      { brightness: "x" },
      { brightness: NaN },
      { on: "maybe" },
      { rgb: {} },
      { temperature: -1 },
      { mired: 0 },
      { hue: 10 },
      { rgb: "#ff0000", temperature: 3000 },
      { mode: "disco", rgb: "#fff" },
      { transition: -4, on: true },
      { toString: 1 },
      circular,
      true,
      false,
      "toggle",
    ];
    const channels: unknown[] = [undefined, "abc", -1, 1.5, {}, 999, "0"];
    let sent = 0;
    for (const [i, payload] of garbage.entries()) {
      for (const id of ["t1", "l1", "r1"]) {
        const msg: Msg = { payload, _msgid: `g-${id}-${i}` };
        if (id === "t1") msg.channel = channels[i % channels.length];
        if (id === "r1") msg.topic = i % 2 ? "Appliance.System.All" : i % 3 ? { x: 1 } : "Appliance.Nope.Nothing";
        helper.getNode(id).receive(msg);
        sent++;
      }
    }
    const mine = (l: Msg[]): Msg[] => l.filter((m) => String(m._msgid).startsWith("g-"));
    await waitFor(() => mine(completes).length + mine(errors).length >= sent, 25000, `all ${sent} messages to finish`);
    // One good message behind the garbage through each node: a late second done() would come before these finish.
    const after: Array<[string, Msg]> = [
      ["t1", { payload: "on", _msgid: "after-t1" }],
      ["l1", { payload: 40, _msgid: "after-l1" }],
      ["r1", { topic: "Appliance.System.All", payload: {}, _msgid: "after-r1" }],
    ];
    for (const [id, msg] of after) helper.getNode(id).receive(msg);
    await waitFor(() => after.every(([, msg]) => completes.some((m) => m._msgid === msg._msgid)), 8000, "the good messages to finish");
    const ids = [...mine(completes), ...mine(errors)].map((m) => m._msgid);
    assert.equal(new Set(ids).size, sent, "each message finished once");
    assert.equal(ids.length, sent, "no message finished twice");
    for (const e of mine(errors)) {
      const err = e.error as { code?: string; message: string };
      assert.ok(err.code, `every error has a code: ${err.message}`);
      assert.ok(err.message.length > 20, "every error is a sentence");
    }

    const got = nextMessage<Msg>(helper.getNode("out"));
    helper.getNode("l1").receive({ payload: 33 });
    assert.equal(((await got).payload as { brightness: number }).brightness, 33, "still working afterwards");
  });

  it("runs two configs with different keys side by side", async () => {
    const a = await startDevice({ model: "mss310", key: "key-for-plug-a" });
    const b = await startDevice({ model: "mss310", key: "key-for-plug-b" });
    sims.push(a, b);
    const flow = onTab(
      [configNode("ca", a.address), configNode("cb", b.address)],
      [
        { id: "ta", type: "meross-toggle", device: "ca", channel: "0", wires: [["outA"]] },
        { id: "tb", type: "meross-toggle", device: "cb", channel: "0", wires: [["outB"]] },
        { id: "outA", type: "helper" },
        { id: "outB", type: "helper" },
      ],
    );
    await helper.load(NODES, flow, { ca: { key: "key-for-plug-a" }, cb: { key: "key-for-plug-b" } });
    const gotA = nextMessage<Msg>(helper.getNode("outA"));
    const gotB = nextMessage<Msg>(helper.getNode("outB"));
    helper.getNode("ta").receive({ payload: "on" });
    helper.getNode("tb").receive({ payload: "off" });
    helper.getNode("tb").receive({ payload: "toggle" });
    assert.equal((await gotA).payload, true);
    await gotB;
    await waitFor(() => b.state.channels[0].on, 5000, "plug b to be on");
    assert.equal(a.state.channels[0].on, true);
  });

  it("never shows the key in status, logs, errors or output, even when a message contains it", async () => {
    const s = await sim({ model: "msl120" });
    await helper.load(NODES, flowFor(s.address), { c1: { key: KEY } });
    const outputs = collect<Msg>(helper.getNode("out"));
    const errors = collect<Msg>(helper.getNode("caught"));
    helper.getNode("t1").receive({ payload: "on" });
    helper.getNode("l1").receive({ payload: KEY });
    helper.getNode("l1").receive({ payload: { rgb: KEY } });
    helper.getNode("r1").receive({ topic: KEY, payload: {} });
    helper.getNode("r1").receive({ topic: "Appliance.System.All", payload: KEY });
    helper.getNode("r1").receive({ topic: "Appliance.System.Debug", payload: {} });
    await waitFor(() => outputs.length >= 2 && errors.length >= 4, 8000, "the messages to finish");
    const seen = [
      ...errors.map((e) => JSON.stringify(e.error)),
      ...outputs.map((o) => JSON.stringify({ payload: o.payload, meross: o.meross })),
      // args[0] is what gets logged or shown; node.error's second argument is the user's own msg.
      ...calls.map((c) => {
        const a = c.args[0];
        return a instanceof Error ? `${a.message} ${a.stack ?? ""}` : (JSON.stringify(a) ?? "");
      }),
      ...helper
        .log()
        .getCalls()
        .map((c) => JSON.stringify(c.args)),
    ];
    assert.ok(seen.length > 10);
    for (const text of seen) assert.ok(!text.includes(KEY), `the key leaked in: ${text}`);
    assert.ok(
      errors.some((e) => String((e.error as { message: string }).message).includes("********")),
      "a key typed into a message is masked",
    );
  });
});
