import assert from "node:assert/strict";
import configNodeModule = require("../../src/nodes/meross-config");
import scheduleNode = require("../../src/nodes/meross-schedule");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, startDevice, nextMessage, collect, configNode, onTab, CATCH_NODES, useRuntime, waitFor, KEY } from "./helpers";
import { sunDay } from "../../src/core/astro";
import { MerossDevice } from "../../src/core/session/device";

/** 2024-01-01 was a Monday; 06:00 in the simulator's local time (UTC without a timeRule). */
const MONDAY_0600 = Date.UTC(2024, 0, 1, 6, 0) / 1000;

/** London, for sunrise/sunset timers. */
const LAT = "51.5074";
const LON = "-0.1278";

/** Today's sunset in London on the simulator's clock (UTC: no timeRule), minutes after midnight. */
function londonSunsetUtcMinutes(): number {
  const d = sunDay(Math.floor(Date.now() / 86_400_000), Number(LAT), Number(LON));
  if (d.kind !== "normal") throw new Error("London always has a sunset");
  return Math.round((d.sunset % 86_400_000) / 60_000);
}

interface ListPayload {
  timers: Array<{
    id: string;
    time: string;
    minutes: number;
    days: string[];
    on: boolean;
    enabled: boolean;
    channel: number;
    alias: string;
    sun?: { event: string; offsetMinutes: number };
  }>;
  triggers: Array<{ id: string; afterOnMinutes: number; channel: number }>;
}
type Out = { payload: ListPayload; topic: string; meross: { action: string; id?: string; uuid: string; moved?: string[] } };

