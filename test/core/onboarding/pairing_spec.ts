import assert from "node:assert/strict";
import { onboard, scanWifi } from "../../../src/core/onboarding";
import { MerossDevice } from "../../../src/core/session/device";
import { SimulatedDevice } from "../../../src/simulator/device";
import { MerossError } from "../../../src/core/errors";

/** A device that already left pairing mode: the sentence says how to get it back, not "wrong key". */
describe("onboarding a device that is no longer in pairing mode", function () {
  this.timeout(20000);
  let sim: SimulatedDevice | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it("Scan says the device left pairing mode and how to put it back, without mentioning a wrong key", async () => {
    sim = await SimulatedDevice.start({ model: "mss310", port: 0, key: "the-owners-key" });
    const device = new MerossDevice({ address: sim.address, key: "", accessPoint: true });
    try {
      await assert.rejects(scanWifi(device), (err: unknown) => {
        assert.ok(err instanceof MerossError);
        assert.match(err.message, /no longer in access-point \(pairing\) mode/);
        assert.match(err.message, /hold its button/);
        assert.doesNotMatch(err.message, /key is wrong/);
        return true;
      });
    } finally {
      await device.close();
    }
  });

  it("onboarding stops at its first step with the same explanation", async () => {
    sim = await SimulatedDevice.start({ model: "mss310", port: 0, key: "the-owners-key" });
    await assert.rejects(
      onboard({ address: sim.address, key: "mine", mqttHost: "127.0.0.1", mqttPort: 8883, wifi: { ssid: "HomeNet", password: "pw" } }),
      /no longer in access-point \(pairing\) mode/,
    );
  });
});
