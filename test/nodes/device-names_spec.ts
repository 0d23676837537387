/**
 * What a user sees of a device in meross-toggle, meross-light and meross-request: its name
 * in every status, in msg.topic and at the start of every error, and errors that read as one
 * sentence in a Catch node and in the debug sidebar while msg.error.code stays available.
 */
import assert from "node:assert/strict";
import path from "node:path";
import configNodeModule = require("../../src/nodes/meross-config");
import toggleNode = require("../../src/nodes/meross-toggle");
import lightNode = require("../../src/nodes/meross-light");
import requestNode = require("../../src/nodes/meross-request");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, collect, configNode, waitFor, onTab, CATCH_NODES, useRuntime } from "./helpers";
import type { FlowNode } from "./helpers";

type Msg = Record<string, unknown>;
type Status = { fill?: string; shape?: string; text?: string };
const NODES = [configNodeModule, toggleNode, lightNode, requestNode];

/** The sidebar's encoder of the Node-RED under test: what the debug sidebar receives for a log entry. */
function sidebarEncode(entry: { msg: unknown }): { format: string; msg: unknown } {
  const nrMain = require.resolve(process.env.NR_PATH || "node-red");
  const utilPath = require.resolve("@node-red/util", { paths: [path.dirname(nrMain)] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the runtime under test is found at run time (NR_PATH)
  const { util } = require(utilPath) as { util: { encodeObject(m: { msg: unknown }): { format: string; msg: unknown } } };
  return util.encodeObject({ ...entry });
}

function statuses(node: { status: (s: never) => void }): Status[] {
  const seen: Status[] = [];
  const orig = node.status.bind(node);
  node.status = ((s: Status) => {
    seen.push(s);
    orig(s as never);
  }) as typeof node.status;
  return seen;
}

describe("device names and plain error sentences in the device nodes", function () {
  let sim: SimulatedDevice | undefined;

  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function load(model: string, nodes: FlowNode[], config: Record<string, unknown> = {}, key = KEY) {
    sim = await startDevice({ model });
    await helper.load(NODES, onTab([configNode("c1", sim.address, config)], [...nodes, { id: "out", type: "helper" }, ...CATCH_NODES]), {
      c1: { key },
    });
    return { out: helper.getNode("out"), caught: helper.getNode("caught"), sim };
  }

  const toggle: FlowNode = { id: "t1", type: "meross-toggle", device: "c1", channel: "", wires: [["out"]] };

  it("meross-toggle: status, msg.topic and errors carry the config's name; a topic the flow set is kept", async () => {
    const { out, caught } = await load("mss310", [toggle], { name: "Desk lamp" });
    const t1 = helper.getNode("t1");
    const st = statuses(t1);
    let got = nextMessage<Msg>(out);
    t1.receive({ payload: "on" });
    let msg = await got;
    assert.equal(msg.topic, "Desk lamp");
    assert.deepEqual(st[st.length - 1], { fill: "green", shape: "dot", text: "Desk lamp · on" });

    got = nextMessage<Msg>(out);
    t1.receive({ payload: "off", topic: "kitchen/plug" });
    msg = await got;
    assert.equal(msg.topic, "kitchen/plug", "the flow's own topic stays");

    const err = nextMessage<Msg>(caught);
    t1.receive({ payload: "onn" });
    const e = (await err).error as { message: unknown; code: string };
    assert.equal(e.code, "BAD_INPUT");
    assert.equal(typeof e.message, "string");
    assert.match(String(e.message), /^Desk lamp: msg\.payload "onn" is not a command/);
    assert.deepEqual(st[st.length - 1], { fill: "red", shape: "ring", text: "Desk lamp · invalid input" });
  });

  it('names an unnamed device by model and the end of its uuid ("mss310 c243")', async () => {
    const { out, sim } = await load("mss310", [toggle], { name: "" });
    const got = nextMessage<Msg>(out);
    helper.getNode("t1").receive({});
    const msg = await got;
    assert.equal(msg.topic, `${sim.model.type} ${sim.uuid.slice(-4)}`);
  });

  it("meross-light: msg.topic, status and errors carry the device's name", async () => {
    const light: FlowNode = { id: "l1", type: "meross-light", device: "c1", wires: [["out"]] };
    const { out, caught } = await load("msl100", [light], { name: "Hall bulb" });
    const l1 = helper.getNode("l1");
    const st = statuses(l1);
    const got = nextMessage<Msg>(out);
    l1.receive({ payload: { brightness: 40 } });
    const msg = await got;
    assert.equal(msg.topic, "Hall bulb");
    assert.match(st[st.length - 1].text ?? "", /^Hall bulb · .*40%/);
    const err = nextMessage<Msg>(caught);
    l1.receive({ payload: "#ff0000" });
    const e = (await err).error as { message: string; code: string };
    assert.equal(e.code, "UNSUPPORTED");
    assert.match(e.message, /^Hall bulb: /);
  });

  it("meross-request: a short human status (no raw GETACK, no path without a broker) and named errors", async () => {
    const { out, caught } = await load("mss310", [
      { id: "r1", type: "meross-request", device: "c1", method: "GET", namespace: "Appliance.Control.Electricity", wires: [["out"]] },
    ]);
    const r1 = helper.getNode("r1");
    const st = statuses(r1);
    const got = nextMessage<Msg>(out);
    r1.receive({ payload: "" });
    const msg = await got;
    assert.equal(msg.topic, "dev");
    assert.ok(
      st.some((s) => s.text === "dev · reading electricity…"),
      JSON.stringify(st),
    );
    assert.deepEqual(st[st.length - 1], { fill: "green", shape: "dot", text: "dev · electricity read" });
    assert.ok(!st.some((s) => /ACK|Appliance|http/.test(s.text ?? "")), JSON.stringify(st));
    const err = nextMessage<Msg>(caught);
    r1.receive({ payload: "not json" });
    assert.match(((await err).error as { message: string }).message, /^dev: msg\.payload "not json" is text but not JSON/);
  });

  it("Catch gets msg.error.message as the plain sentence with msg.error.code, and no stack into dist/", async () => {
    const { caught, sim } = await load("mss310", [toggle], {}, "not-the-right-key");
    const got = nextMessage<Msg>(caught);
    helper.getNode("t1").receive({ payload: "on" });
    const e = (await got).error as Record<string, unknown>;
    assert.equal(e.code, "WRONG_KEY");
    assert.match(String(e.message), /^dev: The device at .* the key is wrong/);
    assert.ok(!String(e.message).includes("MerossError"), String(e.message));
    assert.equal(e.stack, undefined, "no stack trace into the package's files");
    assert.equal((e.source as { id: string }).id, "t1");
    assert.equal(sim.state.channels[0].on, false);
  });

  it("without a Catch node the debug sidebar gets the sentence as one line, not an error object", async () => {
    sim = await startDevice({ model: "mss310" });
    const flow = onTab([configNode("c1", sim.address)], [{ id: "t1", type: "meross-toggle", device: "c1", channel: "", wires: [[]] }]);
    await helper.load(NODES, flow, { c1: { key: KEY } });
    helper.getNode("t1").receive({ payload: "ture" });
    const ERROR = (helper.log() as unknown as { ERROR: number }).ERROR;
    const errorsOf = () =>
      helper
        .log()
        .args.map((a: unknown[]) => a[0] as { level: number; id?: string; msg: unknown })
        .filter((o) => o.level === ERROR && o.id === "t1");
    await waitFor(() => errorsOf().length > 0, 5000, "the error to be logged");
    const encoded = sidebarEncode(errorsOf()[0]);
    assert.notEqual(encoded.format, "error", "not shown as an object to expand");
    const shown = JSON.parse(JSON.stringify(encoded.msg)) as unknown;
    assert.equal(typeof shown, "string");
    assert.match(String(shown), /^dev: msg\.payload "ture" is not a command meross-toggle knows\. Send "on", "off" or "toggle"/);
  });

  it("an exception that is not a MerossError is reported as a bug (INTERNAL), not as the device's fault", async () => {
    const { caught, out } = await load("mss310", [toggle]);
    const outputs = collect(out);
    const cfg = helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> };
    cfg.getDevice = () => Promise.reject(new TypeError("device.frobnicate is not a function"));
    const got = nextMessage<Msg>(caught);
    helper.getNode("t1").receive({ payload: "on" });
    const e = (await got).error as { code: string; message: string; cause?: unknown };
    assert.equal(e.code, "INTERNAL");
    assert.equal(e.message, "dev: This is a bug in node-red-contrib-meross-local: device.frobnicate is not a function. Please report it.");
    assert.match(String(e.cause), /TypeError: device\.frobnicate/, "the stack a bug report needs is in msg.error.cause");
    assert.doesNotMatch(e.message, /restart the device|unusable reply/);
    assert.equal(outputs.length, 0);
  });

  it("the config's info endpoint (edit dialog) names the device the way the nodes do", async () => {
    const { sim } = await load("mss310", [toggle], { name: "" });
    await (helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> }).getDevice();
    const res = await helper.request().get("/meross-config/c1/info").expect(200);
    assert.equal(res.body.displayName, `${sim.model.type} ${sim.uuid.slice(-4)}`);
    assert.equal((helper.getNode("c1") as unknown as { displayName(): string }).displayName(), res.body.displayName);
  });
});