describe("meross-schedule node", function () {
  let sim: SimulatedDevice | undefined;

  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function load(model: string, nodeProps: Record<string, unknown> = {}) {
    sim = await startDevice({ model });
    sim.setClock(MONDAY_0600);
    const flow = onTab(
      [configNode("c1", sim.address, { name: "Hall plug" })],
      [
        { id: "s1", type: "meross-schedule", device: "c1", channel: "", name: "", wires: [["out"]], ...nodeProps },
        { id: "out", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load([configNodeModule, scheduleNode], flow, { c1: { key: KEY } });
    return { s1: helper.getNode("s1"), out: helper.getNode("out"), caught: helper.getNode("caught"), sim };
  }

  async function ask(s1: ReturnType<typeof helper.getNode>, out: ReturnType<typeof helper.getNode>, payload: unknown): Promise<Out> {
    const got = nextMessage<Out>(out);
    s1.receive({ payload });
    return got;
  }

  it("an auto-off trigger set from the node switches the plug off while Node-RED is stopped", async () => {
    const { s1, out, sim } = await load("mss310");
    const msg = await ask(s1, out, { action: "add", trigger: { afterOnMinutes: 30 } });
    assert.equal(msg.topic, "Hall plug");
    assert.equal(msg.meross.action, "add");
    assert.deepEqual(
      msg.payload.triggers.map((t) => [t.id, t.afterOnMinutes, t.channel]),
      [[msg.meross.id, 30, 0]],
    );

    sim.setOnOff(true); // someone turns it on (wall switch, app)
    await helper.unload();
    sim.advanceClock(29 * 60);
    assert.equal(sim.state.channels[0].on, true, "still on after 29 minutes");
    sim.advanceClock(60);
    assert.equal(sim.state.channels[0].on, false, "off 30 minutes after it turned on, with no flow running");
  });

  it("a weekly timer added from the node switches the plug at its time", async () => {
    const { s1, out, sim } = await load("mss310");
    const msg = await ask(s1, out, { action: "add", timer: { days: ["mon", "tue"], time: "07:30", on: true } });
    assert.deepEqual(
      msg.payload.timers.map((t) => [t.time, t.days, t.on, t.enabled]),
      [["07:30", ["mon", "tue"], true, true]],
    );
    await helper.unload();
    sim.advanceClock(89 * 60);
    assert.equal(sim.state.channels[0].on, false);
    sim.advanceClock(60);
    assert.equal(sim.state.channels[0].on, true);
  });

  it("lists, changes and deletes, answering each time with the resulting list", async () => {
    const { s1, out } = await load("mss310");
    assert.deepEqual((await ask(s1, out, "list")).payload, { timers: [], triggers: [] });
    const added = await ask(s1, out, { action: "add", timer: { days: "weekdays", time: "22:00", on: false } });
    const id = added.meross.id!;
    const changed = await ask(s1, out, { action: "change", id, time: "23:15", enabled: false });
    assert.deepEqual(
      changed.payload.timers.map((t) => [t.id, t.time, t.enabled, t.on]),
      [[id, "23:15", false, false]],
    );
    const trig = await ask(s1, out, { action: "add", trigger: { afterOnMinutes: 10 } });
    const changedTrigger = await ask(s1, out, { action: "change", id: trig.meross.id, trigger: { afterOnMinutes: 45 } });
    assert.equal(changedTrigger.payload.triggers[0].afterOnMinutes, 45);
    const deleted = await ask(s1, out, { action: "delete", id });
    assert.equal(deleted.meross.id, id);
    assert.deepEqual(deleted.payload.timers, []);
    assert.equal(deleted.payload.triggers.length, 1);
  });

  it("puts new entries on the node's outlet and lists only that outlet (power strip)", async () => {
    const { s1, out, sim } = await load("mss425", { channel: "2" });
    const msg = await ask(s1, out, { action: "add", trigger: { afterOnMinutes: 5 } });
    assert.equal(msg.payload.triggers[0].channel, 2);
    sim.setOnOff(true, 2);
    sim.setOnOff(true, 1);
    sim.advanceClock(5 * 60);
    assert.deepEqual(
      sim.state.channels.map((c) => c.on),
      [false, true, false, false],
    );
  });

  it("refuses bad input with a BAD_INPUT sentence naming the value, and sends the plug nothing", async () => {
    // Sun timers off: the node would otherwise read the device's timers once it answers.
    const { s1, out, caught, sim } = await load("mss310", { retime: false });
    const outputs = collect(out);
    await (helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> }).getDevice();
    const before = sim.requestCount;
    const cases: Array<[unknown, RegExp]> = [
      [{ action: "add", timer: { time: "25:00", on: true } }, /"25:00" is not a time of day/],
      [{ action: "add", timer: { time: "07:00", on: true, days: ["mon", "someday"] } }, /"someday" is not a day of the week/],
      [{ action: "add", trigger: { afterOnMinutes: -10 } }, /"afterOnMinutes" -10 must be a number of minutes above 0/],
      [{ action: "wipe" }, /The action "wipe" is not one meross-schedule knows/],
      [{ action: "add" }, /needs either a "timer" object or a "trigger" object/],
      [42, /msg.payload 42 is not a schedule command/],
      [{ action: "add", timer: { time: "sunset+400", on: true } }, /sunset\+400/],
      [{ action: "add", timer: { sunrise: -30, sunset: 10, on: true } }, /one time only/],
    ];
    for (const [payload, re] of cases) {
      const got = nextMessage<{ error: { code: string; message: string } }>(caught);
      s1.receive({ payload });
      const e = (await got).error;
      assert.equal(e.code, "BAD_INPUT", e.message);
      assert.match(e.message, re);
    }
    assert.equal(outputs.length, 0, "nothing reported success");
    assert.equal(sim.requestCount, before, "the plug was not asked anything");
    assert.deepEqual(sim.schedules, { timers: [], triggers: [] });
  });

  it("an id the device does not hold is BAD_INPUT", async () => {
    const { s1, caught } = await load("mss310");
    const got = nextMessage<{ error: { code: string; message: string } }>(caught);
    s1.receive({ payload: { action: "delete", id: "nosuchid00000000" } });
    const e = (await got).error;
    assert.equal(e.code, "BAD_INPUT");
    assert.match(e.message, /no timer or trigger with id "nosuchid00000000"/);
  });

  it("a sunset timer: written at today's sun time with its rule in its name, and the plug switches then with Node-RED stopped", async () => {
    const { s1, out, sim } = await load("mss310", { latitude: LAT, longitude: LON });
    const msg = await ask(s1, out, { action: "add", timer: { time: "sunset-15", on: true, name: "Porch" } });
    const [t] = msg.payload.timers;
    assert.deepEqual([t.alias, t.sun], ["Porch @sunset-15", { event: "sunset", offsetMinutes: -15 }]);
    assert.ok(Math.abs(t.minutes - (londonSunsetUtcMinutes() - 15)) <= 1, `${t.time} is a quarter of an hour before sunset`);
    await helper.unload();
    // The simulator's clock is Monday 06:00; the timer runs every day.
    sim.advanceClock((t.minutes - 1 - 6 * 60) * 60);
    assert.equal(sim.state.channels[0].on, false);
    sim.advanceClock(120);
    assert.equal(sim.state.channels[0].on, true);
  });

  it("moves a sun timer that drifted to today's sun time, on deploy and on {action: retime}", async () => {
    const { s1, out, sim } = await load("mss310", { latitude: LAT, longitude: LON, retime: false });
    const added = await ask(s1, out, { action: "add", timer: { time: "sunset", on: false } });
    const id = added.meross.id!;
    const right = added.payload.timers[0].minutes;
    // The device kept last month's time (Node-RED was stopped meanwhile).
    const drift = async (): Promise<void> => {
      const d = new MerossDevice({ address: sim.address, key: KEY });
      try {
        const stored = sim.schedules.timers[0];
        await d.request("SET", "Appliance.Control.TimerX", { timerx: { ...stored, time: right - 40 } });
      } finally {
        await d.close();
      }
    };
    await drift();
    const retimed = await ask(s1, out, { action: "retime" });
    assert.deepEqual(retimed.meross.moved, [id]);
    assert.equal(retimed.payload.timers[0].minutes, right);

    // A node with re-timing on (the default) does it by itself once the device answers.
    await drift();
    await helper.unload();
    const flow = onTab(
      [configNode("c1", sim.address, { name: "Hall plug" })],
      [{ id: "s1", type: "meross-schedule", device: "c1", latitude: LAT, longitude: LON, wires: [[]] }],
    );
    await helper.load([configNodeModule, scheduleNode], flow, { c1: { key: KEY } });
    await waitFor(() => sim.schedules.timers[0].time === right, 8000, "the timer moved back to today's sunset");
  });

  it("sun timers need a place: BAD_INPUT naming Latitude and Longitude, or the value that is wrong", async () => {
    let { s1, caught } = await load("mss310");
    let got = nextMessage<{ error: { code: string; message: string } }>(caught);
    s1.receive({ payload: { action: "add", timer: { time: "sunrise", on: true } } });
    let e = (await got).error;
    assert.equal(e.code, "BAD_INPUT");
    assert.match(e.message, /does not know where it is.*Set Latitude and Longitude on the meross-schedule node/);

    await helper.unload();
    await sim!.stop();
    ({ s1, caught } = await load("mss310", { latitude: "95", longitude: LON }));
    got = nextMessage<{ error: { code: string; message: string } }>(caught);
    s1.receive({ payload: "list" });
    e = (await got).error;
    assert.equal(e.code, "BAD_INPUT");
    assert.match(e.message, /latitude "95" must be degrees from -90/);
  });
});
