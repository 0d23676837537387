import assert from "node:assert/strict";
import configModule = require("../../src/nodes/meross-config");
import coverModule = require("../../src/nodes/meross-cover");
import lightModule = require("../../src/nodes/meross-light");
import toggleModule = require("../../src/nodes/meross-toggle");
import type { Node } from "node-red";
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, configNode, onTab, CATCH_NODES, useRuntime, waitFor, type FlowNode } from "./helpers";

type Out = { topic?: string; payload: unknown; meross?: { uuid?: string; name?: string } };
type Caught = { error: { code: string; message: string } };

const FROM_MSG = { deviceSource: "msg", deviceProperty: "device" };

/**
 * One node for many devices: a node whose Device field says "from the message" finds the device
 * msg.device (else msg.topic) names, by the config's name, the device's name or its uuid.
 */
describe("a node that takes its device from the message", function () {
  const sims: SimulatedDevice[] = [];
  useRuntime(async () => {
    for (const s of sims.splice(0)) await s.stop();
  });

  async function device(model: string): Promise<SimulatedDevice> {
    const s = await startDevice({ model });
    sims.push(s);
    return s;
  }

  /** Loads `nodes` with one config per named simulator ("c-0", "c-1", …), each with the demo key. */
  async function load(devices: [string, SimulatedDevice][], nodes: FlowNode[]): Promise<{ out: Node; caught: Node }> {
    // With its uuid, as "Read device" or the broker's list fill it in: found by uuid before it first answers.
    const configs = devices.map(([name, sim], i) => configNode(`c-${i}`, sim.address, { name, uuid: sim.uuid }));
    const creds = Object.fromEntries(devices.map((_d, i) => [`c-${i}`, { key: KEY }]));
    const flow = onTab(configs, [...nodes, { id: "out", type: "helper" }, ...CATCH_NODES]);
    await helper.load([configModule, lightModule, toggleModule, coverModule], flow, creds);
    return { out: helper.getNode("out"), caught: helper.getNode("caught") };
  }

  function send(id: string, out: Node, msg: Record<string, unknown>): Promise<Out> {
    const got = nextMessage<Out>(out);
    helper.getNode(id).receive(msg as never);
    return got;
  }

  function fail(id: string, caught: Node, msg: Record<string, unknown>): Promise<Caught> {
    const got = nextMessage<Caught>(caught);
    helper.getNode(id).receive(msg as never);
    return got;
  }

  /** The text under a node on the canvas. */
  function statusOf(n: Node): () => string {
    let text = "";
    const orig = n.status.bind(n);
    n.status = ((s: { text?: string }) => {
      text = typeof s.text === "string" ? s.text : "";
      return orig(s as never);
    }) as typeof n.status;
    return () => text;
  }

  it("drives two bulbs from one meross-light, by name (any case) and by uuid, and says which one answered", async () => {
    const desk = await device("msl120");
    const porch = await device("msl100");
    const { out } = await load(
      [
        ["Desk lamp", desk],
        ["Porch light", porch],
      ],
      [{ id: "l1", type: "meross-light", device: "", ...FROM_MSG, wires: [["out"]] }],
    );
    const status = statusOf(helper.getNode("l1"));

    const a = await send("l1", out, { device: "desk LAMP", payload: 40 });
    assert.equal(desk.state.light?.luminance, 40);
    assert.equal(desk.state.channels[0].on, true);
    assert.equal(porch.state.channels[0].on, false, "the porch light was not touched");
    assert.equal(a.meross?.uuid, desk.uuid);
    assert.equal(a.meross?.name, "Desk lamp");
    assert.equal(a.topic, "Desk lamp");
    assert.match(status(), /^Desk lamp · on 40%/);

    const b = await send("l1", out, { device: porch.uuid, payload: { on: true, brightness: 20 } });
    assert.equal(porch.state.light?.luminance, 20);
    assert.equal(porch.state.channels[0].on, true);
    assert.equal(desk.state.light?.luminance, 40, "the desk lamp kept its level");
    assert.equal(b.meross?.uuid, porch.uuid);
    assert.equal(b.meross?.name, "Porch light");
    // The status is about the device the node acted on last.
    assert.match(status(), /^Porch light · on 20%/);
  });

  it("takes msg.topic when msg.device is not set, so a device's own output can be wired back in", async () => {
    const desk = await device("msl120");
    const porch = await device("msl100");
    const { out } = await load(
      [
        ["Desk lamp", desk],
        ["Porch light", porch],
      ],
      [{ id: "l1", type: "meross-light", device: "", ...FROM_MSG, wires: [["out"]] }],
    );
    const got = await send("l1", out, { topic: "Porch light", payload: "off" });
    assert.equal(got.meross?.uuid, porch.uuid);
    assert.equal(porch.state.channels[0].on, false);
  });

  it("reads the device from a flow variable when the Device field names one", async () => {
    const desk = await device("msl120");
    const { out } = await load(
      [["Desk lamp", desk]],
      [{ id: "l1", type: "meross-light", device: "", deviceSource: "flow", deviceProperty: "lamp", wires: [["out"]] }],
    );
    helper.getNode("l1").context().flow.set("lamp", "Desk lamp");
    const got = await send("l1", out, { device: "ignored", payload: 30 });
    assert.equal(got.meross?.uuid, desk.uuid);
    assert.equal(desk.state.light?.luminance, 30);
  });

  it("ends an unknown or missing name in an error that lists the devices for this node, and sends nothing", async () => {
    const desk = await device("msl120");
    const porch = await device("msl100");
    const plug = await device("mss310");
    const { out, caught } = await load(
      [
        ["Desk lamp", desk],
        ["Porch light", porch],
        ["Kettle plug", plug],
      ],
      [
        { id: "l1", type: "meross-light", device: "", ...FROM_MSG, wires: [["out"]] },
        { id: "t1", type: "meross-toggle", device: "", ...FROM_MSG, channel: "0", wires: [["out"]] },
      ],
    );
    // Once the plug has answered, its abilities say it is no light: the light's list leaves it out.
    await send("t1", out, { device: "Kettle plug", payload: "" });

    const unknown = await fail("l1", caught, { device: "Kitchen", payload: "on" });
    assert.equal(unknown.error.code, "BAD_INPUT");
    assert.equal(unknown.error.message, 'No Meross device named "Kitchen"; devices: Desk lamp, Porch light.');

    const none = await fail("l1", caught, { payload: "on" });
    assert.equal(none.error.code, "BAD_INPUT");
    assert.match(none.error.message, /takes its device from msg\.device \(or msg\.topic\), and this message names none/);
    assert.match(none.error.message, /devices: Desk lamp, Porch light\.$/);

    const wrongType = await fail("l1", caught, { device: 7, payload: "on" });
    assert.match(wrongType.error.message, /^msg\.device \(or msg\.topic\) must be a device's name or uuid \(text\), not 7/);
    assert.equal(desk.state.channels[0].on, false);
    assert.equal(porch.state.channels[0].on, false);
  });

  it("refuses a name two devices answer to, naming both, and finds each by its uuid", async () => {
    const a = await device("msl120");
    const b = await device("msl100");
    const { out, caught } = await load(
      [
        ["Lamp", a],
        ["lamp", b],
      ],
      [{ id: "l1", type: "meross-light", device: "", ...FROM_MSG, wires: [["out"]] }],
    );
    const twice = await fail("l1", caught, { device: "LAMP", payload: "on" });
    assert.equal(twice.error.code, "BAD_INPUT");
    assert.match(twice.error.message, /^2 Meross devices answer to "LAMP": .*Name the device by its uuid instead\.$/);
    assert.ok(twice.error.message.includes(a.uuid) && twice.error.message.includes(b.uuid), twice.error.message);
    assert.equal(a.state.channels[0].on, false);
    const got = await send("l1", out, { device: b.uuid, payload: "on" });
    assert.equal(got.meross?.uuid, b.uuid);
    assert.equal(b.state.channels[0].on, true);
  });

  it("with a fixed device, ignores msg.device and drives the device of its dialog", async () => {
    const desk = await device("msl120");
    const porch = await device("msl100");
    const { out } = await load(
      [
        ["Desk lamp", desk],
        ["Porch light", porch],
      ],
      // A node saved before the option existed has no deviceSource: it is a fixed device.
      [{ id: "l1", type: "meross-light", device: "c-0", wires: [["out"]] }],
    );
    const got = await send("l1", out, { device: "Porch light", payload: 60 });
    assert.equal(got.meross?.uuid, desk.uuid);
    assert.equal(desk.state.light?.luminance, 60);
    assert.equal(porch.state.channels[0].on, false);
  });

  it("meross-toggle and meross-cover find their device by name or uuid too", async () => {
    const kettle = await device("mss310");
    const lamp = await device("mss110");
    const garage = await device("msg100");
    garage.setCoverTravel(200);
    const { out } = await load(
      [
        ["Kettle", kettle],
        ["Floor lamp", lamp],
        ["Garage", garage],
      ],
      [
        { id: "t1", type: "meross-toggle", device: "", ...FROM_MSG, channel: "0", wires: [["out"]] },
        { id: "g1", type: "meross-cover", device: "", ...FROM_MSG, channel: "", wires: [["out"]] },
      ],
    );
    const k = await send("t1", out, { device: "kettle", payload: "on" });
    assert.equal(k.meross?.name, "Kettle");
    const l = await send("t1", out, { device: lamp.uuid, payload: "on" });
    assert.equal(l.meross?.uuid, lamp.uuid);
    assert.equal(kettle.state.channels[0].on, true);
    assert.equal(lamp.state.channels[0].on, true);

    const g = await send("g1", out, { device: garage.uuid, payload: "open" });
    assert.equal(g.meross?.name, "Garage");
    assert.deepEqual(g.payload, { state: "opening", channel: 0 });
    await waitFor(() => garage.state.covers?.[0].state === "open", 8000, "the garage to open");
  });
});
