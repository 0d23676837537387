import assert from "node:assert/strict";
import { MerossError } from "../../src/core/errors";
import { parseToggleCommand, resolveChannel } from "../../src/nodes/shared/inputs";

function refusal(fn: () => unknown): MerossError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MerossError, String(err));
    return err;
  }
  assert.fail("expected a BAD_INPUT error");
}

describe("meross-toggle input", () => {
  it("keeps every documented command", () => {
    const cases: Array<[unknown, boolean | "toggle"]> = [
      [true, true],
      [false, false],
      [1, true],
      [0, false],
      ["1", true],
      ["0", false],
      ["on", true],
      [" OFF ", false],
      ["true", true],
      ["false", false],
      ["toggle", "toggle"],
      [{ on: true }, true],
      [{ on: "off" }, false],
      [{ on: "toggle" }, "toggle"],
      [{ state: "on" }, true],
      [{ state: 0 }, false],
    ];
    for (const [input, on] of cases) assert.deepEqual(parseToggleCommand(input), { read: false, on }, JSON.stringify(input));
  });

  it("reads only when asked: empty payload, an inject timestamp or a read word", () => {
    for (const input of [undefined, null, "", "  ", 1764428400000, "read", "GET", "status", "state", "status?"]) {
      assert.deepEqual(parseToggleCommand(input), { read: true }, JSON.stringify(input));
    }
  });

  it("refuses a typo instead of reading and reporting success, naming the value and what is accepted", () => {
    for (const input of ["onn", "of", "ture", {}, { on: "maybe" }, 2, -1, 1e11, Number.NaN, [true], "what is it?"]) {
      const e = refusal(() => parseToggleCommand(input));
      assert.equal(e.code, "BAD_INPUT");
      assert.match(e.message, /is not a command meross-toggle knows/);
      assert.match(e.message, /"on", "off" or "toggle"/);
      assert.match(e.message, /empty payload, an inject timestamp or "read"/);
    }
    assert.match(refusal(() => parseToggleCommand("onn")).message, /msg\.payload "onn"/);
    assert.match(refusal(() => parseToggleCommand({})).message, /msg\.payload \{\}/);
  });

  it("takes msg.outlet counted from 1 when neither the node nor msg.channel sets the channel", () => {
    assert.equal(resolveChannel(undefined, undefined, 3), 2);
    assert.equal(resolveChannel(undefined, undefined, "1"), 0);
    assert.equal(resolveChannel(undefined, 1, 4), 1, "msg.channel comes first");
    assert.equal(resolveChannel("0", undefined, 4), 0, "the node's own channel comes first");
    assert.equal(resolveChannel(undefined, undefined, undefined), 0);
    for (const bad of [0, -1, 1.5, "two"]) {
      assert.match(refusal(() => resolveChannel(undefined, undefined, bad)).message, /msg\.outlet .* from 1/);
    }
  });
});
