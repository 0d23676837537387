import assert from "node:assert/strict";
import {
  NS_DIGEST_TIMERX,
  NS_TIMERX,
  addTimer,
  addTrigger,
  buildTimerXSet,
  changeSchedule,
  daysFromWeek,
  deleteSchedule,
  listSchedules,
  parseDays,
  parseDigest,
  parseEntryReply,
  parseTimerEntry,
  parseTriggerEntry,
  reduceEnvelope,
  scheduleCapability,
  timerFromInput,
  triggerFromInput,
  weekFromDays,
} from "../../../src/core/capabilities";
import { MerossDevice } from "../../../src/core/session/device";
import { MerossError } from "../../../src/core/errors";
import { SimulatedDevice } from "../../../src/simulator/device";
import { FakeSession } from "../helpers/fakes";
import { isCode, rejectsWith } from "../../helpers/errors";

/** 2024-01-01 was a Monday; 06:00 UTC (the simulator's local time without a timeRule). */
const MONDAY_0600 = Date.UTC(2024, 0, 1, 6, 0) / 1000;

describe("schedule capability: codec", () => {
  it("reads digests as real firmware sends them, including the empty forms", () => {
    assert.deepEqual(parseDigest({ digest: [{ channel: 0, id: "iojt92798uas7qq9", count: 4 }] }, "Digest.TimerX"), [
      { channel: 0, id: "iojt92798uas7qq9", count: 4 },
    ]);
    assert.deepEqual(parseDigest({ digest: [] }, "x"), []);
    assert.deepEqual(parseDigest({}, "x"), []); // mts200b answered {} [T …0C]
    assert.throws(() => parseDigest({ digest: [{ channel: 0 }] }, "x"), isCode("BAD_RESPONSE"));
    assert.throws(() => parseDigest({ digest: "no" }, "x"), isCode("BAD_RESPONSE"));
    assert.throws(() => parseDigest(null, "x"), isCode("BAD_RESPONSE"));
  });

  it("reads a timer entry: minutes after midnight, week bits, on/off action", () => {
    const t = parseTimerEntry({
      id: "1111111111111111",
      alias: "",
      type: 1,
      enable: 1,
      channel: 0,
      createTime: 1,
      week: 0x80 | 0b0000010,
      time: 1252,
      sunOffset: 0,
      duration: 0,
      extend: { toggle: { onoff: 1, lmTime: 0 } },
    });
    assert.equal(t.time, "20:52");
    assert.deepEqual(t.days, ["mon"]);
    assert.equal(t.on, true);
    assert.equal(t.enabled, true);
    for (const bad of [{ id: "a", time: 1440, extend: { toggle: { onoff: 1 } } }, { id: "a", time: 10 }, { time: 10 }, "x"]) {
      assert.throws(() => parseTimerEntry(bad), isCode("BAD_RESPONSE"));
    }
    assert.equal(parseEntryReply({ digest: {}, timerx: {} }, "timerx", parseTimerEntry), undefined);
  });

  it("reads a trigger entry: rule.duration in seconds is minutes after on", () => {
    const t = parseTriggerEntry({ id: "abc", type: 1, enable: 1, channel: 0, rule: { week: 193, duration: 900 } });
    assert.equal(t.afterOnMinutes, 15);
    assert.deepEqual(t.days, ["sun", "sat"]);
    assert.throws(() => parseTriggerEntry({ id: "abc", rule: {} }), isCode("BAD_RESPONSE"));
  });

  it("week bitmask round-trips through day names with the repeat bit set", () => {
    assert.equal(weekFromDays(["sun", "sat"]), 193);
    assert.deepEqual(daysFromWeek(weekFromDays(["mon", "wed", "fri"])), ["mon", "wed", "fri"]);
    assert.deepEqual(parseDays("weekdays"), ["mon", "tue", "wed", "thu", "fri"]);
    assert.deepEqual(parseDays(["Monday", "sun"]), ["sun", "mon"]);
  });

  it("builds the SET a device stores: time in minutes, extend.toggle, id of 16 characters", () => {
    const t = timerFromInput({ days: ["mon", "tue"], time: "07:30", on: true });
    const p = buildTimerXSet(t, 1000).timerx as Record<string, unknown>;
    assert.equal(p.time, 450);
    assert.equal(p.week, 0x80 | 0b110);
    assert.deepEqual(p.extend, { toggle: { onoff: 1, lmTime: 0 } });
    assert.match(String(p.id), /^[0-9a-z]{16}$/);
    assert.equal(triggerFromInput({ afterOnMinutes: 30 }).durationSeconds, 1800);
  });

  it("refuses bad input with a sentence naming the value", () => {
    assert.throws(() => timerFromInput({ time: "25:00", on: true }), isCode("BAD_INPUT", /"25:00" is not a time of day/));
    const funday = { time: "07:30", on: true, days: ["mon", "funday"] };
    assert.throws(() => timerFromInput(funday), isCode("BAD_INPUT", /"funday" is not a day of the week/));
    assert.throws(() => timerFromInput({ time: "07:30" }), isCode("BAD_INPUT", /"on"/));
    assert.throws(() => timerFromInput({ time: "07:30", on: "maybe" }), isCode("BAD_INPUT", /"maybe"/));
    assert.throws(() => timerFromInput({ time: "07:30", on: true, channel: -1 }), isCode("BAD_INPUT", /channel -1/));
    assert.throws(() => triggerFromInput({ afterOnMinutes: -5 }), isCode("BAD_INPUT", /"afterOnMinutes" -5/));
    assert.throws(() => triggerFromInput({ afterOnMinutes: "30" }), isCode("BAD_INPUT", /"30"/));
    assert.throws(() => triggerFromInput(null), isCode("BAD_INPUT"));
  });

  it("a push of any schedule namespace tells listeners which kind changed", () => {
    const header = { messageId: "m", namespace: NS_DIGEST_TIMERX, method: "PUSH", timestamp: 1, sign: "" };
    const update = reduceEnvelope([scheduleCapability], { header, payload: { digest: [] } }, "push");
    assert.ok(update);
    assert.deepEqual(update({ toggles: new Map() }), [{ type: "schedule", kind: "timer", source: "push" }]);
  });

  it("a device without timers is UNSUPPORTED, before anything is sent", async () => {
    const s = new FakeSession({ "Appliance.Control.ToggleX": {} });
    await assert.rejects(addTimer(s, { time: "07:00", on: true }), isCode("UNSUPPORTED", /no on\/off timers/));
    await assert.rejects(listSchedules(s), isCode("UNSUPPORTED"));
    assert.deepEqual(s.sent, []);
  });

  it("firmware that refuses DELETE gets the entry disabled instead, and the result says so", async () => {
    const entry = { id: "x1", enable: 1, channel: 0, week: 0xff, time: 60, extend: { toggle: { onoff: 1 } } };
    const s = new FakeSession({ [NS_TIMERX]: {}, [NS_DIGEST_TIMERX]: {} }, (r) => {
      if (r.method === "DELETE") throw new MerossError("UNSUPPORTED", "no DELETE here");
      if (r.namespace === NS_DIGEST_TIMERX) return { digest: [{ channel: 0, id: "x1", count: 1 }] };
      return r.method === "GET" ? { timerx: entry } : {};
    });
    assert.deepEqual(await deleteSchedule(s, "x1"), { kind: "timer", deleted: false });
    const last = s.sent[s.sent.length - 1];
    assert.equal(last.method, "SET");
    assert.equal((last.payload.timerx as { enable: number; id: string }).enable, 0);
  });

  it("a hostile entry reply is BAD_RESPONSE, never a TypeError", async () => {
    const s = new FakeSession({ [NS_TIMERX]: {}, [NS_DIGEST_TIMERX]: {} }, (r) =>
      r.namespace === NS_DIGEST_TIMERX ? { digest: [{ channel: 0, id: "x", count: 1 }] } : { timerx: { id: "x", time: "noon" } },
    );
    await rejectsWith(listSchedules(s), "BAD_RESPONSE");
  });
});

