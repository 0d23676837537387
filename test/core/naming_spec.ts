import assert from "node:assert/strict";
import { deviceDisplayName, outletName, shortName, UNKNOWN_DEVICE_NAME } from "../../src/core/naming";

describe("device naming", () => {
  const uuid = "2102156238974929080148e1e986c243";

  it("prefers the user's name, then model and uuid end, then the address", () => {
    assert.equal(deviceDisplayName({ name: " Desk lamp ", model: "mss310", uuid, address: "10.0.0.5" }), "Desk lamp");
    assert.equal(deviceDisplayName({ name: "", model: "mss310", uuid, address: "10.0.0.5" }), "mss310 c243");
    assert.equal(deviceDisplayName({ name: "  ", model: "mss310", uuid: "", address: "10.0.0.5:8080" }), "10.0.0.5:8080");
    assert.equal(deviceDisplayName({ model: "", uuid, address: "10.0.0.5" }), "10.0.0.5");
  });

  it("still says something when little is known", () => {
    assert.equal(deviceDisplayName({ model: "mss310" }), "mss310");
    assert.equal(deviceDisplayName({ uuid }), "…c243");
    assert.equal(deviceDisplayName({}), UNKNOWN_DEVICE_NAME);
    assert.equal(deviceDisplayName({ name: 42, model: { x: 1 }, address: null }), UNKNOWN_DEVICE_NAME, "odd values are ignored");
  });

  it("numbers outlets from 1 like the device's label and shortens long names", () => {
    assert.equal(outletName(0), "outlet 1");
    assert.equal(outletName(2), "outlet 3");
    assert.equal(shortName("Living room corner floor lamp"), "Living room corner …");
    assert.equal(shortName("Desk lamp"), "Desk lamp");
  });
});
