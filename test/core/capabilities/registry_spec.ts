import assert from "node:assert/strict";
import { buildMessage } from "../../../src/core/protocol/message";
import {
  CAPABILITIES,
  NS_LIGHT,
  NS_TOGGLE,
  NS_TOGGLEX,
  composeCapabilities,
  reduceEnvelope,
  type MutableDeviceState,
} from "../../../src/core/capabilities";

const push = (namespace: string, payload: Record<string, unknown>) => buildMessage({ method: "PUSH", namespace, payload, key: "" });

describe("capability registry", () => {
  it("composes a plug from its ability list: system + toggle + electricity, no light", () => {
    const names = composeCapabilities({
      "Appliance.System.All": {},
      [NS_TOGGLEX]: {},
      "Appliance.Control.Electricity": {},
    }).map((c) => c.name);
    assert.deepEqual(names, ["system", "toggle", "electricity"]);
  });

  it("composes a bulb with light and toggle, and a legacy plug through Control.Toggle", () => {
    assert.deepEqual(
      composeCapabilities({ [NS_LIGHT]: { capacity: 6 }, [NS_TOGGLEX]: {} }).map((c) => c.name),
      ["system", "toggle", "light"],
    );
    assert.deepEqual(
      composeCapabilities({ [NS_TOGGLE]: {} }).map((c) => c.name),
      ["system", "toggle"],
    );
  });

  it("assumes every capability before the ability list is known", () => {
    assert.equal(composeCapabilities(undefined).length, CAPABILITIES.length);
  });

  it("sends a push to the capability that owns its namespace and ignores the rest", () => {
    const state: MutableDeviceState = { toggles: new Map() };
    const caps = composeCapabilities({ [NS_TOGGLEX]: {} });
    const update = reduceEnvelope(caps, push(NS_TOGGLEX, { togglex: [{ channel: 1, onoff: 1 }] }), "push");
    assert.ok(update);
    assert.deepEqual(update(state), [{ type: "toggle", channel: 1, on: true, source: "push" }]);
    assert.equal(state.toggles.get(1), true);
    // A light push to a plug has no capability to go to.
    assert.equal(reduceEnvelope(caps, push(NS_LIGHT, { light: { luminance: 5 } }), "push"), undefined);
    assert.equal(reduceEnvelope(caps, push("Appliance.Control.Unknown", {}), "push"), undefined);
  });
});
