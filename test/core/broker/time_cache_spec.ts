/**
 * The broker's cached System.Time payload must be exactly what buildSystemTimePayload computes
 * for the same second: a device given a wrong DST rule runs its schedules an hour off.
 */
import assert from "node:assert/strict";
import { buildSystemTimePayload } from "../../../src/core/onboarding/config";
import { systemTimePayload } from "../../../src/core/broker/time-cache";

const HOUR = 3600;
/** Seconds around the spring and autumn changes of 2026 in Europe (01:00 UTC on 29 March and 25 October). */
const EU_SPRING = Date.UTC(2026, 2, 29, 1) / 1000;
const EU_AUTUMN = Date.UTC(2026, 9, 25, 1) / 1000;
/** US Eastern: 8 March 2026 07:00 UTC. Lord Howe moves by 30 minutes (5 April 2026 15:00 UTC). */
const US_SPRING = Date.UTC(2026, 2, 8, 7) / 1000;
const LORD_HOWE = Date.UTC(2026, 3, 4, 15) / 1000;

function around(t: number): number[] {
  return [-2 * 86_400, -HOUR - 1, -1, 0, 1, HOUR, 86_400 - 1, 86_400 + 7].map((d) => t + d);
}

describe("cached System.Time payload (the broker's Bind answer)", () => {
  const cases: Array<[string, number[]]> = [
    ["Europe/Berlin", [...around(EU_SPRING), ...around(EU_AUTUMN)]],
    ["America/New_York", around(US_SPRING)],
    ["Australia/Lord_Howe", around(LORD_HOWE)],
    ["America/Sao_Paulo", around(EU_SPRING)],
    ["Asia/Kolkata", around(EU_SPRING)],
    ["UTC", around(EU_SPRING)],
  ];
  for (const [zone, seconds] of cases) {
    it(`equals the uncached result in ${zone}, before, at and after its offset changes`, () => {
      for (const t of seconds) assert.deepEqual(systemTimePayload(t, zone), buildSystemTimePayload(t, zone), `at ${t}`);
    });
  }

  it("answers the second it is asked for, not the one its table was built for", () => {
    const a = systemTimePayload(EU_SPRING - 1, "Europe/Berlin");
    const b = systemTimePayload(EU_SPRING + 1, "Europe/Berlin");
    assert.equal(b.time.timestamp - a.time.timestamp, 2);
    assert.notDeepEqual(a.time.timeRule[0], b.time.timeRule[0], "the rule in force changed at the boundary");
  });

  it("refuses a zone that does not exist with the same sentence as the uncached path", () => {
    assert.throws(() => systemTimePayload(EU_SPRING, "Mars/Olympus"), /Mars\/Olympus.*IANA/);
  });
});
