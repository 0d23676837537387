import assert from "node:assert/strict";
import { sunDay } from "../../../src/core/astro";
import {
  NS_DIGEST_TIMERX,
  NS_TIMERX,
  addTimer,
  changeSchedule,
  listSchedules,
  parsePlace,
  parseTimerEntry,
  retimeSunTimers,
  sunRuleFromAlias,
  sunRuleOf,
  syncTime,
  timerFromInput,
  withSunTag,
} from "../../../src/core/capabilities";
import { MerossDevice } from "../../../src/core/session/device";
import { MerossError } from "../../../src/core/errors";
import { SimulatedDevice } from "../../../src/simulator/device";
import { FakeSession } from "../helpers/fakes";
import { isCode, rejectsWith } from "../../helpers/errors";

const dayOf = (y: number, m: number, d: number): number => Math.floor(Date.UTC(y, m - 1, d) / 86_400_000);
/** "HH:MM" of an instant at a fixed offset from UTC, in hours. */
const clock = (ms: number, offsetHours: number): string => new Date(ms + offsetHours * 3_600_000).toISOString().slice(11, 16);
const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
/** Within `tolerance` minutes of a published time. */
function near(actual: string, published: string, tolerance = 2): void {
  assert.ok(Math.abs(minutesOf(actual) - minutesOf(published)) <= tolerance, `${actual} is not within ${tolerance} min of ${published}`);
}

const LONDON = { latitude: 51.5074, longitude: -0.1278 };

describe("sun times (astro.ts)", () => {
  it("match published sunrise and sunset times within two minutes", () => {
    // Published times: London midsummer (BST, +1), New York midwinter (EST, −5), Sydney midwinter (AEST, +10).
    const cases: [number, number, number, number, string, string][] = [
      [dayOf(2024, 6, 21), 51.5074, -0.1278, 1, "04:43", "21:21"],
      [dayOf(2024, 12, 21), 40.7128, -74.006, -5, "07:16", "16:32"],
      [dayOf(2024, 6, 21), -33.8688, 151.2093, 10, "07:00", "16:54"],
    ];
    for (const [day, lat, lon, offset, rise, set] of cases) {
      const d = sunDay(day, lat, lon);
      assert.equal(d.kind, "normal");
      if (d.kind !== "normal") return;
      near(clock(d.sunrise, offset), rise);
      near(clock(d.sunset, offset), set);
    }
  });

  it("says when the sun does not set or does not rise (Tromsø in June and December)", () => {
    assert.equal(sunDay(dayOf(2024, 6, 21), 69.65, 18.96).kind, "polar-day");
    assert.equal(sunDay(dayOf(2024, 12, 21), 69.65, 18.96).kind, "polar-night");
  });
});

