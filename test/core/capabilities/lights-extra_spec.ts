import assert from "node:assert/strict";
import {
  FADE_STEP_MS,
  FadeController,
  NS_FAN,
  NS_LIGHT,
  NS_LIGHT_EFFECT,
  NS_MULTIPLE,
  NS_TOGGLEX,
  fanChannel,
  findEffect,
  parseEffectList,
  parseFanPayload,
  parseTransition,
  planFade,
  requestAll,
  runFade,
  setFanSpeed,
  setLight,
  type FadeStep,
  type MutableDeviceState,
} from "../../../src/core/capabilities";
import { FakeSession, type Sent } from "../helpers/fakes";
import { isCode } from "../../helpers/errors";

const WHITE = { on: true, luminance: 10, temperature: 1, rgb: 0, mode: "temperature" };

describe("fade planning", () => {
  it("plans a 3 s fade as 10 to 30 steps that end exactly at the target", () => {
    const steps = planFade(WHITE, { luminance: 90, temperature: 100 }, 3000);
    assert.ok(steps.length >= 10 && steps.length <= 30, `${steps.length} steps`);
    const last = steps[steps.length - 1];
    assert.deepEqual(last, { atMs: 3000, luminance: 90, temperature: 100 });
    const gaps = steps.slice(1).map((s, i) => s.atMs - steps[i].atMs);
    assert.ok(
      gaps.every((g) => g >= 55),
      "never faster than the coalescer's floor",
    );
    const lum = steps.map((s) => s.luminance ?? 0);
    assert.deepEqual(
      [...lum].sort((a, b) => a - b),
      lum,
      "brightness rises step by step",
    );
    assert.ok(new Set(steps.map((s) => s.temperature)).size > 5, "white temperature interpolates when both ends are white");
  });

  it("interpolates a colour only when the light already shows a colour, and jumps otherwise", () => {
    const red = { on: true, luminance: 50, temperature: 1, rgb: 0xff0000, mode: "rgb" };
    const mid = planFade(red, { rgb: 0x0000ff }, 1000);
    assert.ok(
      mid.some((s) => s.rgb !== 0xff0000 && s.rgb !== 0x0000ff),
      "passes through in-between colours",
    );
    assert.equal(mid[mid.length - 1].rgb, 0x0000ff);
    const fromWhite = planFade(WHITE, { rgb: 0x0000ff, luminance: 50 }, 1000);
    assert.ok(
      fromWhite.every((s) => s.rgb === 0x0000ff),
      "white → colour switches colour at once",
    );
  });

  it("starts a light that is off at brightness 1, and a fade to off ends with an off step", () => {
    const off = planFade({ ...WHITE, on: false, luminance: 70 }, { on: true }, 1500);
    assert.equal(off[0].luminance, 1);
    assert.equal(off[0].atMs, 0);
    assert.equal(off[off.length - 1].luminance, 70, "on with a fade returns to the last brightness");
    const down = planFade({ ...WHITE, luminance: 80 }, { on: false }, 1500);
    assert.deepEqual(down[down.length - 1], { atMs: 1500, on: false });
    assert.equal(down[down.length - 2].luminance, 1);
  });

  it("takes seconds, refuses negative, non-numeric and over-an-hour transitions", () => {
    assert.equal(parseTransition(3), 3000);
    assert.equal(parseTransition("1.5"), 1500);
    assert.equal(parseTransition("2s"), 2000);
    for (const bad of [-1, "soon", NaN, 3601, null, {}]) assert.throws(() => parseTransition(bad), isCode("BAD_INPUT", /seconds/));
    assert.equal(FADE_STEP_MS, 150);
  });
});

describe("fade runner", () => {
  it("applies every step in order and reports completion", async () => {
    const applied: FadeStep[] = [];
    const steps = planFade(WHITE, { luminance: 20 }, 30, 10);
    const done = await runFade(steps, async (s) => void applied.push(s), new AbortController().signal);
    assert.equal(done, true);
    assert.deepEqual(applied, steps);
  });

  it("a newer fade or an interrupt stops the running one before its next step", async () => {
    const fades = new FadeController();
    const applied: number[] = [];
    const steps = planFade(WHITE, { luminance: 100 }, 5000);
    const first = fades.run(steps, async (s) => {
      applied.push(s.luminance ?? 0);
      if (applied.length === 2) fades.interrupt();
    });
    assert.equal(await first, false);
    assert.equal(applied.length, 2);
    assert.equal(fades.fading, false);
  });
});

