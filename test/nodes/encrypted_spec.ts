import assert from "node:assert/strict";
import configNodeModule = require("../../src/nodes/meross-config");
import toggleNode = require("../../src/nodes/meross-toggle");
import lightNode = require("../../src/nodes/meross-light");
import brokerNodeModule = require("../../src/nodes/meross-broker");
import stateNode = require("../../src/nodes/meross-state");
import { brokerNode, brokerPort, pointAt, waitListening } from "./broker-helpers";
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, collect, waitFor, configNode, onTab, CATCH_NODES, useRuntime } from "./helpers";

/**
 * Issue 5 from a user's seat: encrypted firmware (mss110 7.3.x plug, hp110a lamp) works
 * with the same flow and the same settings as a plain device — nothing to switch on.
 */
describe("nodes against encrypted firmware (no setting changed)", function () {
  let sim: SimulatedDevice | undefined;
  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function load(model: string, configExtra: Record<string, unknown> = {}) {
    sim = await startDevice({ model });
    const flow = onTab(
      [configNode("c1", sim.address, configExtra)],
      [
        { id: "t1", type: "meross-toggle", device: "c1", channel: "", wires: [["out"]] },
        { id: "l1", type: "meross-light", device: "c1", wires: [["out"]] },
        { id: "out", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load([configNodeModule, toggleNode, lightNode], flow, { c1: { key: KEY } });
    return { t1: helper.getNode("t1"), l1: helper.getNode("l1"), out: helper.getNode("out"), caught: helper.getNode("caught"), sim };
  }

  it("switches an encrypted mss110 plug, which drops every plaintext request", async () => {
    const { t1, out, sim: s } = await load("mss110");
    let dropped = 0;
    s.on("dropped", () => dropped++);
    const got = nextMessage(out);
    t1.receive({ payload: "on" });
    assert.equal((await got).payload, true);
    assert.equal(s.state.channels[0].on, true);
    const again = nextMessage(out);
    t1.receive({ payload: "off" });
    assert.equal((await again).payload, false);
    assert.equal(s.state.channels[0].on, false);
    assert.ok(dropped >= 1, "the device really refused plaintext: the node encrypted by itself");
  });

  it("switches a fw 8-like plug that answers plaintext with HTTP 500 and an empty body, and has no key exchange", async () => {
    const { t1, out, caught, sim: s } = await load("mss110v8");
    const answers: Array<string | undefined> = [];
    s.on("dropped", (e: { answer?: string }) => answers.push(e.answer));
    let errors = 0;
    caught.on("input", () => errors++);
    const got = nextMessage(out);
    t1.receive({ payload: "on" });
    assert.equal((await got).payload, true);
    assert.equal(s.state.channels[0].on, true);
    assert.ok(answers.includes("http500"), "the device really answered HTTP 500 to plaintext");
    const again = nextMessage(out);
    t1.receive({ payload: "toggle" });
    assert.equal((await again).payload, false);
    assert.equal(s.state.channels[0].on, false);
    assert.equal(errors, 0);
  });

  it("colours and dims an encrypted hp110a lamp", async () => {
    const { l1, out, sim: s } = await load("hp110a");
    const got = nextMessage<{ payload: { rgb: string; brightness: number } }>(out);
    l1.receive({ payload: { rgb: "#ff8800", brightness: 35 } });
    const msg = await got;
    assert.equal(msg.payload.rgb, "#ff8800");
    assert.equal(s.state.light?.rgb, 0xff8800);
    assert.equal(s.state.light?.luminance, 35);
  });

  it("says UNREACHABLE when the user forces encryption off on a device that needs it", async () => {
    const { t1, caught, sim: s } = await load("mss110", { encryption: "off" });
    const got = nextMessage<{ error: { code: string; message: string } }>(caught, 30000);
    t1.receive({ payload: "on" });
    const err = (await got).error;
    assert.equal(err.code, "UNREACHABLE");
    assert.equal(s.state.channels[0].on, false);
  });

  it("follows an encrypted plug's pushes with meross-state and switches it over MQTT", async function () {
    this.timeout(30000);
    sim = await startDevice({ model: "mss110" });
    const s = sim;
    const flow = onTab(
      [brokerNode(), configNode("c1", s.address, { transport: "auto", broker: "b1", uuid: s.uuid })],
      [
        { id: "t1", type: "meross-toggle", device: "c1", channel: "", wires: [["out"]] },
        { id: "s1", type: "meross-state", device: "c1", broker: "", pollInterval: "0", wires: [["pushed"]] },
        { id: "out", type: "helper" },
        { id: "pushed", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load([brokerNodeModule, configNodeModule, toggleNode, stateNode], flow, { c1: { key: KEY } });
    await pointAt(s, await brokerPort());
    await waitListening(s);
    await (helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> }).getDevice();
    const pushed = collect<{ payload: { kind: string; on?: boolean; source: string } }>(helper.getNode("pushed"));
    s.press();
    await waitFor(
      () => pushed.some((m) => m.payload.kind === "toggle" && m.payload.on === true && m.payload.source === "push"),
      10000,
      "the pushed press",
    );

    const via: string[] = [];
    s.on("request", (r: { via: string }) => via.push(r.via));
    const got = nextMessage(helper.getNode("out"));
    helper.getNode("t1").receive({ payload: "off" });
    assert.equal((await got).payload, false);
    assert.equal(s.state.channels[0].on, false);
    assert.ok(via.includes("mqtt"), `the command went over MQTT (saw ${via.join(",")})`);
  });
  it("follows every one of twenty presses on an encrypted plug over MQTT (none goes missing after the first few)", async function () {
    this.timeout(60000);
    sim = await startDevice({ model: "mss110" });
    const s = sim;
    const flow = onTab(
      [brokerNode(), configNode("c1", s.address, { transport: "auto", broker: "b1", uuid: s.uuid })],
      [
        { id: "s1", type: "meross-state", device: "c1", broker: "", pollInterval: "0", wires: [["pushed"]] },
        { id: "pushed", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load([brokerNodeModule, configNodeModule, stateNode], flow, { c1: { key: KEY } });
    await pointAt(s, await brokerPort());
    await waitListening(s);
    // Pressed while the session's first read (System.All, then the key exchange) is still under way:
    // that older read must not undo a pushed state (it did, and the next push looked unchanged).
    const ready = (helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> }).getDevice();
    const pushed = collect<{ payload: { kind: string; on?: boolean; source: string } }>(helper.getNode("pushed"));
    const toggles = () => pushed.filter((m) => m.payload.kind === "toggle" && m.payload.source === "push");
    for (let i = 1; i <= 20; i++) {
      s.press();
      await waitFor(() => toggles().length >= i, 10000, `the state of press ${i}`);
      assert.equal(toggles()[i - 1].payload.on, i % 2 === 1, `press ${i} reported the plug's new state`);
    }
    await ready;
    const last = pushed.filter((m) => m.payload.kind === "toggle").pop();
    assert.equal(last?.payload.on, false, "the last state out is the plug's (off after twenty presses)");
  });
});