describe("schedule capability: over HTTP against the simulator", () => {
  let sim: SimulatedDevice;
  let dev: MerossDevice;
  beforeEach(async () => {
    sim = await SimulatedDevice.start({ model: "mss310", key: "k" });
    sim.setClock(MONDAY_0600);
    dev = new MerossDevice({ address: sim.address, key: "k" });
  });
  afterEach(async () => {
    await dev.close();
    await sim.stop();
  });

  it("list, add, change and delete round trip", async () => {
    assert.deepEqual(await listSchedules(dev), { timers: [], triggers: [] });
    const timer = await addTimer(dev, { days: ["mon", "tue"], time: "07:30", on: true, name: "wake" });
    const trigger = await addTrigger(dev, { afterOnMinutes: 30 });
    let list = await listSchedules(dev);
    assert.deepEqual(
      list.timers.map((t) => [t.id, t.time, t.days, t.on, t.alias]),
      [[timer.id, "07:30", ["mon", "tue"], true, "wake"]],
    );
    assert.deepEqual(
      list.triggers.map((t) => [t.id, t.afterOnMinutes, t.enabled]),
      [[trigger.id, 30, true]],
    );
    assert.equal(sim.schedules.timers[0].time, 450);

    await changeSchedule(dev, timer.id, { time: "08:15", enabled: false });
    await changeSchedule(dev, trigger.id, { afterOnMinutes: 5 });
    list = await listSchedules(dev);
    assert.deepEqual(
      list.timers.map((t) => [t.time, t.enabled, t.days, t.on]),
      [["08:15", false, ["mon", "tue"], true]],
    );
    assert.equal(list.triggers[0].durationSeconds, 300);

    assert.deepEqual(await deleteSchedule(dev, timer.id), { kind: "timer", deleted: true });
    assert.deepEqual(await deleteSchedule(dev, trigger.id), { kind: "trigger", deleted: true });
    assert.deepEqual(await listSchedules(dev), { timers: [], triggers: [] });
    await rejectsWith(deleteSchedule(dev, timer.id), "BAD_INPUT", /no timer or trigger with id/);
    await rejectsWith(changeSchedule(dev, "../x", {}), "BAD_INPUT", /not a timer or trigger id/);
  });

  it("a weekly timer switches the channel at its time on its days, and not before", async () => {
    await addTimer(dev, { days: ["mon"], time: "07:30", on: true });
    await addTimer(dev, { days: ["mon"], time: "09:00", on: false });
    sim.advanceClock(89 * 60); // 07:29
    assert.equal(sim.state.channels[0].on, false);
    sim.advanceClock(60); // 07:30
    assert.equal(sim.state.channels[0].on, true);
    sim.advanceClock(2 * 3600); // 09:30: the off timer ran at 09:00
    assert.equal(sim.state.channels[0].on, false);
    sim.press();
    sim.advanceClock(24 * 3600); // Tuesday 09:30: neither timer runs on Tuesday
    assert.equal(sim.state.channels[0].on, true);
  });

  it("an auto-off trigger switches the channel off N minutes after it turned on, however it turned on", async () => {
    await addTrigger(dev, { afterOnMinutes: 30 });
    await dev.setToggle(0, true);
    sim.advanceClock(29 * 60);
    assert.equal(sim.state.channels[0].on, true);
    sim.advanceClock(60);
    assert.equal(sim.state.channels[0].on, false);
    // A timer that turns it on starts the trigger too, within the same skipped stretch.
    await addTimer(dev, { time: "07:00", on: true });
    sim.advanceClock(2 * 3600);
    assert.equal(sim.state.channels[0].on, false);
    // It went off at 07:30, when the trigger ran, not when the test looked.
    assert.equal(sim.state.channels[0].lmTime, MONDAY_0600 + 90 * 60);
  });
});
