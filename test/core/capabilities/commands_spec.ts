import assert from "node:assert/strict";
import {
  NS_CONSUMPTIONX,
  NS_ELECTRICITY,
  NS_LIGHT,
  NS_MULTIPLE,
  NS_TOGGLE,
  NS_TOGGLEX,
  getConsumption,
  getElectricity,
  getToggle,
  lightCapacity,
  requestMultiple,
  setLight,
  setToggle,
} from "../../../src/core/capabilities";
import { FakeSession } from "../helpers/fakes";
import { isCode } from "../../helpers/errors";

describe("capability commands (against a fake session)", () => {
  it("setToggle speaks ToggleX when the device has it and records the new state", async () => {
    const s = new FakeSession({ [NS_TOGGLEX]: {} });
    assert.deepEqual(await setToggle(s, 1, true), { channel: 1, on: true });
    assert.deepEqual(s.sent, [{ method: "SET", namespace: NS_TOGGLEX, payload: { togglex: { channel: 1, onoff: 1 } } }]);
    assert.equal(s.state.toggles.get(1), true);
    assert.deepEqual(s.heard, [{ type: "toggle", channel: 1, on: true, source: "reply" }]);
  });

  it("setToggle uses legacy Control.Toggle on old firmware, and 'toggle' reads the state first", async () => {
    const s = new FakeSession({ [NS_TOGGLE]: {} }, (r) => (r.method === "GET" ? { toggle: { onoff: 1 } } : {}));
    assert.deepEqual(await setToggle(s, 0, "toggle"), { channel: 0, on: false });
    assert.deepEqual(
      s.sent.map((r) => `${r.method} ${r.namespace}`),
      [`GET ${NS_TOGGLE}`, `SET ${NS_TOGGLE}`],
    );
    assert.deepEqual(s.sent[1].payload, { channel: 0, toggle: { onoff: 0 } });
  });

  it("getToggle on a device without a switch is UNSUPPORTED, and an unknown channel BAD_INPUT", async () => {
    await assert.rejects(getToggle(new FakeSession({ [NS_LIGHT]: {} })), isCode("UNSUPPORTED", /no on\/off switch/));
    const s = new FakeSession({ [NS_TOGGLEX]: {} }, () => ({ togglex: [{ channel: 0, onoff: 1 }] }));
    await assert.rejects(getToggle(s, 3), isCode("BAD_INPUT", /Channel 3/));
  });

  it("setLight follows the ability capacity and switches the bulb on through ToggleX", async () => {
    const s = new FakeSession({ [NS_LIGHT]: { capacity: 6 }, [NS_TOGGLEX]: {} }, (r) =>
      r.method === "GET" ? { light: { capacity: 6, channel: 0, temperature: 50, luminance: 50 } } : {},
    );
    assert.equal(lightCapacity(s), 6);
    const out = await setLight(s, { luminance: 30 });
    assert.equal(out.luminance, 30);
    assert.equal(out.on, true);
    assert.deepEqual(
      s.sent.map((r) => `${r.method} ${r.namespace}`),
      [`GET ${NS_LIGHT}`, `SET ${NS_LIGHT}`, `SET ${NS_TOGGLEX}`],
    );
    await assert.rejects(setLight(s, { rgb: 0xff0000 }), isCode("UNSUPPORTED", /no colour LEDs/));
  });

  it("electricity converts units and consumption comes oldest first", async () => {
    const s = new FakeSession({ [NS_ELECTRICITY]: {}, [NS_CONSUMPTIONX]: {} }, (r) =>
      r.namespace === NS_ELECTRICITY
        ? { electricity: { channel: 0, current: 1500, voltage: 2301, power: 345000 } }
        : {
            consumptionx: [
              { date: "2024-01-02", time: 2, value: 5 },
              { date: "2024-01-01", time: 1, value: 3 },
            ],
          },
    );
    assert.deepEqual(await getElectricity(s), { channel: 0, current: 1.5, voltage: 230.1, power: 345 });
    assert.deepEqual(
      (await getConsumption(s)).map((d) => d.date),
      ["2024-01-01", "2024-01-02"],
    );
  });

  it("requestMultiple refuses more requests than the device's maxCmdNum before sending", async () => {
    const s = new FakeSession({ [NS_MULTIPLE]: { maxCmdNum: 1 } });
    const item = { method: "GET", namespace: NS_TOGGLEX, payload: {} };
    await assert.rejects(requestMultiple(s, [item, item]), isCode("BAD_INPUT", /at most 1/));
    assert.equal(s.sent.length, 0);
  });
});
