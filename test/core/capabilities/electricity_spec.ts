import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MerossError } from "../../../src/core/errors";
import { parseConsumptionX, parseElectricity } from "../../../src/core/capabilities";

const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, "../../fixtures/traces", name), "utf8"));

function isCode(code: string) {
  return (e: unknown): boolean => e instanceof MerossError && e.code === code;
}

describe("electricity codec (docs/protocol.md §6.9)", () => {
  it("converts mA / decivolts / mW to A / V / W (mss310r trace)", () => {
    assert.deepEqual(parseElectricity(fixture("mss310r.json").electricity), { channel: 0, current: 0.056, voltage: 218, power: 0.714 });
  });

  it("converts the §6.9 example 418 mA, 2387 dV, 67379 mW", () => {
    assert.deepEqual(parseElectricity({ electricity: { channel: 0, current: 418, voltage: 2387, power: 67379 } }), {
      channel: 0,
      current: 0.418,
      voltage: 238.7,
      power: 67.379,
    });
  });

  it("reads the mss305 (fw 8.3.15) reply with its extra config block", () => {
    assert.deepEqual(parseElectricity(fixture("mss305.json").electricity), { channel: 0, current: 0.29, voltage: 233.1, power: 5.297 });
  });

  for (const bad of [
    null,
    {},
    { electricity: {} },
    { electricity: { current: 1, voltage: 2 } },
    { electricity: { current: "x", voltage: 1, power: 1 } },
    "e",
  ]) {
    it(`garbage ${JSON.stringify(bad)} is BAD_RESPONSE`, () => {
      assert.throws(() => parseElectricity(bad), isCode("BAD_RESPONSE"));
    });
  }

  describe("parseConsumptionX", () => {
    it("sorts the mss310r's unsorted days oldest first, in Wh", () => {
      const days = parseConsumptionX(fixture("mss310r.json").consumptionx);
      assert.equal(days.length, 17);
      assert.deepEqual(days[0], { date: "2023-01-12", time: 1673567883, wh: 41 });
      assert.deepEqual(days[days.length - 1], { date: "2023-02-10", time: 1676020378, wh: 0 });
      for (let i = 1; i < days.length; i++) assert.ok(days[i - 1].date <= days[i].date);
    });

    it("sorts the mss305's ring buffer (wraps around mid-list) oldest first", () => {
      const days = parseConsumptionX(fixture("mss305.json").consumptionx);
      assert.equal(days.length, 31);
      assert.deepEqual(days[0], { date: "2025-01-15", time: days[0].time, wh: 217 });
      assert.equal(days[days.length - 1].date, "2025-02-17");
      for (let i = 1; i < days.length; i++) assert.ok(days[i - 1].date < days[i].date);
    });

    it("skips malformed entries instead of failing the whole list", () => {
      assert.deepEqual(parseConsumptionX({ consumptionx: [null, { date: "yesterday", value: 1 }, { date: "2024-01-02", value: "5" }] }), [
        { date: "2024-01-02", time: 0, wh: 5 },
      ]);
    });

    for (const bad of [null, {}, { consumptionx: {} }, []]) {
      it(`garbage ${JSON.stringify(bad)} is BAD_RESPONSE`, () => {
        assert.throws(() => parseConsumptionX(bad), isCode("BAD_RESPONSE"));
      });
    }
  });
});