describe("sun timers: what a flow may ask", () => {
  it('reads "sunset-15", "sunrise", "Sunrise + 30" and {"sunset": -15}', () => {
    assert.deepEqual(sunRuleOf({ time: "sunset-15" }), { event: "sunset", offsetMinutes: -15 });
    assert.deepEqual(sunRuleOf({ time: "sunrise" }), { event: "sunrise", offsetMinutes: 0 });
    assert.deepEqual(sunRuleOf({ time: "Sunrise + 30" }), { event: "sunrise", offsetMinutes: 30 });
    assert.deepEqual(sunRuleOf({ sunset: -15 }), { event: "sunset", offsetMinutes: -15 });
    assert.equal(sunRuleOf({ time: "07:30" }), undefined);
  });

  it("refuses offsets past six hours, fractions, and two times at once, naming the value", () => {
    assert.throws(() => sunRuleOf({ sunset: 400 }), isCode("BAD_INPUT", /"sunset" 400 must be whole minutes from -360 to 360/));
    assert.throws(() => sunRuleOf({ sunrise: 2.5 }), isCode("BAD_INPUT", /2\.5/));
    assert.throws(() => sunRuleOf({ sunrise: "30" }), isCode("BAD_INPUT", /"30"/));
    assert.throws(() => sunRuleOf({ time: "sunrise+999" }), isCode("BAD_INPUT", /sunrise\+999/));
    assert.throws(() => sunRuleOf({ time: "07:30", sunset: 0 }), isCode("BAD_INPUT", /one time only/));
    assert.throws(() => sunRuleOf({ sunrise: 0, sunset: 0 }), isCode("BAD_INPUT", /one time only/));
    // Not a sun word: the ordinary time check names it.
    assert.throws(() => timerFromInput({ time: "sundown", on: true }), isCode("BAD_INPUT", /"sundown" is not a time of day/));
  });

  it("keeps the rule in the timer's name, and reads it back from a listed entry", () => {
    assert.equal(withSunTag("Porch", { event: "sunset", offsetMinutes: -15 }), "Porch @sunset-15");
    assert.equal(withSunTag("Porch @sunrise+5", { event: "sunset", offsetMinutes: 20 }), "Porch @sunset+20");
    assert.equal(withSunTag("", { event: "sunrise", offsetMinutes: 0 }), "@sunrise");
    assert.deepEqual(sunRuleFromAlias("Porch @sunset-15"), { event: "sunset", offsetMinutes: -15 });
    assert.equal(sunRuleFromAlias("email@sunset.com"), undefined);
    const entry = parseTimerEntry({ id: "a", alias: "@sunrise+30", time: 400, week: 255, extend: { toggle: { onoff: 1 } } });
    assert.deepEqual(entry.sun, { event: "sunrise", offsetMinutes: 30 });
  });

  it("checks a place: degrees in range, both or neither", () => {
    assert.equal(parsePlace("", ""), undefined);
    assert.deepEqual(parsePlace("51.5", "-0.13"), { latitude: 51.5, longitude: -0.13 });
    assert.throws(() => parsePlace("95", "0"), isCode("BAD_INPUT", /latitude "95" must be degrees from -90/));
    assert.throws(() => parsePlace("51.5", ""), isCode("BAD_INPUT", /longitude "" must be degrees/));
    assert.throws(() => parsePlace("north", "0"), isCode("BAD_INPUT", /"north"/));
  });

  it("a device that does not know where it is, with no place given: BAD_INPUT saying to set one, nothing written", async () => {
    const s = new FakeSession({ [NS_TIMERX]: {}, [NS_DIGEST_TIMERX]: {}, "Appliance.System.Position": {} }, (r) =>
      r.namespace === "Appliance.System.Position" ? { position: { longitude: 0, latitude: 0 } } : {},
    );
    await rejectsWith(addTimer(s, { time: "sunset", on: true }), "BAD_INPUT", /does not know where it is.*Latitude and Longitude/);
    assert.ok(!s.sent.some((r) => r.method === "SET"), "no timer was written");
    // The mrs100 capture answers an empty list; firmware may also refuse the GET: both are "no place".
    const answers: Array<() => Record<string, unknown>> = [
      () => ({ position: [] }),
      () => {
        throw new MerossError("UNSUPPORTED", "device error 5000");
      },
    ];
    for (const answer of answers) {
      const t = new FakeSession({ [NS_TIMERX]: {}, "Appliance.System.Position": {} }, (r) =>
        r.namespace === "Appliance.System.Position" ? answer() : {},
      );
      await rejectsWith(addTimer(t, { sunrise: 0, on: true }), "BAD_INPUT", /does not know where it is/);
    }
  });
});

