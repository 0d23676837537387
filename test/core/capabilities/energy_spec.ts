import assert from "node:assert/strict";
import {
  NS_CONSUMPTIONX,
  NS_DND,
  NS_ELECTRICITY,
  NS_ELECTRICITYX,
  NS_RUNTIME,
  NS_TIME,
  countEnergy,
  electricityCapability,
  getElectricityX,
  localDate,
  parseCareCommand,
  parseConsumptionConfig,
  parseDndMode,
  parseElectricity,
  parseElectricityX,
  parseRuntime,
  parseUptime,
  restoreCounter,
  setDnd,
  syncTime,
  todayOf,
  type EnergyCounterState,
  type PeriodValue,
} from "../../../src/core/capabilities";
import type { Envelope } from "../../../src/core/protocol/message";
import type { MutableDeviceState } from "../../../src/core/capabilities";
import { FakeSession } from "../helpers/fakes";
import { isCode } from "../../helpers/errors";

const day = (period: string, wh: number): PeriodValue => ({ period, wh });

describe("energy: units, days and the rising total", () => {
  describe("scaling per model (docs/protocol.md §6.9, docs/protocol-devices.md §17.3)", () => {
    it("a plug reports mA, decivolts and mW", () => {
      assert.deepEqual(parseElectricity({ electricity: { channel: 0, current: 418, voltage: 2387, power: 67379 } }), {
        channel: 0,
        current: 0.418,
        voltage: 238.7,
        power: 67.379,
      });
    });

    it("an energy meter reports millivolts, one entry per channel, power negative when feeding back", () => {
      const r = parseElectricityX({
        electricity: [
          { channel: 2, current: 1200, voltage: 233680, power: -150000, mConsume: 9876, factor: 0.86 },
          { channel: 1, current: "500", voltage: "231000", power: "115500" },
          { channel: 3, current: "x" },
        ],
      });
      assert.deepEqual(r, [
        { channel: 1, current: 0.5, voltage: 231, power: 115.5 },
        { channel: 2, current: 1.2, voltage: 233.7, power: -150, monthWh: 9876, factor: 0.86 },
      ]);
    });

    for (const bad of [null, {}, { electricity: [] }, { electricity: [{ channel: 1 }] }, "x"]) {
      it(`an ElectricityX reply ${JSON.stringify(bad)} is BAD_RESPONSE`, () => {
        assert.throws(() => parseElectricityX(bad), isCode("BAD_RESPONSE", /ElectricityX/));
      });
    }

    it("ConsumptionConfig keeps the numeric calibration values only", () => {
      const config = parseConsumptionConfig({ config: { voltageRatio: 188, electricityRatio: "101", note: "x" } });
      assert.deepEqual(config, { voltageRatio: 188, electricityRatio: 101 });
      assert.throws(() => parseConsumptionConfig({}), isCode("BAD_RESPONSE"));
    });
  });

  describe("days in the device's zone", () => {
    it("today is the item updated last; yesterday the listed day before it", () => {
      const days = [
        { date: "2023-02-08", time: 10, wh: 5 },
        { date: "2023-02-10", time: 30, wh: 2 },
        { date: "2023-02-09", time: 20, wh: 7 },
      ];
      const { today, yesterday } = todayOf(days);
      assert.equal(today?.date, "2023-02-10");
      assert.equal(yesterday?.date, "2023-02-09");
      assert.deepEqual(todayOf([]), {});
    });

    it("localDate applies the System.Time rule in force (23:30 UTC is already tomorrow in Berlin summer time)", () => {
      const t = Date.UTC(2024, 5, 12, 23, 30) / 1000;
      assert.equal(localDate(t), "2024-06-12");
      const rules = [
        [Date.UTC(2024, 2, 31, 1) / 1000, 7200, 1],
        [Date.UTC(2024, 9, 27, 1) / 1000, 3600, 0],
      ];
      assert.equal(localDate(t, rules), "2024-06-13");
      assert.equal(localDate(Date.UTC(2024, 11, 1, 22, 59) / 1000, rules), "2024-12-01");
      assert.equal(localDate(Date.UTC(2024, 11, 1, 23, 0) / 1000, rules), "2024-12-02");
    });
  });

  describe("countEnergy: a total that only rises", () => {
    it("the first reading counts the whole list; growth of today adds the difference", () => {
      let c = countEnergy(undefined, [day("2024-01-01", 100), day("2024-01-02", 40)]);
      assert.equal(c.totalWh, 140);
      c = countEnergy(c, [day("2024-01-01", 100), day("2024-01-02", 55)]);
      assert.equal(c.totalWh, 155);
      c = countEnergy(c, [day("2024-01-01", 100), day("2024-01-02", 55)]);
      assert.equal(c.totalWh, 155, "the same reading twice adds nothing");
    });

    it("across local midnight the new day restarts at 0 and the total keeps rising", () => {
      let c = countEnergy(undefined, [day("2024-01-02", 300)]);
      c = countEnergy(c, [day("2024-01-02", 320), day("2024-01-03", 0)]);
      assert.equal(c.totalWh, 320);
      c = countEnergy(c, [day("2024-01-02", 320), day("2024-01-03", 12)]);
      assert.equal(c.totalWh, 332);
    });

    it("a reboot that restarts today's counter does not subtract: what was used since is added", () => {
      let c = countEnergy(undefined, [day("2024-01-03", 500)]);
      c = countEnergy(c, [day("2024-01-03", 30)]);
      assert.equal(c.totalWh, 530);
      c = countEnergy(c, [day("2024-01-03", 45)]);
      assert.equal(c.totalWh, 545);
    });

    it("a gap of several days adds every day the device still lists, and the rest of the last day seen", () => {
      let c = countEnergy(undefined, [day("2024-01-03", 100)]);
      c = countEnergy(c, [day("2024-01-03", 150), day("2024-01-04", 200), day("2024-01-06", 70), day("2024-01-07", 5)]);
      assert.equal(c.totalWh, 100 + 50 + 200 + 70 + 5);
    });

    it("history older than the first reading that shows up later adds nothing", () => {
      let c = countEnergy(undefined, [day("2024-01-10", 100)]);
      c = countEnergy(c, [day("2024-01-01", 999), day("2024-01-10", 100)]);
      assert.equal(c.totalWh, 100);
    });

    it("a new day with the same Wh as the day before is counted (steady loads)", () => {
      let c = countEnergy(undefined, [day("2024-01-03", 480)]);
      c = countEnergy(c, [day("2024-01-03", 480), day("2024-01-04", 480)]);
      assert.equal(c.totalWh, 960);
    });

    it("ignores negative or non-numeric values and keeps a bounded memory", () => {
      let c: EnergyCounterState | undefined;
      for (let i = 0; i < 100; i++) {
        const d = new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
        c = countEnergy(c, [day(d, 10), { period: d, wh: -5 }, { period: d, wh: Number.NaN }]);
      }
      assert.equal(c!.totalWh, 1000);
      assert.ok(Object.keys(c!.seen).length <= 62);
      assert.throws(() => countEnergy(undefined, "x" as unknown as PeriodValue[]), isCode("BAD_INPUT"));
    });

    it("a stored state comes back from JSON; anything else starts afresh", () => {
      const c = countEnergy(undefined, [day("2024-01-01", 7)]);
      assert.deepEqual(restoreCounter(JSON.parse(JSON.stringify(c))), c);
      for (const bad of [undefined, null, 5, { totalWh: -1, seen: {} }, { totalWh: 1 }]) assert.equal(restoreCounter(bad), undefined);
    });
  });

  describe("pushes update state", () => {
    const env = (namespace: string, payload: Record<string, unknown>): Envelope =>
      ({ header: { namespace, method: "PUSH" }, payload }) as unknown as Envelope;

    it("an Electricity push records the reading and is heard", () => {
      const state: MutableDeviceState = { toggles: new Map() };
      const push = env(NS_ELECTRICITY, { electricity: { channel: 0, current: 56, voltage: 2180, power: 714 } });
      const events = electricityCapability.reduce!(push, "push")!(state);
      const reading = { channel: 0, current: 0.056, voltage: 218, power: 0.714 };
      assert.deepEqual(events, [{ type: "electricity", reading, source: "push" }]);
      assert.equal(state.electricity?.get(0)?.power, 0.714);
    });

    it("a ConsumptionX push records the days; a malformed one changes nothing", () => {
      const state: MutableDeviceState = { toggles: new Map() };
      const push = env(NS_CONSUMPTIONX, { consumptionx: [{ date: "2024-01-01", time: 1, value: 3 }] });
      const events = electricityCapability.reduce!(push, "push")!(state);
      assert.equal(events[0].type, "consumption");
      assert.deepEqual(state.consumption, [{ date: "2024-01-01", time: 1, wh: 3 }]);
      assert.equal(electricityCapability.reduce!(env(NS_CONSUMPTIONX, { consumptionx: 5 }), "push"), undefined);
    });

    it("getElectricityX asks for the listed channels", async () => {
      const reply = { electricity: [{ channel: 1, current: 1, voltage: 230000, power: 230 }] };
      const s = new FakeSession({ [NS_ELECTRICITYX]: {} }, () => reply);
      const r = await getElectricityX(s, [1]);
      assert.equal(r[0].voltage, 230);
      assert.deepEqual(s.sent[0].payload, { electricity: [{ channel: 1 }] });
    });
  });
});

