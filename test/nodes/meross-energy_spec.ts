import assert from "node:assert/strict";
import configNodeModule = require("../../src/nodes/meross-config");
import energyNode = require("../../src/nodes/meross-energy");
import requestNode = require("../../src/nodes/meross-request");
import brokerModule = require("../../src/nodes/meross-broker");
import stateNode = require("../../src/nodes/meross-state");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, configNode, onTab, CATCH_NODES, useRuntime, collect, waitFor } from "./helpers";
import { brokerNode, brokerPort, pointAt, waitListening } from "./broker-helpers";

type Energy = {
  power: number;
  voltage: number;
  current: number;
  todayKwh: number | null;
  totalKwh: number | null;
  date?: string;
  channel: number;
  days: { date: string; kwh: number }[];
};
type Msg = { payload: unknown; energy: Energy; topic?: string; error?: { code: string; message: string } };

describe("meross-energy node", function () {
  let sim: SimulatedDevice | undefined;

  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function load(model: string, props: Record<string, unknown> = {}) {
    sim = await startDevice({ model });
    const flow = onTab(
      [configNode("c1", sim.address, { name: "Coffee machine" })],
      [
        { id: "e1", type: "meross-energy", device: "c1", channel: "", show: "power", pollInterval: 0, wires: [["out"]], ...props },
        { id: "out", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load([configNodeModule, energyNode, requestNode], flow, { c1: { key: KEY } });
    return { e1: helper.getNode("e1"), out: helper.getNode("out"), caught: helper.getNode("caught"), sim };
  }

  type TestNode = ReturnType<typeof helper.getNode>;
  async function read(e1: TestNode, out: TestNode, msg: Record<string, unknown> = {}): Promise<Msg> {
    const got = nextMessage<Msg>(out);
    e1.receive({ payload: "", ...msg });
    return got;
  }

  it("a dashboard flow: W, V and A of a plug, and a kWh total that keeps rising across a simulated midnight", async () => {
    const { e1, out, sim } = await load("mss310");
    sim.setOnOff(true);
    const first = await read(e1, out);
    assert.equal(typeof first.payload, "number");
    assert.equal(first.payload, first.energy.power);
    assert.ok(first.energy.power > 55 && first.energy.power < 65, `about 60 W, got ${first.energy.power}`);
    assert.ok(first.energy.voltage > 220 && first.energy.voltage < 240);
    assert.ok(first.energy.current > 0.2 && first.energy.current < 0.3);
    assert.equal(first.topic, "Coffee machine");
    assert.ok(first.energy.days.length >= 20, "the device's days come along");
    const total0 = first.energy.totalKwh!;
    assert.ok(total0 > 0);

    sim.advanceTime(86_400); // one simulated day at 60 W: 1.44 kWh, across local midnight
    const second = await read(e1, out);
    assert.notEqual(second.energy.date, first.energy.date, "a new day began");
    assert.ok(Math.abs(second.energy.totalKwh! - total0 - 1.44) < 0.01, `total rose by 1.44 kWh: ${total0} → ${second.energy.totalKwh}`);
    assert.ok(second.energy.todayKwh! < 1.44, "today restarted at midnight");

    sim.resetEnergyToday(); // firmware restarts today's counter on reboot
    const third = await read(e1, out, { show: "totalKwh" });
    assert.ok(third.energy.totalKwh! >= second.energy.totalKwh!, "a reboot never makes the total go down");
    assert.equal(third.payload, third.energy.totalKwh);
  });

  it("puts the chosen value in msg.payload", async () => {
    const { e1, out } = await load("mss310", { show: "voltage" });
    const msg = await read(e1, out);
    assert.equal(msg.payload, msg.energy.voltage);
    const today = await read(e1, out, { show: "todayKwh" });
    assert.equal(today.payload, today.energy.todayKwh);
  });

  it("reads one channel of an em06 energy meter; a channel it does not measure is a clear error", async () => {
    const { e1, out } = await load("em06", { channel: "4" });
    const msg = await read(e1, out);
    assert.equal(msg.energy.channel, 4);
    assert.ok(Math.abs((msg.payload as number) - 1200) < 30);
    assert.equal(msg.energy.todayKwh, null, "a meter keeps no days");
    assert.ok((msg.energy.totalKwh ?? 0) > 0, "the month counter feeds the total");
    const again = await read(e1, out, { channel: 2 });
    assert.equal(again.energy.channel, 4, "the node's own channel wins over msg.channel");
  });

  it("follows msg.channel when the node's channel is empty, and refuses channels the meter lacks", async () => {
    const { e1, out, caught } = await load("em06");
    const first = await read(e1, out);
    assert.equal(first.energy.channel, 1, "empty channel: the meter's first");
    const six = await read(e1, out, { channel: 6 });
    assert.ok(six.energy.power < 0, "channel 6 feeds back");
    const got = nextMessage<Msg>(caught);
    e1.receive({ payload: "", channel: 9 });
    const err = (await got).error!;
    assert.equal(err.code, "BAD_INPUT");
    assert.match(err.message, /Channel 9 is not measured by this em06: it measures channels 1, 2, 3, 4, 5, 6/);
  });

  it("a polled meter channel is the node's own, and a channel the meter lacks is the same clear error as on input", async () => {
    const { out } = await load("em06", { channel: "4", pollInterval: 1 });
    const msg = await nextMessage<Msg>(out);
    assert.equal(msg.energy.channel, 4);
    assert.ok(Math.abs((msg.payload as number) - 1200) < 30);
    await helper.unload();
    await sim?.stop();
    const bad = await load("em06", { channel: "9", pollInterval: 1 });
    const err = (await nextMessage<Msg>(bad.caught)).error!;
    assert.equal(err.code, "BAD_INPUT");
    assert.match(err.message, /Channel 9 is not measured by this em06: it measures channels 1, 2, 3, 4, 5, 6/);
  });

  it("bad inputs: a device that measures nothing, an unknown msg.show, a bad channel", async () => {
    const { e1, caught } = await load("mss425");
    let got = nextMessage<Msg>(caught);
    e1.receive({ payload: "" });
    let err = (await got).error!;
    assert.equal(err.code, "UNSUPPORTED");
    assert.match(err.message, /does not measure energy/);
    got = nextMessage<Msg>(caught);
    e1.receive({ payload: "", show: "watts" });
    err = (await got).error!;
    assert.equal(err.code, "BAD_INPUT");
    assert.match(err.message, /power, voltage, current, todayKwh, totalKwh/);
    got = nextMessage<Msg>(caught);
    e1.receive({ payload: "", channel: "two" });
    assert.equal((await got).error!.code, "BAD_INPUT");
  });

  it("a read still queued when the node closes never reaches the device (issue 19: close cancels what the node started)", async () => {
    sim = await startDevice({ model: "mss310" });
    const flow = onTab(
      [configNode("c1", sim.address)],
      [
        { id: "e1", type: "meross-energy", device: "c1", channel: "", show: "power", pollInterval: 0, wires: [["out"]] },
        { id: "r1", type: "meross-request", device: "c1", method: "GET", namespace: "Appliance.System.Ability", wires: [["rout"]] },
        { id: "out", type: "helper" },
        { id: "rout", type: "helper" },
      ],
    );
    await helper.load([configNodeModule, energyNode, requestNode], flow, { c1: { key: KEY } });
    const [e1, r1, out, rout] = ["e1", "r1", "out", "rout"].map((id) => helper.getNode(id));
    await read(e1, out); // the session knows the device
    const seen: string[] = [];
    sim.on("request", (r: { method: string; namespace: string }) => seen.push(`${r.method} ${r.namespace}`));
    sim.setFault({ kind: "delay", ms: 400 }, { count: 1 });
    const slow = nextMessage(rout);
    r1.receive({ payload: "" }); // holds the device's queue for 400 ms
    const sent = collect(out);
    e1.receive({ payload: "" }); // queued behind it
    await new Promise((r) => setImmediate(r));
    await (e1 as unknown as { close(removed: boolean): Promise<void> }).close(false);
    await slow;
    r1.receive({ payload: "" });
    await nextMessage(rout); // one more round trip: anything queued before it has been sent by now
    assert.deepEqual(
      seen.filter((n) => !n.endsWith("Ability")),
      [],
      "the closed node's read was dropped",
    );
    assert.equal(sent.length, 0, "and nothing was sent by the closed node");
  });

  it("polls on its interval without any input", async () => {
    const { out } = await load("mss310", { pollInterval: 1 });
    const seen = collect<Msg>(out);
    await waitFor(() => seen.length >= 2, 10_000, "two polled readings");
    assert.equal(typeof seen[0].payload, "number");
  });

  it("shares the device's one Poller with meross-state; its close stops its reads while meross-state keeps polling", async () => {
    sim = await startDevice({ model: "mss310" });
    const flow = onTab(
      [configNode("c1", sim.address)],
      [
        { id: "e1", type: "meross-energy", device: "c1", channel: "", show: "power", pollInterval: 1, wires: [["out"]] },
        { id: "s1", type: "meross-state", device: "c1", pollInterval: 1, wires: [["sout"]] },
        { id: "out", type: "helper" },
        { id: "sout", type: "helper" },
      ],
    );
    await helper.load([configNodeModule, energyNode, stateNode], flow, { c1: { key: KEY } });
    const [e1, out, c1] = ["e1", "out", "c1"].map((id) => helper.getNode(id));
    const seen: string[] = [];
    sim.on("request", (r: { method: string; namespace: string }) => seen.push(r.namespace));
    const readings = collect<Msg>(out);
    await waitFor(() => readings.length >= 2, 10_000, "two polled readings");
    assert.equal(typeof readings[0].payload, "number");
    const shared = (c1 as unknown as { shared(k: string, create: () => never): { polling: boolean } }).shared("poller", () => {
      throw new Error("meross-state and meross-energy should already share the config's Poller");
    });
    assert.equal(typeof shared.polling, "boolean");
    await (e1 as unknown as { close(removed: boolean): Promise<void> }).close(false);
    // A read already under way finishes; the next one is meross-state's alone.
    await waitFor(() => !shared.polling, 10_000, "the read under way to end");
    const mark = seen.length;
    const polls = (): number => seen.slice(mark).filter((n) => !/Electricity|Consumption/.test(n)).length;
    await waitFor(() => polls() >= 2, 10_000, "two more polls by meross-state");
    assert.deepEqual(
      seen.slice(mark).filter((n) => /Electricity|Consumption/.test(n)),
      [],
      "no energy read after meross-energy closed",
    );
  });

  it("with 'also send changes' ticked, sends a message when the device pushes a new reading over MQTT", async () => {
    sim = await startDevice({ model: "mss310", mqttReconnectMs: 50 });
    const flow = onTab(
      [brokerNode(), configNode("c1", sim.address, { broker: "b1", transport: "mqtt" })],
      [
        {
          id: "e1",
          type: "meross-energy",
          device: "c1",
          channel: "",
          show: "power",
          pollInterval: 0,
          reportChanges: true,
          wires: [["out"]],
        },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load([brokerModule, configNodeModule, energyNode], flow, { c1: { key: KEY } });
    await pointAt(sim, await brokerPort());
    await waitListening(sim);
    const got = nextMessage<Msg>(helper.getNode("out"));
    sim.setOnOff(true);
    const msg = await got;
    assert.ok((msg.payload as number) > 55, "the pushed power arrives without any input");
  });
});

describe("meross-request device care words", function () {
  let sim: SimulatedDevice | undefined;

  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function load(model = "mss310") {
    sim = await startDevice({ model });
    const flow = onTab(
      [configNode("c1", sim.address)],
      [
        { id: "r1", type: "meross-request", device: "c1", method: "", namespace: "", wires: [["out"]] },
        { id: "out", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load([configNodeModule, requestNode], flow, { c1: { key: KEY } });
    return { r1: helper.getNode("r1"), out: helper.getNode("out"), caught: helper.getNode("caught"), sim };
  }

  it("'dnd on' turns the status LED off and 'dnd off' back on", async () => {
    const { r1, out, sim } = await load();
    let got = nextMessage<Msg>(out);
    r1.receive({ payload: "dnd on" });
    assert.deepEqual((await got).payload, { dnd: true });
    assert.equal(sim.state.dndMode, 1);
    got = nextMessage<Msg>(out);
    r1.receive({ payload: "DND off" });
    assert.deepEqual((await got).payload, { dnd: false });
    assert.equal(sim.state.dndMode, 0);
  });

  it("'info' reports model, versions, MAC, IP, Wi-Fi signal, uptime and time zone", async () => {
    const { r1, out, sim } = await load();
    const got = nextMessage<Msg>(out);
    r1.receive({ payload: "info" });
    const info = (await got).payload as Record<string, unknown>;
    assert.equal(info.model, "mss310r");
    assert.equal(info.uuid, sim.uuid);
    assert.equal(info.mac, sim.mac);
    assert.equal(info.firmwareVersion, "2.1.4");
    assert.equal(typeof info.signal, "number");
    assert.equal(typeof info.uptime, "number");
    assert.equal(typeof info.timezone, "string");
    assert.equal(info.dnd, false);
  });

  it("'sync time' gives the device its zone; an unknown zone and a device without DND are clear errors", async () => {
    const { r1, out, caught } = await load("em06");
    const got = nextMessage<Msg>(out);
    r1.receive({ payload: "sync time", timezone: "Europe/Berlin" });
    assert.equal(((await got).payload as { timezone: string }).timezone, "Europe/Berlin");
    const info = nextMessage<Msg>(out);
    r1.receive({ payload: "info" });
    assert.equal(((await info).payload as { timezone: string }).timezone, "Europe/Berlin");
    let err = nextMessage<Msg>(caught);
    r1.receive({ payload: "sync time", timezone: "Atlantis/Nowhere" });
    assert.equal((await err).error!.code, "BAD_INPUT");
    err = nextMessage<Msg>(caught);
    r1.receive({ payload: "dnd on" });
    const e = (await err).error!;
    assert.equal(e.code, "UNSUPPORTED");
    assert.match(e.message, /no do-not-disturb/);
  });
});
