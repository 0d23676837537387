import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CSS_COLOURS } from "./css-colours";
import {
  KELVIN_MAX,
  KELVIN_MIN,
  LIGHT_CAPACITY,
  buildLightSet,
  checkLightLevels,
  deviceToKelvin,
  hsvToRgb,
  intToHex,
  intToRgb,
  kelvinToDevice,
  lightStateToOutput,
  miredToKelvin,
  parseColour,
  parseLightPayload,
  parseTemperature,
  rgbToHex,
  rgbToHsv,
  rgbToInt,
  type Rgb,
} from "../../../src/core/capabilities";
import { isCode } from "../../helpers/errors";

const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, "../../fixtures/traces", name), "utf8"));

/** A deterministic spread of colours: corners, greys and a pseudo-random walk. */
function sampleColours(): Rgb[] {
  const out: Rgb[] = [];
  for (const r of [0, 1, 127, 128, 254, 255]) for (const g of [0, 64, 255]) for (const b of [0, 2, 200, 255]) out.push([r, g, b]);
  let x = 12345;
  for (let i = 0; i < 2000; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out.push([x & 0xff, (x >> 8) & 0xff, (x >> 16) & 0xff]);
  }
  return out;
}

describe("light codec (docs/protocol.md §6.7)", () => {
  describe("colour maths", () => {
    it("rgb ↔ int ↔ hex round-trip exactly over many colours", () => {
      for (const rgb of sampleColours()) {
        const n = rgbToInt(rgb);
        assert.deepEqual(intToRgb(n), rgb);
        assert.equal(rgbToHex(rgb), intToHex(n));
        assert.match(rgbToHex(rgb), /^#[0-9a-f]{6}$/);
        assert.deepEqual(parseColour(rgbToHex(rgb)), rgb);
      }
    });

    it("uses the device layout R<<16 | G<<8 | B (red = 16711680)", () => {
      assert.equal(rgbToInt([255, 0, 0]), 16711680);
      assert.equal(rgbToInt([0, 255, 0]), 65280);
      assert.equal(intToHex(255), "#0000ff");
    });

    it("rgb → hsv → rgb comes back within 1 per channel", () => {
      for (const rgb of sampleColours()) {
        const { h, s, v } = rgbToHsv(rgb);
        assert.ok(h >= 0 && h < 360 && s >= 0 && s <= 100 && v >= 0 && v <= 100, JSON.stringify({ h, s, v }));
        const back = hsvToRgb(h, s, v);
        for (let i = 0; i < 3; i++) assert.ok(Math.abs(back[i] - rgb[i]) <= 1, `${rgb} → ${h},${s},${v} → ${back}`);
      }
    });

    it("knows the primary hues", () => {
      assert.deepEqual(hsvToRgb(0, 100, 100), [255, 0, 0]);
      assert.deepEqual(hsvToRgb(120, 100, 100), [0, 255, 0]);
      assert.deepEqual(hsvToRgb(240, 100, 100), [0, 0, 255]);
      assert.deepEqual(hsvToRgb(360, 100, 100), [255, 0, 0]);
      assert.deepEqual(rgbToHsv([255, 255, 0]), { h: 60, s: 100, v: 100 });
      assert.deepEqual(rgbToHsv([0, 0, 0]), { h: 0, s: 0, v: 0 });
    });

    it("refuses out-of-range channels and numbers with BAD_INPUT", () => {
      assert.throws(() => rgbToInt([256, 0, 0]), isCode("BAD_INPUT", /0 to 255/));
      assert.throws(() => intToRgb(0x1000000), isCode("BAD_INPUT", /16777215/));
      assert.throws(() => intToHex(-1), isCode("BAD_INPUT"));
      assert.throws(() => hsvToRgb(0, 101, 50), isCode("BAD_INPUT"));
      assert.throws(() => hsvToRgb(Number.NaN, 50, 50), isCode("BAD_INPUT"));
    });
  });

  describe("parseColour", () => {
    const cases: Array<[unknown, Rgb]> = [
      ["#ff8000", [255, 128, 0]],
      ["#FF8000", [255, 128, 0]],
      ["  #f80 ", [255, 136, 0]],
      ["rgb(255,128,0)", [255, 128, 0]],
      ["rgb( 255 , 128 , 0 )", [255, 128, 0]],
      ["RGB(100%, 50%, 0%)", [255, 128, 0]],
      ["rgb(255 128 0)", [255, 128, 0]],
      ["rgba(255,128,0,0.5)", [255, 128, 0]],
      ["hsv(0,100,100)", [255, 0, 0]],
      ["hsv(120, 100%, 50%)", [0, 128, 0]],
      ["hsl(0, 100%, 50%)", [255, 0, 0]],
      ["red", [255, 0, 0]],
      ["RebeccaPurple", [102, 51, 153]],
      ["light goldenrod yellow", [250, 250, 210]],
      ["grey", [128, 128, 128]],
      [
        [1, 2, 3],
        [1, 2, 3],
      ],
      [{ r: 10, g: 20, b: 30 }, [10, 20, 30]],
      [{ red: "10", green: 20, blue: 30 }, [10, 20, 30]],
      [{ h: 240, s: 100, v: 100 }, [0, 0, 255]],
      [{ hue: 0, saturation: 100 }, [255, 0, 0]],
      [{ hue: 0, saturation: 0, brightness: 50 }, [128, 128, 128]],
      [0xff0000, [255, 0, 0]],
      [0, [0, 0, 0]],
    ];
    for (const [input, rgb] of cases) {
      it(`${JSON.stringify(input)} → ${JSON.stringify(rgb)}`, () => assert.deepEqual(parseColour(input), rgb));
    }

    it("knows all 148 CSS named colours", () => {
      assert.equal(Object.keys(CSS_COLOURS).length, 148);
      assert.deepEqual(parseColour("cornflowerblue"), [100, 149, 237]);
      assert.deepEqual(parseColour("darkslategrey"), parseColour("darkslategray"));
      for (const [name, n] of Object.entries(CSS_COLOURS)) assert.equal(rgbToInt(parseColour(name)), n, name);
    });

    const bad: unknown[] = [
      "ff0000",
      "#ff00",
      "#gg0000",
      "rgb(256,0,0)",
      "rgb(-1,0,0)",
      "rgb(1,2)",
      "hsv(0,120,100)",
      "blurple",
      "toString",
      "constructor",
      "",
      [255, 0],
      [255, 0, 300],
      ["a", "b", "c"],
      { r: 1, g: 2 },
      { r: 1, g: 2, b: 256 },
      { h: 10, s: 150 },
      { foo: 1 },
      0x1000000,
      -1,
      1.5,
      null,
      undefined,
      true,
      Number.NaN,
    ];
    for (const input of bad) {
      it(`rejects ${JSON.stringify(input) ?? String(input)} with BAD_INPUT naming the accepted forms`, () => {
        assert.throws(() => parseColour(input), isCode("BAD_INPUT", /#ff0000/));
      });
    }

    it("tells the user a bare hex colour needs a '#'", () => {
      assert.throws(() => parseColour("ff0000"), isCode("BAD_INPUT", /"#"/));
    });
  });

  describe("colour temperature", () => {
    it("maps the ends and the midpoint linearly", () => {
      assert.equal(kelvinToDevice(KELVIN_MIN), 1);
      assert.equal(kelvinToDevice(KELVIN_MAX), 100);
      assert.equal(kelvinToDevice(4600), 51);
      assert.equal(deviceToKelvin(1), 2700);
      assert.equal(deviceToKelvin(100), 6500);
      assert.equal(deviceToKelvin(50), 4580);
    });

    it("clamps out-of-range Kelvin to the bulb's range", () => {
      assert.equal(kelvinToDevice(1800), 1);
      assert.equal(kelvinToDevice(9000), 100);
      assert.equal(deviceToKelvin(-1), 2700);
      assert.equal(deviceToKelvin(0), 2700);
    });

    it("device → Kelvin → device is the identity for every level", () => {
      for (let t = 1; t <= 100; t++) assert.equal(kelvinToDevice(deviceToKelvin(t)), t);
    });

    it("parses what people type", () => {
      assert.equal(parseTemperature(2700), 2700);
      assert.equal(parseTemperature("2700K"), 2700);
      assert.equal(parseTemperature(" 6500 k "), 6500);
      assert.equal(parseTemperature("4000 kelvin"), 4000);
      assert.equal(parseTemperature("3000"), 3000);
      assert.equal(parseTemperature("370 mired"), 2703);
      assert.equal(parseTemperature("warm"), 2700);
      assert.equal(parseTemperature("Cool"), 6500);
      assert.equal(miredToKelvin(250), 4000);
    });

    for (const bad of [50, 999, 10001, "hot", "-2700K", "0 mired", null, {}, Number.POSITIVE_INFINITY]) {
      it(`rejects ${JSON.stringify(bad) ?? String(bad)} with BAD_INPUT suggesting Kelvin`, () => {
        assert.throws(() => parseTemperature(bad), isCode("BAD_INPUT", /Kelvin/));
      });
    }

    it("mired 0 is BAD_INPUT", () => assert.throws(() => miredToKelvin(0), isCode("BAD_INPUT")));
  });

  describe("parseLightPayload on real replies", () => {
    const msl = fixture("msl320cpr.json");

    it("reads the msl320cpr GET (white mode, capacity 6)", () => {
      const s = parseLightPayload(msl.lightGet);
      assert.deepEqual(s, { capacity: 6, channel: 0, rgb: 255, temperature: 55, luminance: 100, mode: "temperature" });
      assert.deepEqual(lightStateToOutput(s), { brightness: 100, mode: "temperature", rgb: "#0000ff", temperature: 4770 });
    });

    it("reads colour mode (capacity 5) from the digest", () => {
      const s = parseLightPayload({ light: msl.systemAllColour.all.digest.light });
      assert.equal(s.mode, "rgb");
      assert.equal(lightStateToOutput(s).rgb, intToHex(1966335));
    });

    it("reads effect mode (capacity 13 = effect + rgb + luminance) as effect", () => {
      assert.equal(parseLightPayload({ light: msl.systemAllEffect.all.digest.light }).mode, "effect");
    });

    it("reads luminance-only (capacity 4) and an onoff field", () => {
      const s = parseLightPayload({ light: { capacity: 4, channel: 1, luminance: 100, onoff: 0 } });
      assert.equal(s.mode, "luminance");
      assert.equal(s.on, false);
      assert.equal(s.channel, 1);
      assert.equal(lightStateToOutput(s).on, false);
    });

    it("tolerates a one-entry list, string numbers, -1 echoes and missing fields", () => {
      const s = parseLightPayload({ light: [{ capacity: "5", rgb: "65280", temperature: -1 }] });
      assert.deepEqual(s, { capacity: 5, channel: 0, rgb: 65280, temperature: 0, luminance: 0, mode: "rgb" });
      const o = lightStateToOutput(parseLightPayload({ light: { rgb: -1 } }));
      assert.equal(o.rgb, "#000000");
    });

    for (const bad of [null, 5, "light", [], {}, { light: null }, { light: 7 }, { light: [] }, { light: [3] }]) {
      it(`garbage ${JSON.stringify(bad)} is BAD_RESPONSE`, () => {
        assert.throws(() => parseLightPayload(bad), isCode("BAD_RESPONSE"));
      });
    }
  });

  describe("checkLightLevels", () => {
    it("refuses with the same sentence as the SET builder, and passes what the bulb can show", () => {
      const bad = [
        [{ rgb: 0xff0000 }, 6],
        [{ temperature: 50 }, 5],
        [{ luminance: 50 }, 1],
        [{ rgb: 1, temperature: 1 }, 7],
        [{ channel: -1, luminance: 5 }, 7],
        [{}, 7],
      ] as const;
      for (const [cmd, cap] of bad) {
        let sentence = "";
        assert.throws(
          () => buildLightSet(cmd, cap),
          (e: Error) => ((sentence = e.message), true),
        );
        assert.throws(
          () => checkLightLevels(cmd, cap),
          (e: Error) => e.message === sentence,
        );
      }
      assert.equal(checkLightLevels({ rgb: 0xff0000, luminance: 40 }, 7), undefined);
    });
  });

  describe("buildLightSet", () => {
    it("sets colour + brightness with capacity 5", () => {
      assert.deepEqual(buildLightSet({ rgb: 0xff0000, luminance: 40 }, 7), {
        light: { channel: 0, rgb: 0xff0000, luminance: 40, capacity: 5 },
      });
    });

    it("sets white + brightness with capacity 6", () => {
      assert.deepEqual(buildLightSet({ temperature: 1, luminance: 100, channel: 0 }, 15), {
        light: { channel: 0, temperature: 1, luminance: 100, capacity: 6 },
      });
    });

    it("matches the hp110a's real brightness-only SET (capacity 4)", () => {
      const real = fixture("hp110a.json").lightSet.light;
      const built = buildLightSet({ luminance: real.luminance }, 15).light;
      assert.equal(built.capacity, real.capacity);
      assert.equal(built.luminance, real.luminance);
    });

    it("clamps brightness to 1..100 because 0 is not a valid level", () => {
      assert.equal(buildLightSet({ luminance: 0 }, 4).light.luminance, 1);
      assert.equal(buildLightSet({ luminance: 250 }, 4).light.luminance, 100);
      assert.equal(buildLightSet({ temperature: 0 }, 6).light.temperature, 1);
    });

    it("passes onoff and transform through, and allows an onoff-only SET without capacity", () => {
      assert.deepEqual(buildLightSet({ onoff: 1 }, 5), { light: { channel: 0, onoff: 1 } });
      assert.deepEqual(buildLightSet({ luminance: 5, transform: 0 }, 4), {
        light: { channel: 0, luminance: 5, capacity: 4, transform: 0 },
      });
    });

    it("refuses colour on a white-only bulb with a sentence that says what to do", () => {
      assert.throws(
        () => buildLightSet({ rgb: 0xff0000 }, LIGHT_CAPACITY.TEMPERATURE | LIGHT_CAPACITY.LUMINANCE),
        isCode("UNSUPPORTED", /no colour LEDs \(capacity 6 = white \+ brightness\).*#ff0000.*colour temperature/),
      );
    });

    it("refuses a colour temperature on a colour-only light, suggesting an RGB colour", () => {
      assert.throws(() => buildLightSet({ temperature: 1 }, 5), isCode("UNSUPPORTED", /capacity 5 = colour \+ brightness.*2700 K.*RGB/));
    });

    it("refuses dimming on a light without the luminance bit", () => {
      assert.throws(() => buildLightSet({ luminance: 50 }, 1), isCode("UNSUPPORTED", /cannot be dimmed/));
    });

    it("on a brightness-only bulb suggests brightness instead of colour", () => {
      assert.throws(() => buildLightSet({ rgb: 1 }, 4), isCode("UNSUPPORTED", /brightness only/));
    });

    it("skips capability checks when the ability capacity is unknown", () => {
      assert.equal(buildLightSet({ rgb: 1 }, Number.NaN).light.capacity, 1);
    });

    it("refuses rgb and temperature together, empty commands and bad values with BAD_INPUT", () => {
      assert.throws(() => buildLightSet({ rgb: 1, temperature: 50 }, 7), isCode("BAD_INPUT", /not both/));
      assert.throws(() => buildLightSet({}, 7), isCode("BAD_INPUT", /sets nothing/));
      assert.throws(() => buildLightSet({ rgb: 0x1000000 }, 7), isCode("BAD_INPUT"));
      assert.throws(() => buildLightSet({ luminance: "x" as unknown as number }, 7), isCode("BAD_INPUT", /brightness/));
      assert.throws(() => buildLightSet({ channel: -1, luminance: 5 }, 7), isCode("BAD_INPUT", /channel/));
      assert.throws(() => buildLightSet({ onoff: 2 as 1 }, 7), isCode("BAD_INPUT", /onoff/));
      assert.throws(() => buildLightSet(null as unknown as object, 7), isCode("BAD_INPUT"));
    });
  });
});