describe("device care (docs/protocol.md §6.4, §3.8)", () => {
  it("parses DND, Runtime and uptime, and refuses odd replies", () => {
    assert.equal(parseDndMode({ DNDMode: { mode: 1 } }), true);
    assert.equal(parseDndMode({ DNDMode: { mode: "0" } }), false);
    assert.throws(() => parseDndMode({ DNDMode: { mode: 3 } }), isCode("BAD_RESPONSE"));
    assert.deepEqual(parseRuntime({ runtime: { signal: 86 } }), { signal: 86 });
    assert.throws(() => parseRuntime({ runtime: {} }), isCode("BAD_RESPONSE"));
    assert.equal(parseUptime("2h3m4s"), 7384);
    assert.equal(parseUptime("nonsense"), undefined);
  });

  it("the care words", () => {
    assert.deepEqual(parseCareCommand(" DND  on "), { kind: "dnd", on: true });
    assert.deepEqual(parseCareCommand("dnd off"), { kind: "dnd", on: false });
    assert.deepEqual(parseCareCommand("info"), { kind: "info" });
    assert.deepEqual(parseCareCommand("sync time"), { kind: "sync time" });
    assert.equal(parseCareCommand("{}"), undefined);
    assert.equal(parseCareCommand(1), undefined);
  });

  it("setDnd sends mode 1 for do-not-disturb; a device without DNDMode is UNSUPPORTED", async () => {
    const s = new FakeSession({ [NS_DND]: {} });
    await setDnd(s, true);
    assert.deepEqual(s.sent[0], { method: "SET", namespace: NS_DND, payload: { DNDMode: { mode: 1 } } });
    await assert.rejects(setDnd(new FakeSession({ [NS_RUNTIME]: {} }), true), isCode("UNSUPPORTED", /do-not-disturb/));
  });

  it("syncTime sends the zone with its DST rules; an unknown zone is BAD_INPUT before anything is sent", async () => {
    const s = new FakeSession({ [NS_TIME]: {} });
    const r = await syncTime(s, "Europe/Berlin", 1_700_000_000);
    assert.equal(r.timezone, "Europe/Berlin");
    const sent = s.sent[0].payload as { time: { timezone: string; timeRule: number[][] } };
    assert.equal(sent.time.timezone, "Europe/Berlin");
    assert.ok(sent.time.timeRule.length >= 2);
    const s2 = new FakeSession({ [NS_TIME]: {} });
    await assert.rejects(syncTime(s2, "Mars/Olympus"), isCode("BAD_INPUT", /time zone/));
    assert.equal(s2.sent.length, 0);
  });
});
