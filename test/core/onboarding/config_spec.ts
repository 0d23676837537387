import assert from "node:assert/strict";
import { MerossError } from "../../../src/core/errors";
import { buildConfigKeyPayload, buildSystemTimePayload, mqttPassword, mqttUsername } from "../../../src/core/onboarding/config";
import { isCode } from "../../helpers/errors";

describe("config codec (docs/protocol.md §3.2, §3.8, §5.2)", () => {
  describe("buildConfigKeyPayload", () => {
    it("duplicates the broker as second broker and sends userId as a string", () => {
      assert.deepEqual(buildConfigKeyPayload({ host: "192.168.1.10", port: 8883, key: "k", userId: 0 }), {
        key: {
          gateway: { host: "192.168.1.10", port: 8883, secondHost: "192.168.1.10", secondPort: 8883, redirect: 1 },
          key: "k",
          userId: "0",
        },
      });
    });

    it("keeps an explicit second broker and accepts an empty key", () => {
      const p = buildConfigKeyPayload({ host: " a.local ", port: 8883, secondHost: "b.local", secondPort: 443, key: "", userId: "1234" });
      assert.deepEqual(p.key.gateway, { host: "a.local", port: 8883, secondHost: "b.local", secondPort: 443, redirect: 1 });
      assert.equal(p.key.key, "");
      assert.equal(p.key.userId, "1234");
    });

    it("refuses an empty host or an impossible port with BAD_INPUT naming the field", () => {
      assert.throws(() => buildConfigKeyPayload({ host: "", port: 8883, key: "", userId: 0 }), isCode("BAD_INPUT", /host/));
      assert.throws(() => buildConfigKeyPayload({ host: "h", port: 0, key: "", userId: 0 }), isCode("BAD_INPUT", /port.*1 to 65535/));
      assert.throws(() => buildConfigKeyPayload({ host: "h", port: 65536, key: "", userId: 0 }), isCode("BAD_INPUT", /port/));
      assert.throws(
        () => buildConfigKeyPayload({ host: "h", port: 1, secondPort: 70000, key: "", userId: 0 }),
        isCode("BAD_INPUT", /second port/),
      );
      assert.throws(
        () => buildConfigKeyPayload({ host: "h", port: 1, key: null as unknown as string, userId: 0 }),
        isCode("BAD_INPUT", /key/),
      );
      assert.throws(
        () => buildConfigKeyPayload(null as unknown as { host: string; port: number; key: string; userId: number }),
        isCode("BAD_INPUT"),
      );
    });

    it("does not echo the key in errors", () => {
      assert.throws(
        () => buildConfigKeyPayload({ host: "", port: 1, key: "topsecret", userId: 0 }),
        (e: unknown) => e instanceof MerossError && !e.message.includes("topsecret"),
      );
    });
  });

  describe("MQTT credentials", () => {
    it("username is the MAC in lowercase and the password uses it the same way", () => {
      assert.equal(mqttUsername(" 34:29:8F:FF:FF:FF "), "34:29:8f:ff:ff:ff");
      assert.equal(mqttPassword("34:29:8F:FF:FF:FF", "testkey", 1234), "1234_5ac868a81f2f21b4a87f7d2bb3467cb5");
    });

    it("a missing MAC is BAD_INPUT", () => {
      assert.throws(() => mqttUsername(""), isCode("BAD_INPUT", /MAC/));
      assert.throws(() => mqttPassword(undefined as unknown as string, "", 0), isCode("BAD_INPUT"));
    });
  });

  describe("buildSystemTimePayload", () => {
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

    it("refuses an unknown zone or a bad time with BAD_INPUT", () => {
      assert.throws(() => buildSystemTimePayload(jan2026, "Mars/Olympus"), isCode("BAD_INPUT", /Mars\/Olympus.*IANA/));
      assert.throws(() => buildSystemTimePayload(Number.NaN, "UTC"), isCode("BAD_INPUT", /epoch seconds/));
      assert.throws(() => buildSystemTimePayload("now" as unknown as number, "UTC"), isCode("BAD_INPUT"));
    });
  });
});
