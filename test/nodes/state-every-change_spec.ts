/**
 * meross-state reports every state change of every device: doors, shutters, thermostats,
 * energy and the diffuser as well as plugs, bulbs and hub sensors; an unnamed device gets a
 * readable topic; a light fade is one message; msg.payload is the change, msg.meross the device.
 */
import assert from "node:assert/strict";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import lightModule = require("../../src/nodes/meross-light");
import climateModule = require("../../src/nodes/meross-climate");
import stateModule = require("../../src/nodes/meross-state");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, collect, configNode, waitFor, onTab, useRuntime, nextMessage } from "./helpers";
import { brokerNode, brokerPort, pointAt, waitListening } from "./broker-helpers";

type Msg = { topic?: string; payload: Record<string, unknown>; meross?: { uuid?: string; model?: string } };

const MODULES = [brokerModule, configModule, lightModule, climateModule, stateModule];

describe("meross-state: every change of every device", function () {
  const sims: SimulatedDevice[] = [];
  useRuntime(async () => {
    for (const s of sims.splice(0)) await s.stop();
  });

  async function device(model: string): Promise<SimulatedDevice> {
    const s = await startDevice({ model, mqttReconnectMs: 50 });
    sims.push(s);
    return s;
  }

  it("on a whole broker: a garage opened by hand, a thermostat's open window and a plug's power, unnamed devices named 'model abcd'", async () => {
    const garage = await device("msg100");
    garage.setCoverTravel(300);
    const thermostat = await device("mts200b");
    const plug = await device("mss310");
    // Unnamed device nodes hold the keys the broker checks devices with.
    const configs = [garage, thermostat, plug].map((s, i) =>
      configNode(`c${i}`, s.address, { name: "", uuid: s.uuid, broker: "b1", transport: "http" }),
    );
    const flow = onTab(
      [brokerNode(), ...configs],
      [
        { id: "s1", type: "meross-state", device: "", broker: "b1", pollInterval: "0", wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load(MODULES, flow, { c0: { key: KEY }, c1: { key: KEY }, c2: { key: KEY } });
    const port = await brokerPort();
    for (const s of [garage, thermostat, plug]) await pointAt(s, port);
    for (const s of [garage, thermostat, plug]) await waitListening(s);
    const msgs = collect<Msg>(helper.getNode("out"));
    const of = (s: SimulatedDevice, kind: string) => msgs.filter((m) => m.meross?.uuid === s.uuid && m.payload.kind === kind);

    garage.press(0);
    await waitFor(() => of(garage, "cover").some((m) => m.payload.state === "open"), 8000, "the garage opening");
    const door = of(garage, "cover").find((m) => m.payload.state === "open") as Msg;
    assert.deepEqual(door.payload, { state: "open", channel: 0, kind: "cover", source: "push" });
    assert.equal(door.topic, `msg100 ${garage.uuid.slice(-4)}`);
    assert.deepEqual(door.meross, { uuid: garage.uuid, model: "msg100" });

    thermostat.setWindowOpen(true);
    await waitFor(() => of(thermostat, "thermostat").some((m) => m.payload.windowOpen === true), 8000, "the open window");
    const t = of(thermostat, "thermostat").find((m) => m.payload.windowOpen === true) as Msg;
    assert.equal(Object.keys(t.payload)[0], "on", "the change first, not the uuid");
    assert.equal(t.topic, `mts200b ${thermostat.uuid.slice(-4)}`);

    plug.setOnOff(true);
    await waitFor(() => of(plug, "energy").some((m) => (m.payload.power as number) > 0), 8000, "the pushed power");
    const e = of(plug, "energy").find((m) => (m.payload.power as number) > 0) as Msg;
    assert.deepEqual(Object.keys(e.payload), ["power", "voltage", "current", "channel", "kind", "source"]);
  });

  it("a diffuser's spray set by meross-climate is reported (HTTP, source command)", async () => {
    const sim = await device("mod100");
    const flow = onTab(
      [configNode("c1", sim.address, { name: "Diffuser" })],
      [
        { id: "k1", type: "meross-climate", device: "c1", subId: "", wires: [["kout"]] },
        { id: "kout", type: "helper" },
        { id: "s1", type: "meross-state", device: "c1", pollInterval: "0", wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load(MODULES, flow, { c1: { key: KEY } });
    const msgs = collect<Msg>(helper.getNode("out"));
    const answer = nextMessage(helper.getNode("kout"));
    helper.getNode("k1").receive({ payload: "strong" });
    await answer;
    await waitFor(() => msgs.some((m) => m.payload.kind === "diffuser" && m.payload.spray === "strong"), 8000, "the spray change");
    const d = msgs.find((m) => m.payload.kind === "diffuser" && m.payload.spray === "strong") as Msg;
    assert.equal(d.topic, "Diffuser");
    assert.equal(d.payload.source, "command");
  });

  it("polls a garage door reached over HTTP: a door opened by hand is reported once", async () => {
    const sim = await device("msg100");
    sim.setCoverTravel(300);
    const flow = onTab(
      [configNode("c1", sim.address, { name: "Garage" })],
      [
        { id: "s1", type: "meross-state", device: "c1", pollInterval: "1", wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load(MODULES, flow, { c1: { key: KEY } });
    await (helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> }).getDevice();
    const msgs = collect<Msg>(helper.getNode("out"));
    sim.press(0);
    await waitFor(() => msgs.some((m) => m.payload.kind === "cover"), 8000, "the poll to see the open door");
    const covers = msgs.filter((m) => m.payload.kind === "cover");
    assert.deepEqual(covers[0].payload, { state: "open", channel: 0, kind: "cover", source: "poll" });
  });

  it("a 1 s light fade is one state message with the final brightness, not one per step", async () => {
    const sim = await device("msl120");
    const flow = onTab(
      [configNode("c1", sim.address, { name: "Lamp" })],
      [
        { id: "l1", type: "meross-light", device: "c1", wires: [["lout"]] },
        { id: "lout", type: "helper" },
        { id: "s1", type: "meross-state", device: "c1", pollInterval: "0", wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load(MODULES, flow, { c1: { key: KEY } });
    await (helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> }).getDevice();
    const msgs = collect<Msg>(helper.getNode("out"));
    const lights = collect<Msg>(helper.getNode("lout"));
    const steps: unknown[] = [];
    sim.on(
      "request",
      (r: { method: string; namespace: string }) => void (r.method === "SET" && /Light/.test(r.namespace) && steps.push(r)),
    );
    helper.getNode("l1").receive({ payload: { on: true, brightness: 90, transition: 1 } });
    await waitFor(() => lights.length === 1, 8000, "the fade to end");
    await waitFor(() => msgs.some((m) => m.payload.kind === "light"), 8000, "the state message");
    // A read afterwards proves every event of the fade has been handled.
    await (helper.getNode("c1") as unknown as { getDevice(): Promise<{ getLight(): Promise<unknown> }> })
      .getDevice()
      .then((d) => d.getLight());
    const light = msgs.filter((m) => m.payload.kind === "light");
    assert.ok(steps.length > 3, `the fade took several steps (${steps.length})`);
    assert.equal(light.length, 1, JSON.stringify(light.map((m) => m.payload)));
    assert.equal((light[0].payload.light as { brightness: number }).brightness, 90);
    assert.equal(lights.length, 1, "meross-light answers once too");
  });
});
