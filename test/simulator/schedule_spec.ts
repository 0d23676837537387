import assert from "node:assert/strict";
import { SimulatedDevice } from "../../src/simulator/device";
import { MODELS, defineModel } from "../../src/simulator/models";
import { schedule } from "../../src/simulator/capabilities/schedule";
import { send } from "./helpers";

/** 2024-01-01 was a Monday. */
const MONDAY_0600 = Date.UTC(2024, 0, 1, 6, 0) / 1000;

const timer = (id: string, time: number, week: number, onoff: 0 | 1) => {
  const extend = { toggle: { onoff, lmTime: 0 } };
  return { id, alias: "", type: 1, enable: 1, channel: 0, createTime: 1, week, time, sunOffset: 0, duration: 0, extend };
};

describe("simulator: timers and triggers", () => {
  const devices: SimulatedDevice[] = [];
  async function start(model: string): Promise<SimulatedDevice> {
    const d = await SimulatedDevice.start({ model, key: "k" });
    d.setClock(MONDAY_0600);
    devices.push(d);
    return d;
  }
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.stop()));
    delete MODELS.mondayplug;
  });

  it("answers like firmware: empty objects without an id, the entry by id, digests in System.All", async () => {
    const d = await start("mss310");
    assert.deepEqual((await send(d, "Appliance.Control.TimerX", "GET", { timerx: {} })).payload, { digest: {}, timerx: {} });
    assert.deepEqual((await send(d, "Appliance.Digest.TriggerX", "GET", { digest: [] })).payload, { digest: [] });
    const set = await send(d, "Appliance.Control.TimerX", "SET", { timerx: timer("aaaabbbbccccdddd", 450, 0x82, 1) });
    assert.equal(set.header.method, "SETACK");
    const got = await send(d, "Appliance.Control.TimerX", "GET", { timerx: { id: "aaaabbbbccccdddd" } });
    assert.equal((got.payload.timerx as { time: number }).time, 450);
    const all = await send(d, "Appliance.System.All", "GET", {});
    const digest = ((all.payload.all as Record<string, unknown>).digest as Record<string, unknown>).timerx;
    assert.deepEqual(digest, [{ channel: 0, id: "aaaabbbbccccdddd", count: 1 }]);
    // A replaced entry counts up, as the traces' counts suggest.
    await send(d, "Appliance.Control.TimerX", "SET", { timerx: timer("aaaabbbbccccdddd", 460, 0x82, 1) });
    const again = await send(d, "Appliance.Digest.TimerX", "GET", { digest: [] });
    assert.deepEqual(again.payload.digest, [{ channel: 0, id: "aaaabbbbccccdddd", count: 2 }]);
  });

  it("refuses malformed entries with ERROR 5000 and stores nothing", async () => {
    const d = await start("mss310");
    const ok = timer("x", 10, 0x80, 1);
    for (const bad of [timer("x", 1440, 0x80, 1), { ...ok, extend: {} }, { ...ok, channel: 5 }, "x"]) {
      const r = await send(d, "Appliance.Control.TimerX", "SET", { timerx: bad });
      assert.equal(r.header.method, "ERROR", JSON.stringify(bad));
    }
    const r = await send(d, "Appliance.Control.TriggerX", "SET", { triggerx: { id: "t", channel: 0, rule: { week: 0xff, duration: -1 } } });
    assert.equal(r.header.method, "ERROR");
    assert.deepEqual(d.schedules, { timers: [], triggers: [] });
  });

  it("DELETE removes an entry and answers DELETEACK; an unknown id is ERROR 5000", async () => {
    const d = await start("mss310");
    await send(d, "Appliance.Control.TriggerX", "SET", {
      triggerx: { id: "t1", channel: 0, enable: 1, rule: { week: 0xff, duration: 60 } },
    });
    const del = await send(d, "Appliance.Control.TriggerX", "DELETE", { triggerx: { id: "t1" } });
    assert.equal(del.header.method, "DELETEACK");
    assert.equal((await send(d, "Appliance.Control.TriggerX", "DELETE", { triggerx: { id: "t1" } })).header.method, "ERROR");
    assert.deepEqual(d.schedules.triggers, []);
  });

  it("a timer that runs is reported as one change (pushed like a button press), with the time it ran", async () => {
    const d = await start("mss310");
    await send(d, "Appliance.Control.TimerX", "SET", { timerx: timer("t", 7 * 60, 0x82, 1) });
    const changes: unknown[] = [];
    d.on("change", (s) => changes.push(s));
    d.advanceClock(2 * 3600);
    assert.equal(changes.length, 1, "one change reported");
    assert.equal(d.state.channels[0].lmTime, MONDAY_0600 + 3600);
  });

  it("setting the clock does not replay what lies between; a disabled entry never runs", async () => {
    const d = await start("mss310");
    await send(d, "Appliance.Control.TimerX", "SET", { timerx: { ...timer("u", 6 * 60 + 30, 0xff, 1), enable: 0 } });
    d.advanceClock(24 * 3600);
    assert.equal(d.state.channels[0].on, false, "the disabled 06:30 timer did not run");
    await send(d, "Appliance.Control.TimerX", "SET", { timerx: timer("t", 7 * 60, 0xff, 1) });
    d.setClock(MONDAY_0600 + 27 * 3600);
    assert.equal(d.state.channels[0].on, false, "jumping the clock to 09:00 skipped 07:00");
    d.advanceClock(22 * 3600);
    assert.equal(d.state.channels[0].on, true, "the next day's 07:00 ran");
  });

  it("reads week bit 0 as Monday when a model says so ([DK]'s order)", async () => {
    const capabilities = [...MODELS.mss310.capabilities.filter((c) => c.name !== "schedule"), schedule({ mondayFirst: true })];
    MODELS.mondayplug = defineModel({ ...MODELS.mss310, name: "mondayplug", capabilities });
    const d = await start("mondayplug");
    // bit 0 only: Monday in [DK]'s order, Sunday in the default one.
    await send(d, "Appliance.Control.TimerX", "SET", { timerx: timer("t", 7 * 60, 0x81, 1) });
    d.advanceClock(3600);
    assert.equal(d.state.channels[0].on, true);
  });
});
