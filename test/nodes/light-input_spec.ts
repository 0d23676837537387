import assert from "node:assert/strict";
import { mergeLightRequests, parseLightInput, parseBrightness, type LightRequest } from "../../src/nodes/shared/light-input";

describe("meross-light input", () => {
  it("reads the payload forms a flow sends", () => {
    assert.deepEqual(parseLightInput(true), { on: true });
    assert.deepEqual(parseLightInput("toggle"), { on: "toggle" });
    assert.deepEqual(parseLightInput(40), { luminance: 40 });
    assert.deepEqual(parseLightInput("40%"), { luminance: 40 });
    assert.deepEqual(parseLightInput(0), { on: false });
    assert.deepEqual(parseLightInput("#ff8800"), { rgb: 0xff8800 });
    assert.deepEqual(parseLightInput("2700K"), { temperature: 1 });
    assert.deepEqual(parseLightInput("cool"), { temperature: 100 });
    assert.deepEqual(parseLightInput({ brightness: 0, on: true }), { on: false });
    assert.deepEqual(parseLightInput({ mired: 370 }), { temperature: 1 });
  });

  it("drives one bulb from another bulb's output by its mode", () => {
    const out = { on: true, brightness: 60, mode: "temperature", rgb: "#ff0000", temperature: 6500 };
    assert.deepEqual(parseLightInput(out), { temperature: 100, luminance: 60, on: true });
    assert.deepEqual(parseLightInput({ ...out, mode: "rgb" }), { rgb: 0xff0000, luminance: 60, on: true });
  });

  it("refuses what it does not understand with a sentence naming the value", () => {
    assert.throws(() => parseLightInput({ brigthness: 50 }), { code: "BAD_INPUT", message: /"brigthness"/ });
    assert.throws(() => parseLightInput(150), { code: "BAD_INPUT", message: /0 \(off\) to 100/ });
    assert.throws(() => parseBrightness(NaN), { code: "BAD_INPUT" });
    assert.throws(() => parseLightInput("chartreusey"), { code: "BAD_INPUT", message: /colour/ });
    assert.throws(() => parseLightInput({ rgb: "#f00", temperature: 3000 }), { code: "BAD_INPUT", message: /either a colour or a white/ });
  });

  it("merges pending requests into the state running them in order would give", () => {
    const m = (...rs: LightRequest[]): LightRequest => rs.reduce((a, b) => mergeLightRequests(a, b));
    assert.deepEqual(m({ luminance: 10 }, { luminance: 90 }), { luminance: 90 });
    assert.deepEqual(m({ rgb: 1 }, { temperature: 50 }), { temperature: 50 }, "white replaces colour");
    assert.deepEqual(m({ temperature: 50, luminance: 20 }, { rgb: 5 }), { luminance: 20, rgb: 5 }, "colour replaces white");
    assert.deepEqual(m({ on: false }, { luminance: 40 }), { luminance: 40 }, "a level after off switches back on");
    assert.deepEqual(m({ luminance: 40 }, { on: false }), { luminance: 40, on: false });
    assert.deepEqual(m({ on: "toggle" }, { on: "toggle" }), {}, "two toggles cancel out");
    assert.deepEqual(m({ on: true }, { on: "toggle" }), { on: false });
    assert.deepEqual(m({ luminance: 30 }, { on: "toggle" }), { luminance: 30, on: false }, "a level implied on, so toggle means off");
  });

  it("reads transition in seconds, effects and fan speeds, and refuses mixes a light cannot do in one go", () => {
    const bad = (payload: unknown, re: RegExp) =>
      assert.throws(
        () => parseLightInput(payload),
        (e: { code?: string; message?: string }) => {
          assert.equal(e.code, "BAD_INPUT");
          assert.match(String(e.message), re);
          return true;
        },
      );
    assert.deepEqual(parseLightInput({ brightness: 80, transition: 3 }), { luminance: 80, transition: 3000 });
    assert.deepEqual(parseLightInput({ effect: "Party" }), { effect: "Party" });
    assert.deepEqual(parseLightInput({ effect: "list" }), { effect: "list" });
    assert.deepEqual(parseLightInput({ fan: 2 }), { fan: 2 });
    bad({ brightness: 50, transition: -1 }, /transition -1 .*seconds/);
    bad({ transition: "slowly", on: true }, /seconds/);
    bad({ effect: "Party", brightness: 50 }, /effect.*alone/);
    bad({ effect: 1.5 }, /effect 1\.5 is not valid/);
    bad({ fan: 2, brightness: 10 }, /fan speed alone/);
    bad({ fan: true }, /fan speed true is not valid/);
  });
});