describe("one round trip for light commands (fake session)", () => {
  const LIGHT_GET = { light: { capacity: 6, channel: 0, temperature: 50, luminance: 50 } };
  const multipleEcho = (r: Sent): Record<string, unknown> => {
    if (r.method === "GET") return LIGHT_GET;
    if (r.namespace !== NS_MULTIPLE) return {};
    const items = r.payload.multiple as Array<{ header: { messageId: string; namespace: string } }>;
    return { multiple: items.map((i) => ({ header: { ...i.header, method: "SETACK" }, payload: {} })) };
  };

  it("sends Light + ToggleX as one Multiple when the light is off", async () => {
    const s = new FakeSession({ [NS_LIGHT]: { capacity: 6 }, [NS_TOGGLEX]: {}, [NS_MULTIPLE]: { maxCmdNum: 5 } }, multipleEcho);
    (s.state.toggles as Map<number, boolean>).set(0, false);
    await setLight(s, { luminance: 60 });
    const sets = s.sent.filter((r) => r.method === "SET");
    assert.equal(sets.length, 1);
    assert.equal(sets[0].namespace, NS_MULTIPLE);
    const inner = (sets[0].payload.multiple as Array<{ header: { namespace: string }; payload: unknown }>).map((i) => i.header.namespace);
    assert.deepEqual(inner, [NS_LIGHT, NS_TOGGLEX], "levels first, then on: no flash of the old level");
    assert.equal(s.state.toggles.get(0), true);
  });

  it("sends the Light SET alone when the light is known on, and onoff inside Light where the firmware reports it", async () => {
    const s = new FakeSession({ [NS_LIGHT]: { capacity: 6 }, [NS_TOGGLEX]: {}, [NS_MULTIPLE]: { maxCmdNum: 5 } }, multipleEcho);
    (s.state.toggles as Map<number, boolean>).set(0, true);
    await setLight(s, { luminance: 60 });
    assert.deepEqual(
      s.sent.filter((r) => r.method === "SET").map((r) => r.namespace),
      [NS_LIGHT],
    );

    const fan = new FakeSession({ [NS_LIGHT]: { capacity: 4 }, [NS_TOGGLEX]: {} }, (r) =>
      r.method === "GET" ? { light: { capacity: 4, channel: 1, luminance: 100, onoff: 0 } } : {},
    );
    await setLight(fan, { luminance: 60 });
    const sets = fan.sent.filter((r) => r.method === "SET");
    const light = { channel: 1, luminance: 60, capacity: 4, onoff: 1 };
    assert.deepEqual(sets, [{ method: "SET", namespace: NS_LIGHT, payload: { light } }]);
  });

  it("an ERROR inside the Multiple reply is the error a lone request would give", async () => {
    const s = new FakeSession({ [NS_TOGGLEX]: {}, [NS_MULTIPLE]: { maxCmdNum: 2 } }, (r) => {
      const items = r.payload.multiple as Array<{ header: { messageId: string; namespace: string } }>;
      return { multiple: items.map((i) => ({ header: { ...i.header, method: "ERROR" }, payload: { error: { code: 5000 } } })) };
    });
    await assert.rejects(
      requestAll(s, [{ method: "SET", namespace: NS_TOGGLEX, payload: { togglex: { channel: 0, onoff: 1 } } }]),
      isCode("UNSUPPORTED"),
    );
  });
});

describe("Light.Effect and Fan codecs", () => {
  const LIST = {
    effect: [
      { Id: "0000000000000000", effectName: "Night", enable: 0, member: [] },
      { Id: "a1b2c3d4e5f6a7b8", effectName: "My Party", enable: 1, member: [] },
    ],
  };

  it("reads the effect list and finds an entry by name, Id or position", () => {
    const list = parseEffectList(LIST);
    assert.deepEqual(list[1], { id: "a1b2c3d4e5f6a7b8", name: "My Party", index: 1, enabled: true });
    assert.equal(findEffect(list, "my party").index, 1);
    assert.equal(findEffect(list, "0000000000000000").index, 0);
    assert.equal(findEffect(list, 1).name, "My Party");
    assert.throws(() => findEffect(list, "disco"), isCode("BAD_INPUT", /"Night", "My Party"/));
    assert.throws(() => parseEffectList({ effect: [{ effectName: "x" }] }), isCode("BAD_RESPONSE"));
    assert.throws(() => parseEffectList({}), isCode("BAD_RESPONSE"));
    assert.ok(NS_LIGHT_EFFECT.endsWith("Light.Effect"));
  });

  it("reads fan lists, refuses entries without numbers, and puts the fan after a light on channel 1", () => {
    assert.deepEqual(parseFanPayload({ fan: [{ channel: 2, speed: 3, maxSpeed: 3 }] }), [{ channel: 2, speed: 3, maxSpeed: 3 }]);
    assert.throws(() => parseFanPayload({ fan: [{ channel: 2 }] }), isCode("BAD_RESPONSE"));
    assert.throws(() => parseFanPayload({ fan: "fast" }), isCode("BAD_RESPONSE"));
    const s = new FakeSession({ [NS_FAN]: {} });
    assert.equal(fanChannel(s), 0);
    (s.state as MutableDeviceState).light = { capacity: 4, channel: 1, rgb: 0, temperature: 0, luminance: 100, mode: "luminance" };
    assert.equal(fanChannel(s), 2);
  });

  it("sets a speed within maxSpeed (read once) and refuses one above it", async () => {
    const s = new FakeSession({ [NS_FAN]: {} }, (r) => (r.method === "GET" ? { fan: [{ channel: 0, speed: 1, maxSpeed: 4 }] } : {}));
    assert.deepEqual(await setFanSpeed(s, "max"), { channel: 0, speed: 4, maxSpeed: 4 });
    await setFanSpeed(s, 2);
    assert.deepEqual(
      s.sent.map((r) => r.method),
      ["GET", "SET", "SET"],
      "maxSpeed is read once",
    );
    assert.deepEqual(s.sent[2].payload, { fan: [{ channel: 0, speed: 2 }] });
    await assert.rejects(setFanSpeed(s, 5), isCode("BAD_INPUT", /0 \(stopped\) to 4/));
    await assert.rejects(setFanSpeed(new FakeSession({ [NS_LIGHT]: {} }), 1), isCode("UNSUPPORTED", /no fan/));
  });
});
