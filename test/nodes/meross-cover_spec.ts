import assert from "node:assert/strict";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import coverModule = require("../../src/nodes/meross-cover");
import switchNode = require("@node-red/nodes/core/function/10-switch.js");
import changeNode = require("@node-red/nodes/core/function/15-change.js");
import type { Node } from "node-red";
import type { RequestEvent, SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, collect, configNode, waitFor, onTab, CATCH_NODES, useRuntime } from "./helpers";
import { brokerNode, brokerPort, pointAt, statuses, waitListening } from "./broker-helpers";

type Out = {
  topic?: string;
  payload: { state: string; channel: number; position?: number };
  meross?: { sent?: boolean; note?: string; kind?: string };
};
type Caught = { error: { code: string; message: string } };

/** Doors and shutters travel this long in these tests (the simulator's default is 15 s). */
const TRAVEL_MS = 300;

describe("meross-cover node", function () {
  const sims: SimulatedDevice[] = [];
  useRuntime(async () => {
    for (const s of sims.splice(0)) await s.stop();
  });

  async function device(model: string): Promise<SimulatedDevice> {
    const s = await startDevice({ model, mqttReconnectMs: 50 });
    s.setCoverTravel(TRAVEL_MS);
    sims.push(s);
    return s;
  }

  function sets(sim: SimulatedDevice): RequestEvent[] {
    const seen: RequestEvent[] = [];
    sim.on("request", (r: RequestEvent) => void (r.method === "SET" && /GarageDoor|RollerShutter/.test(r.namespace) && seen.push(r)));
    return seen;
  }

  /** A cover node on `sim`, over HTTP or over the embedded broker; `reportChanges` ticks "also send changes the device reports". */
  async function load(
    sim: SimulatedDevice,
    via: "http" | "mqtt",
    opts: { channel?: string; reportChanges?: boolean } = {},
  ): Promise<{ n1: Node; out: Node; caught: Node }> {
    const { channel = "0", reportChanges } = opts;
    const configs =
      via === "mqtt"
        ? [brokerNode(), configNode("c1", sim.address, { name: "Garage", broker: "b1", transport: "mqtt" })]
        : [configNode("c1", sim.address, { name: "Garage" })];
    const flow = onTab(configs, [
      {
        id: "n1",
        type: "meross-cover",
        device: "c1",
        channel,
        ...(reportChanges === undefined ? {} : { reportChanges }),
        wires: [["out"]],
      },
      { id: "out", type: "helper" },
      ...CATCH_NODES,
    ]);
    await helper.load(via === "mqtt" ? [brokerModule, configModule, coverModule] : [configModule, coverModule], flow, { c1: { key: KEY } });
    if (via === "mqtt") {
      await pointAt(sim, await brokerPort());
      await waitListening(sim);
    }
    return { n1: helper.getNode("n1"), out: helper.getNode("out"), caught: helper.getNode("caught") };
  }

  async function send(n: Node, out: Node, payload: unknown): Promise<Out> {
    const got = nextMessage<Out>(out);
    n.receive({ payload } as never);
    return got;
  }

  for (const via of ["http", "mqtt"] as const) {
    describe(`over ${via === "http" ? "HTTP" : "the embedded broker (MQTT)"}`, () => {
      it("with 'also send changes' ticked: opening, open, closing, closed reach the flow, the door moves", async () => {
        const sim = await device("msg100");
        const seen = sets(sim);
        const { n1, out } = await load(sim, via, { reportChanges: true });
        const all = collect<Out>(out);
        const first = await send(n1, out, "open");
        assert.deepEqual(first.payload, { state: "opening", channel: 0 });
        assert.equal(first.topic, "Garage");
        assert.equal(first.meross?.sent, true);
        await waitFor(() => all.some((m) => m.payload.state === "open"), 8000, "the door to report open");
        assert.equal(sim.state.covers?.[0].state, "open");
        const closing = await send(n1, out, "close");
        assert.equal(closing.payload.state, "closing");
        await waitFor(() => all.some((m) => m.payload.state === "closed"), 8000, "the door to report closed");
        assert.deepEqual(
          all.map((m) => m.payload.state),
          ["opening", "open", "closing", "closed"],
        );
        assert.equal(sim.state.covers?.[0].state, "closed");
        assert.ok(
          seen.length === 2 && seen.every((r) => r.namespace === "Appliance.GarageDoor.State" && r.via === via),
          "two SETs, on the chosen path",
        );
      });

      it("moves the roller shutter to 40 % (the end position reaches the flow with 'also send changes')", async () => {
        const sim = await device("mrs100");
        const { n1, out } = await load(sim, via, { reportChanges: true });
        const all = collect<Out>(out);
        const first = await send(n1, out, 40);
        // A short test move may already be over when the reply is read back.
        assert.ok(first.payload.state === "opening" || first.payload.position === 40, JSON.stringify(first.payload));
        await waitFor(() => all.some((m) => m.payload.state === "stopped"), 8000, "the shutter to stop");
        assert.deepEqual(all[all.length - 1].payload, { state: "stopped", position: 40, channel: 0 });
        assert.deepEqual(sim.state.covers?.[0], { kind: "roller", channel: 0, state: "stopped", position: 40 });
      });

      it("by default each command gets one answer and nothing else: the end of the move shows only in the status", async () => {
        const sim = await device("msg100");
        const { n1, out } = await load(sim, via);
        const shown = statuses(n1);
        const all = collect<Out>(out);
        const first = await send(n1, out, "open");
        assert.equal(first.payload.state, "opening");
        await waitFor(() => shown.some((st) => st.text === "Garage · open"), 8000, "the status to show open");
        await waitFor(() => sim.state.covers?.[0].state === "open", 8000, "the door to be open");
        const read = await send(n1, out, "");
        assert.equal(read.payload.state, "open");
        assert.deepEqual(
          all.map((m) => m.payload.state),
          ["opening", "open"],
          "one message per input: the open answer and the read",
        );
      });
    });
  }

  it("safety: a garage door opened by hand sends nothing, so a 'close if open' flow cannot close it (checkbox off)", async () => {
    const sim = await device("msg100");
    const seen = sets(sim);
    // The flow of the issue: the cover's output goes to a switch "if open, close" wired back into the cover.
    const flow = onTab(
      [brokerNode(), configNode("c1", sim.address, { name: "Garage", broker: "b1", transport: "mqtt" })],
      [
        { id: "n1", type: "meross-cover", device: "c1", channel: "0", wires: [["sw", "out"]] },
        { id: "sw", type: "switch", property: "payload.state", rules: [{ t: "eq", v: "open", vt: "str" }], outputs: 1, wires: [["chg"]] },
        { id: "chg", type: "change", rules: [{ t: "set", p: "payload", pt: "msg", to: "close", tot: "str" }], wires: [["n1"]] },
        { id: "out", type: "helper" },
        // A second cover node on the same door, for a read whose answer comes well after any output of n1.
        { id: "n2", type: "meross-cover", device: "c1", channel: "0", wires: [["out2"]] },
        { id: "out2", type: "helper" },
      ],
    );
    await helper.load([brokerModule, configModule, coverModule, switchNode, changeNode], flow, { c1: { key: KEY } });
    await pointAt(sim, await brokerPort());
    await waitListening(sim);
    const n1 = helper.getNode("n1");
    const shown = statuses(n1);
    const all = collect<Out>(helper.getNode("out"));
    sim.press(0);
    await waitFor(() => shown.some((st) => st.text === "Garage · open"), 8000, "the status to follow the push");
    const read = await send(helper.getNode("n2"), helper.getNode("out2"), "");
    assert.equal(read.payload.state, "open");
    assert.equal(sim.state.covers?.[0].state, "open");
    assert.deepEqual(all, [], "the push reached no output");
    assert.equal(seen.length, 0, "nothing was sent to the door");
  });

  it("over MQTT with 'also send changes' ticked, a press on the garage's wall button reaches the flow as a pushed change", async () => {
    const sim = await device("msg100");
    const { out } = await load(sim, "mqtt", { reportChanges: true });
    const got = nextMessage<Out>(out);
    sim.press(0);
    const msg = await got;
    assert.deepEqual(msg.payload, { state: "open", channel: 0 });
    assert.equal(msg.topic, "Garage");
  });

  it("over MQTT with 'also send changes' ticked, the shutter's wall switch shows closing, then closed", async () => {
    const sim = await device("mrs100");
    const { n1, out } = await load(sim, "mqtt", { reportChanges: true });
    const all = collect<Out>(out);
    await send(n1, out, "open");
    await waitFor(() => all.some((m) => m.payload.state === "open"), 8000, "open");
    sim.press(0, "close");
    await waitFor(() => all.some((m) => m.payload.state === "closed"), 8000, "closed");
    assert.deepEqual(all.map((m) => m.payload.state).slice(-2), ["closing", "closed"]);
  });

  it("does not send open twice: the second answers with the state and says nothing was sent", async () => {
    const sim = await device("msg100");
    const seen = sets(sim);
    const { n1, out } = await load(sim, "http");
    await send(n1, out, "open");
    const again = await send(n1, out, "open");
    assert.equal(again.payload.state, "opening");
    assert.equal(again.meross?.sent, false);
    assert.match(again.meross?.note ?? "", /already opening, so nothing was sent/);
    assert.equal(seen.length, 1);
  });

  it("refuses a position on a garage door, saying what the model can do", async () => {
    const sim = await device("msg100");
    const seen = sets(sim);
    const { n1, caught } = await load(sim, "http");
    const got = nextMessage<Caught>(caught);
    n1.receive({ payload: 40 } as never);
    const err = (await got).error;
    assert.equal(err.code, "UNSUPPORTED");
    assert.match(err.message, /This msg100 is a garage door opener: it can open and close, not go to 40 %/);
    assert.equal(seen.length, 0);
  });

  it('refuses bad inputs (position 140, "opne") with clear errors and sends nothing', async () => {
    const sim = await device("mrs100");
    const seen = sets(sim);
    const { n1, caught } = await load(sim, "http");
    for (const [payload, re] of [
      [140, /position 140 is out of range: use a whole number from 0 \(closed\) to 100 \(open\)/],
      ["opne", /"opne" is not a command for a garage door or shutter: send "open", "close", "stop"/],
    ] as const) {
      const got = nextMessage<Caught>(caught);
      n1.receive({ payload } as never);
      const err = (await got).error;
      assert.equal(err.code, "BAD_INPUT");
      assert.match(err.message, re);
    }
    assert.equal(seen.length, 0);
  });

  it("an empty payload reads the state without moving anything", async () => {
    const sim = await device("mrs100");
    const seen = sets(sim);
    const { n1, out } = await load(sim, "http");
    const msg = await send(n1, out, "");
    assert.deepEqual(msg.payload, { state: "closed", position: 0, channel: 0 });
    assert.equal(msg.meross?.kind, "roller");
    assert.equal(seen.length, 0);
  });
});
