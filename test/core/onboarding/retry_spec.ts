import assert from "node:assert/strict";
import { onboard, scanWifi, type OnboardOptions } from "../../../src/core/onboarding";
import { MerossDevice } from "../../../src/core/session/device";
import { SimulatedDevice } from "../../../src/simulator/device";
import { MerossError } from "../../../src/core/errors";

/**
 * A failed Wi-Fi join leaves the device in pairing mode holding the key it was given (issue 17):
 * a retry must work, and a key nobody here set must be named as such, with the factory reset.
 */
describe("onboarding again after a failed attempt", function () {
  this.timeout(20000);
  let sim: SimulatedDevice;
  const SSID = "HomeNet";
  beforeEach(async () => {
    sim = await SimulatedDevice.start({ model: "mss310", port: 0, unconfigured: true });
    sim.networks = [{ ssid: SSID, bssid: "aa:bb:cc:dd:ee:01", channel: 6, signal: 80, encryption: 6, cipher: 3 }];
    sim.expectWifiPassword(SSID, "right-password");
  });
  afterEach(async () => {
    await sim.stop();
  });

  const attempt = (key: string, password: string, extra: Partial<OnboardOptions> = {}) =>
    onboard({ address: sim.address, key, mqttHost: "127.0.0.1", mqttPort: 8883, wifi: { ssid: SSID, password }, ...extra });
  const rebooted = () => new Promise<{ mode: string; reason: string }>((r) => sim.once("reboot", r));

  /** The first attempt: every step is accepted, then the join fails and the device is back in pairing mode with our key. */
  async function failWithWrongPassword(key: string): Promise<void> {
    const back = rebooted();
    await attempt(key, "wrong-password");
    assert.deepEqual(await back, { mode: "ap", reason: "wifi-failed" });
    assert.equal(sim.mode, "ap");
    assert.equal(sim.key, key, "the device kept the key it was given");
  }

  it("a retry with the right password and the same key succeeds, and the device joins the network", async () => {
    await failWithWrongPassword("my-key");
    const joined = rebooted();
    const result = await attempt("my-key", "right-password");
    assert.ok(result.steps.every((s) => s.ok));
    assert.deepEqual(await joined, { mode: "normal", reason: "wifi-joined" });
    assert.equal(sim.wifi?.ssid, SSID);
  });

  it("a Scan after the failed attempt works with the key that attempt set", async () => {
    await failWithWrongPassword("my-key");
    const device = new MerossDevice({ address: sim.address, key: "", accessPoint: true, acceptKeys: ["my-key"] });
    try {
      const nets = await scanWifi(device);
      assert.deepEqual(
        nets.map((n) => n.ssid),
        [SSID],
      );
    } finally {
      await device.close();
    }
  });

  it("a retry with a new key works when the earlier key is passed as previousKeys", async () => {
    await failWithWrongPassword("first-key");
    await attempt("second-key", "right-password", { previousKeys: ["first-key"] });
    assert.equal(sim.key, "second-key");
  });

  it("a device in pairing mode signing with a key nobody here set: the error says so and names the factory reset; after it, onboarding works", async () => {
    await failWithWrongPassword("someone-elses-key");
    await assert.rejects(attempt("my-key", "right-password"), (err: unknown) => {
      assert.ok(err instanceof MerossError);
      assert.equal(err.code, "WRONG_KEY");
      assert.match(err.message, /already holds a key that was not set from here/);
      assert.match(err.message, /Factory-reset it: hold its button for about 5 seconds/);
      assert.match(err.message, /switch its power off and on 5 times/);
      assert.doesNotMatch(err.message, /another device may be answering/);
      assert.doesNotMatch(err.message, /someone-elses-key|my-key/, "no key in the sentence");
      return true;
    });
    sim.longPress();
    assert.equal(sim.mode, "ap");
    assert.equal(sim.key, "", "the reset clears the key");
    await attempt("my-key", "right-password");
    assert.equal(sim.key, "my-key");
  });
});
