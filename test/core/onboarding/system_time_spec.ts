/**
 * The System.Time SET devices get at onboarding, at every Bind on our broker and from syncTime:
 * a wrong DST rule makes a device run its schedules an hour off. It is built from a table of
 * the zone's offset changes kept per zone and UTC day, so it must equal a scan of the second's
 * own window whatever second of the day it is asked for, and a new day or zone needs a new table.
 */
import assert from "node:assert/strict";
import { buildSystemTimePayload, scanSystemTimePayload, systemTimeTablesKept } from "../../../src/core/onboarding/system-time";
import { isCode } from "../../helpers/errors";

const HOUR = 3600;
const DAY = 86_400;
/** Seconds around the spring and autumn changes of 2026 in Europe (01:00 UTC on 29 March and 25 October). */
const EU_SPRING = Date.UTC(2026, 2, 29, 1) / 1000;
const EU_AUTUMN = Date.UTC(2026, 9, 25, 1) / 1000;
/** US Eastern: 8 March 2026 07:00 UTC. Lord Howe moves by 30 minutes (5 April 2026 15:00 UTC). */
const US_SPRING = Date.UTC(2026, 2, 8, 7) / 1000;
const LORD_HOWE = Date.UTC(2026, 3, 4, 15) / 1000;

function around(t: number): number[] {
  return [-2 * DAY, -HOUR - 1, -1, 0, 1, HOUR, DAY - 1, DAY + 7].map((d) => t + d);
}