describe("sun timers on a simulated plug (over HTTP)", () => {
  /** 2024-06-21 (a Friday) 10:00 UTC, 11:00 in London. */
  const MIDSUMMER = Date.UTC(2024, 5, 21, 10, 0);
  let sim: SimulatedDevice;
  let dev: MerossDevice;
  beforeEach(async () => {
    sim = await SimulatedDevice.start({ model: "mss310", key: "k" });
    sim.setClock(MIDSUMMER / 1000);
    dev = new MerossDevice({ address: sim.address, key: "k" });
    // The device runs on London time (BST, +1 h), as meross-onboard or "sync time" leave it.
    await syncTime(dev, "Europe/London", MIDSUMMER / 1000);
  });
  afterEach(async () => {
    await dev.close();
    await sim.stop();
  });

  it("writes today's sun time on the device's clock, and the device switches then with nobody else involved", async () => {
    const t = await addTimer(dev, { time: "sunset-15", on: true, name: "Porch" }, { place: LONDON, nowMs: MIDSUMMER });
    near(t.time, "21:06", 1); // sunset 21:21 BST
    const [listed] = (await listSchedules(dev)).timers;
    assert.equal(listed.alias, "Porch @sunset-15");
    assert.deepEqual(listed.sun, { event: "sunset", offsetMinutes: -15 });
    assert.equal(listed.time, t.time);
    assert.equal(sim.schedules.timers[0].time, t.minutes, "the device holds a plain timer at that minute");
    assert.equal(sim.schedules.timers[0].sunOffset, 0, "the firmware's own sun field is left alone");

    // 11:00 now; one minute before the timer nothing has happened, at it the plug is on.
    sim.advanceClock((t.minutes - 1 - 11 * 60) * 60);
    assert.equal(sim.state.channels[0].on, false);
    sim.advanceClock(120);
    assert.equal(sim.state.channels[0].on, true);
  });

  it("re-timing follows the season, and sends nothing when the time is already right", async () => {
    const t = await addTimer(dev, { time: "sunset", on: false }, { place: LONDON, nowMs: MIDSUMMER });
    const fixed = await addTimer(dev, { time: "07:00", on: true }, { nowMs: MIDSUMMER });
    const august = MIDSUMMER + 60 * 86_400_000; // 20 August: sunset about 20:12 BST
    const sets: string[] = [];
    sim.on("request", (r: { method: string; namespace: string }) => r.method === "SET" && sets.push(r.namespace));
    const same = await retimeSunTimers(dev, { place: LONDON, nowMs: MIDSUMMER });
    assert.deepEqual(same, { moved: [], skipped: [] });
    assert.deepEqual(sets, [], "no SET when nothing moved");

    const r = await retimeSunTimers(dev, { place: LONDON, nowMs: august });
    assert.deepEqual(
      r.moved.map((m) => m.id),
      [t.id],
    );
    const list = await listSchedules(dev);
    const sun = list.timers.find((x) => x.id === t.id)!;
    near(sun.time, "20:12", 3);
    assert.equal(sun.alias, "@sunset");
    assert.equal(list.timers.find((x) => x.id === fixed.id)!.time, "07:00", "a fixed timer is never moved");
  });

  it("uses the place the device holds (System.Position, set by the app) when none is given", async () => {
    await dev.request("SET", "Appliance.System.Position", { position: { latitude: 51_507_400, longitude: -127_800 } });
    const t = await addTimer(dev, { sunrise: 30, on: true }, { nowMs: MIDSUMMER });
    near(t.time, "05:13", 1); // sunrise 04:43 BST
  });

  it("an offset that leaves the day is BAD_INPUT, and nothing is written", async () => {
    await rejectsWith(
      addTimer(dev, { time: "sunset+360", on: true }, { place: LONDON, nowMs: MIDSUMMER }),
      "BAD_INPUT",
      /360 min after sunset falls on another day/,
    );
    assert.deepEqual((await listSchedules(dev)).timers, []);
  });

  it("changing days keeps the rule; a fixed time ends it; a sun time starts one", async () => {
    const t = await addTimer(dev, { time: "sunrise", on: true, name: "Blinds" }, { place: LONDON, nowMs: MIDSUMMER });
    await changeSchedule(dev, t.id, { days: "weekend" }, { place: LONDON, nowMs: MIDSUMMER });
    let [e] = (await listSchedules(dev)).timers;
    assert.deepEqual([e.alias, e.days, e.time], ["Blinds @sunrise", ["sun", "sat"], t.time]);
    await changeSchedule(dev, t.id, { time: "06:00" });
    [e] = (await listSchedules(dev)).timers;
    assert.deepEqual([e.alias, e.sun, e.time], ["Blinds", undefined, "06:00"]);
    await changeSchedule(dev, t.id, { time: "sunrise+10" }, { place: LONDON, nowMs: MIDSUMMER });
    [e] = (await listSchedules(dev)).timers;
    assert.equal(e.alias, "Blinds @sunrise+10");
    assert.equal(e.minutes, t.minutes + 10);
  });

  it("a timer made elsewhere with the firmware's own sun fields keeps them through a change", async () => {
    const foreign = {
      id: "app0000000000001",
      alias: "from the app",
      type: 3,
      enable: 1,
      channel: 0,
      createTime: 1,
      week: 255,
      time: 400,
      sunOffset: 30,
      duration: 0,
      extend: { toggle: { onoff: 1, lmTime: 0 } },
    };
    await dev.request("SET", NS_TIMERX, { timerx: foreign });
    await changeSchedule(dev, foreign.id, { enabled: false });
    const stored = sim.schedules.timers.find((x) => x.id === foreign.id)!;
    assert.deepEqual([stored.type, stored.sunOffset, stored.enable, stored.time], [3, 30, 0, 400]);
  });
});
