import assert from "node:assert/strict";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import toggleModule = require("../../src/nodes/meross-toggle");
import lightModule = require("../../src/nodes/meross-light");
import stateModule = require("../../src/nodes/meross-state");
import { MerossDevice } from "../../src/core/session/device";
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, collect, configNode, waitFor, onTab, CATCH_NODES, useRuntime } from "./helpers";
import { brokerNode, brokerPort, pointAt, statuses, waitListening } from "./broker-helpers";
import { DEVICE_A, FakeDevice } from "../core/broker/fake_device";

type Payload = {
  kind: string;
  channel?: number;
  on?: boolean;
  online?: boolean;
  light?: { on?: boolean; brightness: number; mode: string; rgb: string; temperature: number };
  state?: string;
  position?: number;
  target?: number;
  windowOpen?: boolean;
  power?: number;
  spray?: string;
  source: string;
};
type Msg = { topic?: string; payload: Payload; meross?: { uuid?: string; model?: string } };

const MODULES = [brokerModule, configModule, toggleModule, lightModule, stateModule];

describe("meross-state node", function () {
  const sims: SimulatedDevice[] = [];

  useRuntime(async () => {
    for (const s of sims.splice(0)) await s.stop();
  });

  async function device(model = "mss310"): Promise<SimulatedDevice> {
    const s = await startDevice({ model, mqttReconnectMs: 50 });
    sims.push(s);
    return s;
  }

  /** A device on the embedded broker with a meross-config (transport `transport`) and a meross-state. */
  async function onBroker(
    model: string,
    transport: string,
    stateProps: Record<string, unknown> = { device: "c1" },
    extra: Array<Record<string, unknown>> = [],
  ) {
    const sim = await device(model);
    const flow = onTab(
      [brokerNode(), configNode("c1", sim.address, { broker: "b1", transport, name: "desk" })],
      [
        { id: "s1", type: "meross-state", name: "", pollInterval: "0", wires: [["out"]], ...stateProps },
        { id: "out", type: "helper" },
        ...(extra as Array<{ id: string; type: string }>),
        ...CATCH_NODES,
      ],
    );
    await helper.load(MODULES, flow, { c1: { key: KEY } });
    await pointAt(sim, await brokerPort());
    await waitListening(sim);
    // The session reads the device once; the state node's baseline comes from that read.
    const cfg = helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> };
    await cfg.getDevice();
    return { sim, s1: helper.getNode("s1"), out: helper.getNode("out") };
  }

  it("emits a press of the device's button as a push, with the config's name as topic", async () => {
    const { sim, s1, out } = await onBroker("mss310", "auto");
    const st = statuses(s1);
    const msgs = collect<Msg>(out);
    sim.press();
    await waitFor(() => msgs.some((m) => m.payload.kind === "toggle"), 5000, "the pushed press");
    const msg = msgs.find((m) => m.payload.kind === "toggle") as Msg;
    assert.equal(msg.topic, "desk");
    // The change first (the debug sidebar's collapsed line shows it), the device in msg.meross.
    assert.deepEqual(msg.payload, { on: true, channel: 0, kind: "toggle", source: "push" });
    assert.deepEqual(Object.keys(msg.payload)[0], "on");
    assert.deepEqual(msg.meross, { uuid: sim.uuid, model: sim.model.type });
    assert.ok(
      st.some((s) => s.fill === "green" && /on · push/.test(s.text ?? "")),
      "the status shows the last change",
    );
  });

  it("emits a change made by another app over HTTP (the device pushes it)", async () => {
    const { sim, out } = await onBroker("mss310", "mqtt");
    const msgs = collect<Msg>(out);
    const other = new MerossDevice({ address: sim.address, key: KEY });
    await other.setToggle(0, true);
    await other.close();
    await waitFor(() => msgs.some((m) => m.payload.kind === "toggle"), 5000, "the pushed change");
    const msg = msgs.find((m) => m.payload.kind === "toggle") as Msg;
    assert.equal(msg.payload.kind, "toggle");
    assert.equal(msg.payload.on, true);
    assert.equal(msg.payload.source, "push");
  });

  it("emits light changes of a bulb with brightness, mode and colour", async () => {
    const { sim, out } = await onBroker("msl120", "mqtt");
    const msgs = collect<Msg>(out);
    sim.setLight({ luminance: 35 });
    await waitFor(() => msgs.some((m) => m.payload.kind === "light" && m.payload.light?.brightness === 35), 5000, "a light message");
    const m = msgs.find((x) => x.payload.kind === "light");
    assert.equal(m?.payload.source, "push");
    assert.equal(typeof m?.payload.light?.temperature, "number");
    assert.match(m?.payload.light?.rgb ?? "", /^#[0-9a-f]{6}$/);
  });

  it("emits a change made by our own command once, even when the device also pushes it", async () => {
    const { out } = await onBroker("mss310", "mqtt", { device: "c1" }, [
      { id: "t1", type: "meross-toggle", device: "c1", channel: "0", wires: [["cmdout"]] },
      { id: "cmdout", type: "helper" },
    ]);
    const msgs = collect<Msg>(out);
    const done = nextMessage(helper.getNode("cmdout"));
    helper.getNode("t1").receive({ payload: "on" });
    await done;
    await waitFor(() => msgs.some((m) => m.payload.kind === "toggle"), 5000, "a state message");
    // The command's reply and the device's push of the same change race; either may come first.
    const toggles = msgs.filter((m) => m.payload.kind === "toggle");
    assert.equal(toggles[0].payload.on, true);
    assert.equal(toggles.length, 1);
  });

  it("labels a change made by our own command over HTTP as command", async () => {
    const sim = await device("mss310");
    const flow = onTab(
      [configNode("c1", sim.address)],
      [
        { id: "s1", type: "meross-state", device: "c1", wires: [["out"]] },
        { id: "t1", type: "meross-toggle", device: "c1", channel: "0", wires: [[]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load(MODULES, flow, { c1: { key: KEY } });
    await (helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> }).getDevice();
    const got = nextMessage<Msg>(helper.getNode("out"));
    helper.getNode("t1").receive({ payload: "on" });
    const msg = await got;
    assert.deepEqual(msg.payload, { on: true, channel: 0, kind: "toggle", source: "command" });
    assert.deepEqual(msg.meross, { uuid: sim.uuid, model: sim.model.type });
    assert.equal(msg.topic, "dev");
  });

  it("reports offline when the device leaves the broker", async () => {
    const { sim, out } = await onBroker("mss310", "auto");
    const msgs = collect<Msg>(out);
    await sim.stop();
    await waitFor(() => msgs.some((m) => m.payload.kind === "online" && m.payload.online === false), 5000, "an offline message");
    assert.equal(msgs.find((m) => m.payload.online === false)?.meross?.uuid, sim.uuid);
  });

  it("answers any input with the current known state", async () => {
    const { sim, s1, out } = await onBroker("mss425", "mqtt");
    const msgs = collect<Msg>(out);
    sim.setOnOff(true, 2);
    await waitFor(() => msgs.some((m) => m.payload.kind === "toggle" && m.payload.channel === 2), 5000, "the push of channel 2");
    msgs.length = 0;
    s1.receive({ payload: "now?", _keep: 1 });
    await waitFor(() => msgs.filter((m) => m.payload.kind === "toggle").length === 4, 5000, "four channels");
    assert.ok(msgs.some((m) => m.payload.kind === "online" && m.payload.online === true));
    assert.ok(
      msgs.every((m) => m.topic === "desk" && (m as unknown as { _keep: number })._keep === 1),
      "the input message is reused",
    );
    const ch2 = msgs.find((m) => m.payload.kind === "toggle" && m.payload.channel === 2);
    assert.equal(ch2?.payload.on, true);
    assert.equal(msgs.find((m) => m.payload.kind === "toggle" && m.payload.channel === 1)?.payload.on, false);
  });

  it("with a broker instead of a device, emits the pushes of every device on it", async () => {
    const a = await device("mss310");
    const b = await device("msl120");
    const flow = onTab(
      [
        brokerNode(),
        configNode("ca", a.address, { broker: "b1", transport: "mqtt", uuid: a.uuid, name: "Kitchen plug" }),
        configNode("cb", b.address, { broker: "b1", transport: "http" }),
      ],
      [
        { id: "s1", type: "meross-state", device: "", broker: "b1", pollInterval: "0", wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load(MODULES, flow, { ca: { key: KEY }, cb: { key: KEY } });
    const port = await brokerPort();
    const msgs = collect<Msg>(helper.getNode("out"));
    await pointAt(a, port);
    await pointAt(b, port);
    await waitListening(a);
    await waitListening(b);
    await waitFor(
      () => [a, b].every((s) => msgs.some((m) => m.meross?.uuid === s.uuid && m.payload.kind === "online" && m.payload.online === true)),
      5000,
      "both online",
    );
    a.press();
    b.press();
    await waitFor(
      () => [a, b].every((s) => msgs.some((m) => m.meross?.uuid === s.uuid && m.payload.kind === "toggle" && m.payload.on === true)),
      5000,
      "both presses",
    );
    const fromA = msgs.find((m) => m.meross?.uuid === a.uuid && m.payload.kind === "toggle");
    // Named like every node names it: its Meross device node's name, else model and uuid end.
    assert.equal(fromA?.topic, "Kitchen plug");
    assert.equal(fromA?.payload.source, "push");
    const fromB = msgs.find((m) => m.meross?.uuid === b.uuid && m.payload.kind === "toggle");
    assert.equal(fromB?.topic, `msl120 ${b.uuid.slice(-4)}`);
  });

  it("with a broker, turns one 64 KB push listing 2,500 togglex entries into at most one message per channel (64 at most)", async () => {
    const flow = onTab(
      [brokerNode(), configNode("ca", "127.0.0.1:9", { broker: "b1", transport: "mqtt", uuid: DEVICE_A.uuid, name: "Strip" })],
      [
        { id: "s1", type: "meross-state", device: "", broker: "b1", pollInterval: "0", wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load(MODULES, flow, { ca: { key: KEY } });
    const msgs = collect<Msg>(helper.getNode("out"));
    const dev = await FakeDevice.connect({ port: await brokerPort(), uuid: DEVICE_A.uuid, mac: DEVICE_A.mac, key: KEY });
    try {
      await waitFor(() => msgs.some((m) => m.payload.kind === "online"), 5000, "online");
      const togglex = Array.from({ length: 2500 }, (_, i) => ({ channel: i % 70, onoff: Math.floor(i / 70) % 2 }));
      await dev.publish(dev.message("PUSH", "Appliance.Control.ToggleX", { togglex }));
      // A second push after it, on a channel the first did not set off: once it is out, the first was handled.
      await dev.publish(dev.message("PUSH", "Appliance.Control.ToggleX", { togglex: [{ channel: 0, onoff: 0 }] }));
      await waitFor(
        () => msgs.some((m) => m.payload.kind === "toggle" && m.payload.channel === 0 && m.payload.on === false),
        5000,
        "marker",
      );
      const toggles = msgs.filter((m) => m.payload.kind === "toggle");
      assert.ok(toggles.length > 1 && toggles.length <= 65, `${toggles.length} messages`);
      assert.equal(new Set(toggles.slice(0, -1).map((m) => m.payload.channel)).size, toggles.length - 1, "one per channel");
    } finally {
      await dev.close();
    }
  });

  it("polls a device that is on no broker and emits only what changed", async () => {
    const sim = await device("mss310");
    const flow = onTab(
      [configNode("c1", sim.address)],
      [
        { id: "s1", type: "meross-state", device: "c1", pollInterval: "1", wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load(MODULES, flow, { c1: { key: KEY } });
    const msgs = collect<Msg>(helper.getNode("out"));
    await (helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> }).getDevice();
    sim.setOnOff(true);
    await waitFor(() => msgs.some((m) => m.payload.kind === "toggle"), 8000, "the poll to see the change");
    const toggles = msgs.filter((m) => m.payload.kind === "toggle");
    assert.equal(toggles.length, 1);
    assert.deepEqual(toggles[0].payload, { on: true, channel: 0, kind: "toggle", source: "poll" });
    assert.equal(toggles[0].meross?.uuid, sim.uuid);
  });

  it("refuses an unusable poll interval with a red status", async () => {
    const sim = await device("mss310");
    const flow = onTab(
      [configNode("c1", sim.address)],
      [{ id: "s1", type: "meross-state", device: "c1", pollInterval: "0.1", wires: [[]] }, ...CATCH_NODES],
    );
    await helper.load(MODULES, flow, { c1: { key: KEY } });
    const got = nextMessage<{ error: { code: string; message: string } }>(helper.getNode("caught"));
    helper.getNode("s1").receive({ payload: 1 });
    const err = (await got).error;
    assert.equal(err.code, "BAD_INPUT");
    assert.match(err.message, /poll interval/);
  });

  it("meross-toggle and meross-light show a pushed change in their status; no status, log or message holds the key", async () => {
    const sim = await device("msl120");
    const flow = onTab(
      [brokerNode(), configNode("c1", sim.address, { broker: "b1", transport: "auto" })],
      [
        { id: "t1", type: "meross-toggle", device: "c1", channel: "0", wires: [[]] },
        { id: "l1", type: "meross-light", device: "c1", wires: [[]] },
        { id: "s1", type: "meross-state", device: "c1", wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load(MODULES, flow, { c1: { key: KEY } });
    const t1 = statuses(helper.getNode("t1"));
    const l1 = statuses(helper.getNode("l1"));
    const msgs = collect<Msg>(helper.getNode("out"));
    await pointAt(sim, await brokerPort());
    await waitListening(sim);
    await (helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> }).getDevice();
    sim.press();
    await waitFor(() => t1.some((s) => s.text === "dev · on" && s.fill === "green"), 5000, "meross-toggle to show the press");
    sim.setLight({ luminance: 42 });
    await waitFor(() => l1.some((s) => /42%/.test(s.text ?? "")), 5000, "meross-light to show the pushed brightness");
    const everything = JSON.stringify({ t1, l1, msgs, logs: helper.log().args });
    assert.ok(!everything.includes(KEY));
  });
});