describe("System.Time payload (docs/protocol.md §3.8)", () => {
  const jan2026 = Date.UTC(2026, 0, 10) / 1000;

  it("Europe/Berlin: starts with the rule in force and switches 3600 → 7200 in late March at 01:00 UTC", () => {
    const p = buildSystemTimePayload(jan2026, "Europe/Berlin");
    assert.equal(p.time.timestamp, jan2026);
    assert.equal(p.time.timezone, "Europe/Berlin");
    const rules = p.time.timeRule;
    assert.deepEqual(rules[0], [Date.UTC(2025, 9, 26, 1) / 1000, 3600, 0]);
    assert.deepEqual(rules[1], [Date.UTC(2026, 2, 29, 1) / 1000, 7200, 1]);
    assert.deepEqual(rules[2], [Date.UTC(2026, 9, 25, 1) / 1000, 3600, 0]);
    assert.ok(rules.length >= 5, "covers the next two years");
    for (let i = 1; i < rules.length; i++) assert.ok(rules[i][0] > rules[i - 1][0]);
    for (const r of rules.slice(1)) assert.ok(r[0] <= jan2026 + 2 * 366 * 86400);
  });

  it("reproduces the timeRule a real msl320cpr received for Europe/Rome", () => {
    const p = buildSystemTimePayload(1634059116, "Europe/Rome");
    assert.deepEqual(p.time.timeRule.slice(0, 5), [
      [1616893200, 7200, 1],
      [1635642000, 3600, 0],
      [1648342800, 7200, 1],
      [1667091600, 3600, 0],
      [1679792400, 7200, 1],
    ]);
  });

  it("southern hemisphere: Sydney's summer time is the DST one", () => {
    const rules = buildSystemTimePayload(jan2026, "Australia/Sydney").time.timeRule;
    for (const [, off, dst] of rules) assert.equal(dst, off === 39600 ? 1 : 0);
  });

  it("UTC has no transitions", () => {
    assert.deepEqual(buildSystemTimePayload(jan2026, "UTC").time.timeRule, []);
  });

  it("a fixed non-zero offset zone gets one rule with its offset", () => {
    const rules = buildSystemTimePayload(jan2026, "Asia/Kolkata").time.timeRule;
    assert.equal(rules.length, 1);
    assert.equal(rules[0][1], 19800);
    assert.equal(rules[0][2], 0);
  });

  it("defaults to this machine's time zone", () => {
    assert.equal(buildSystemTimePayload(jan2026).time.timezone, new Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it("follows a change of this machine's zone (TZ) while running", () => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = "America/New_York";
      assert.equal(buildSystemTimePayload(jan2026).time.timezone, "America/New_York");
      process.env.TZ = "Europe/Berlin";
      assert.deepEqual(buildSystemTimePayload(jan2026), buildSystemTimePayload(jan2026, "Europe/Berlin"));
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it("refuses an unknown zone or a bad time with BAD_INPUT", () => {
    assert.throws(() => buildSystemTimePayload(jan2026, "Mars/Olympus"), isCode("BAD_INPUT", /Mars\/Olympus.*IANA/));
    assert.throws(() => buildSystemTimePayload(Number.NaN, "UTC"), isCode("BAD_INPUT", /epoch seconds/));
    assert.throws(() => buildSystemTimePayload("now" as unknown as number, "UTC"), isCode("BAD_INPUT"));
  });
});

describe("System.Time payload from the kept tables", () => {
  const cases: Array<[string, number[]]> = [
    ["Europe/Berlin", [...around(EU_SPRING), ...around(EU_AUTUMN)]],
    ["America/New_York", around(US_SPRING)],
    ["Australia/Lord_Howe", around(LORD_HOWE)],
    ["America/Sao_Paulo", around(EU_SPRING)],
    ["Asia/Kolkata", around(EU_SPRING)],
    ["UTC", around(EU_SPRING)],
  ];
  for (const [zone, seconds] of cases) {
    it(`equals a scan of the second's own window in ${zone}, before, at and after its offset changes`, () => {
      for (const t of seconds) assert.deepEqual(buildSystemTimePayload(t, zone), scanSystemTimePayload(t, zone), `at ${t}`);
    });
  }

  it("answers the second it is asked for, not the one its table was built for", () => {
    const a = buildSystemTimePayload(EU_SPRING - 1, "Europe/Berlin");
    const b = buildSystemTimePayload(EU_SPRING + 1, "Europe/Berlin");
    assert.equal(b.time.timestamp - a.time.timestamp, 2);
    assert.notDeepEqual(a.time.timeRule[0], b.time.timeRule[0], "the rule in force changed at the boundary");
  });

  it("a new day gets its own window: a year on, the rules move on a year", () => {
    const jan2026 = Date.UTC(2026, 0, 10) / 1000;
    const jan2027 = Date.UTC(2027, 0, 10) / 1000;
    const now = buildSystemTimePayload(jan2026, "Europe/Berlin").time.timeRule;
    const later = buildSystemTimePayload(jan2027, "Europe/Berlin").time.timeRule;
    assert.deepEqual(later, scanSystemTimePayload(jan2027, "Europe/Berlin").time.timeRule);
    assert.ok(later[later.length - 1][0] > now[now.length - 1][0], "the last rule lies a year further ahead");
    assert.deepEqual(later[0], now[2], "a year on, the rule in force is the one that was two changes ahead (October 2026)");
  });

  it("a new zone at the same second gets that zone's rules, not the last zone's", () => {
    const berlin = buildSystemTimePayload(US_SPRING - 1, "Europe/Berlin");
    const newYork = buildSystemTimePayload(US_SPRING - 1, "America/New_York");
    assert.equal(newYork.time.timezone, "America/New_York");
    assert.deepEqual(newYork, scanSystemTimePayload(US_SPRING - 1, "America/New_York"));
    assert.notDeepEqual(newYork.time.timeRule, berlin.time.timeRule);
    assert.equal(newYork.time.timeRule[0][1], -5 * HOUR, "New York is on standard time until 8 March 07:00 UTC");
  });

  it("keeps a bounded number of tables however many days and zones are asked for", () => {
    for (let d = 0; d < 40; d++) buildSystemTimePayload(EU_SPRING + d * DAY, d % 2 ? "Europe/Berlin" : "America/New_York");
    const kept = systemTimeTablesKept();
    assert.ok(kept > 0 && kept <= 16, `${kept} tables kept`);
    buildSystemTimePayload(EU_SPRING + 39 * DAY + 1, "Europe/Berlin");
    assert.equal(systemTimeTablesKept(), kept, "a second of a day already kept reuses its table");
  });

  it("keeps no table for a zone that does not exist, and says so as the scan does", () => {
    const kept = systemTimeTablesKept();
    assert.throws(() => buildSystemTimePayload(EU_SPRING, "Mars/Olympus"), isCode("BAD_INPUT", /Mars\/Olympus.*IANA/));
    assert.throws(() => scanSystemTimePayload(EU_SPRING, "Mars/Olympus"), isCode("BAD_INPUT", /Mars\/Olympus.*IANA/));
    assert.equal(systemTimeTablesKept(), kept);
  });
});
