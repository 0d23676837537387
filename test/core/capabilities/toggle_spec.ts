import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildToggleSet, buildToggleXSet, parseOnOffInput, parseTogglePayload, parseToggleXPayload } from "../../../src/core/capabilities";
import { isCode } from "../../helpers/errors";

const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, "../../fixtures/traces", name), "utf8"));

describe("toggle codec (docs/protocol.md §6.5, §6.6)", () => {
  describe("parseToggleXPayload", () => {
    it("reads the object form (mss310r GETACK)", () => {
      assert.deepEqual(parseToggleXPayload(fixture("mss310r.json").togglexGet), [{ channel: 0, on: true, lmTime: 1676020428 }]);
    });

    it("reads the object form (msl320cpr GETACK)", () => {
      assert.deepEqual(parseToggleXPayload(fixture("msl320cpr.json").togglexGet), [{ channel: 0, on: true, lmTime: 1634059130 }]);
    });

    it("reads the list form with outer channel 0xFFFFFFFF (mss305 GETACK)", () => {
      const p = fixture("mss305.json").togglexGet;
      assert.equal(p.channel, 4294967295);
      assert.deepEqual(parseToggleXPayload(p), [{ channel: 0, on: true, lmTime: 1739780266 }]);
    });

    it("reads the System.All digest list", () => {
      const digest = fixture("mss310r.json").systemAll.all.digest;
      assert.deepEqual(parseToggleXPayload({ togglex: digest.togglex }), [{ channel: 0, on: true, lmTime: 1676020428 }]);
    });

    it("sorts several channels of a power strip and tolerates string numbers", () => {
      const p = {
        togglex: [
          { channel: 2, onoff: 0 },
          { channel: "1", onoff: "1", lmTime: "5" },
          { channel: 0, onoff: 1 },
        ],
      };
      assert.deepEqual(parseToggleXPayload(p), [
        { channel: 0, on: true },
        { channel: 1, on: true, lmTime: 5 },
        { channel: 2, on: false },
      ]);
    });

    it("uses the outer channel when the inner object lacks one", () => {
      assert.deepEqual(parseToggleXPayload({ channel: 3, togglex: { onoff: 0 } }), [{ channel: 3, on: false }]);
    });

    it("a reply with only {channel: 0} (mrs100) means no state, not an error", () => {
      assert.deepEqual(parseToggleXPayload({ channel: 0 }), []);
    });

    it("accepts a PUSH list given directly", () => {
      assert.deepEqual(parseToggleXPayload([{ channel: 0, onoff: 0 }]), [{ channel: 0, on: false }]);
    });

    for (const bad of [
      null,
      3,
      "on",
      {},
      { togglex: null },
      { togglex: [5] },
      { togglex: { channel: 0 } },
      { togglex: [{ onoff: "x" }] },
    ]) {
      it(`garbage ${JSON.stringify(bad)} is BAD_RESPONSE`, () => {
        assert.throws(() => parseToggleXPayload(bad), isCode("BAD_RESPONSE", /ToggleX/));
      });
    }
  });

  describe("legacy Toggle", () => {
    it("reads the mss210 GETACK {toggle: {onoff, lmTime}} as channel 0", () => {
      assert.deepEqual(parseTogglePayload(fixture("mss210.json").toggleGet), [{ channel: 0, on: false, lmTime: 1645391086 }]);
    });

    it("reads a PUSH with the channel outside", () => {
      assert.deepEqual(parseTogglePayload({ channel: 0, toggle: { onoff: 1, lmTime: 9 } }), [{ channel: 0, on: true, lmTime: 9 }]);
    });

    for (const bad of [null, [], {}, { toggle: [] }, { toggle: {} }]) {
      it(`garbage ${JSON.stringify(bad)} is BAD_RESPONSE`, () => {
        assert.throws(() => parseTogglePayload(bad), isCode("BAD_RESPONSE"));
      });
    }
  });

  describe("SET builders", () => {
    it("ToggleX SET matches the mss310r's real request", () => {
      assert.deepEqual(buildToggleXSet(0, false), fixture("mss310r.json").togglexSet);
      assert.deepEqual(buildToggleXSet(2, true), { togglex: { channel: 2, onoff: 1 } });
    });

    it("legacy Toggle SET keeps the channel outside the toggle object", () => {
      assert.deepEqual(buildToggleSet(0, true), { channel: 0, toggle: { onoff: 1 } });
    });

    it("refuses bad channels with BAD_INPUT", () => {
      for (const ch of [-1, 1.5, Number.NaN, "0", 0xffffffff]) {
        assert.throws(() => buildToggleXSet(ch as number, true), isCode("BAD_INPUT", /channel/));
        assert.throws(() => buildToggleSet(ch as number, true), isCode("BAD_INPUT", /channel/));
      }
    });
  });

  describe("parseOnOffInput", () => {
    const cases: Array<[unknown, boolean | "toggle" | undefined]> = [
      [true, true],
      [false, false],
      [1, true],
      [0, false],
      ["on", true],
      [" ON ", true],
      ["Off", false],
      ["true", true],
      ["FALSE", false],
      ["1", true],
      ["0", false],
      ["toggle", "toggle"],
      [" Toggle", "toggle"],
      [2, undefined],
      ["maybe", undefined],
      ["", undefined],
      [null, undefined],
      [undefined, undefined],
      [{ on: true }, undefined],
      [[1], undefined],
    ];
    for (const [input, out] of cases) {
      it(`${JSON.stringify(input) ?? "undefined"} → ${String(out)}`, () => assert.equal(parseOnOffInput(input), out));
    }
  });
});
