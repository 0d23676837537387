import assert from "node:assert/strict";
import { buildMessage } from "../../../src/core/protocol/message";
import {
  NS_LIGHT,
  NS_ONLINE,
  NS_TOGGLE,
  NS_TOGGLEX,
  applySystem,
  composeCapabilities,
  lightCapability,
  noteToggle,
  parseSystemAll,
  systemCapability,
  toggleCapability,
  type MutableDeviceState,
} from "../../../src/core/capabilities";

const push = (namespace: string, payload: Record<string, unknown>) => buildMessage({ method: "PUSH", namespace, payload, key: "" });
const fresh = (): MutableDeviceState => ({ toggles: new Map() });

describe("capability reducers (replies and pushes → state)", () => {
  it("toggle: a change is an event, the same state again is not", () => {
    const s = fresh();
    assert.equal(noteToggle(s, 0, true).length, 1);
    assert.deepEqual(noteToggle(s, 0, true), []);
    assert.deepEqual(noteToggle(s, 0, false, "push"), [{ type: "toggle", channel: 0, on: false, source: "push" }]);
  });

  it("toggle: legacy Control.Toggle pushes update channel 0", () => {
    const s = fresh();
    toggleCapability.reduce!(push(NS_TOGGLE, { toggle: { onoff: 1 } }), "push")!(s);
    assert.equal(s.toggles.get(0), true);
  });

  it("toggle: the light of the same channel follows on/off", () => {
    const s = fresh();
    s.light = { capacity: 6, channel: 0, rgb: 0, temperature: 50, luminance: 80, mode: "temperature", on: true };
    toggleCapability.reduce!(push(NS_TOGGLEX, { togglex: [{ channel: 0, onoff: 0 }] }), "push")!(s);
    assert.equal(s.light.on, false);
  });

  it("light: a push carrying only luminance keeps the colour and mode it had", () => {
    const s = fresh();
    s.toggles.set(0, true);
    s.light = { capacity: 5, channel: 0, rgb: 0xff0000, temperature: 0, luminance: 80, mode: "rgb", on: true };
    const events = lightCapability.reduce!(push(NS_LIGHT, { light: { channel: 0, luminance: 20 } }), "push")!(s);
    assert.equal(s.light.luminance, 20);
    assert.equal(s.light.rgb, 0xff0000);
    assert.equal(s.light.on, true);
    assert.equal(events.length, 1);
    assert.equal(events[0].type, "light");
  });

  it("light: a push that is not a light object is not understood", () => {
    assert.equal(lightCapability.reduce!(push(NS_LIGHT, { light: 7 }), "push"), undefined);
  });

  it("system: System.Online becomes an online event without touching state", () => {
    const s = fresh();
    const events = systemCapability.reduce!(push(NS_ONLINE, { online: { status: 2 } }), "push")!(s);
    assert.deepEqual(events, [{ type: "online", online: false, source: "push" }]);
    assert.deepEqual(s, fresh());
    assert.equal(systemCapability.reduce!(push(NS_ONLINE, { online: {} }), "push"), undefined);
  });

  it("system: System.All fills identity, abilities, toggles and light from the digest", () => {
    const s = fresh();
    const all = parseSystemAll({
      all: {
        system: { hardware: { type: "msl120", uuid: "0".repeat(32), macAddress: "48:e1:e9:00:00:01" }, firmware: { version: "1" } },
        digest: { togglex: [{ channel: 0, onoff: 1 }], light: { capacity: 5, channel: 0, rgb: 255, luminance: 10 } },
      },
    });
    const abilities = { [NS_LIGHT]: { capacity: 7 }, "Appliance.Control.ToggleX": {} };
    const events = applySystem(all, abilities, composeCapabilities(abilities))(s);
    assert.equal(s.info?.model, "msl120");
    assert.ok(s.abilities && NS_LIGHT in s.abilities);
    assert.equal(s.toggles.get(0), true);
    assert.equal(s.light?.on, true);
    assert.deepEqual(
      events.map((e) => e.type),
      ["toggle", "light", "info"],
    );
  });
});
