import assert from "node:assert/strict";
import { MerossDevice } from "../../../src/core/session/device";
import { getSubDevice, readHub, type DeviceEvent } from "../../../src/core/capabilities";
import { SimulatedDevice } from "../../../src/simulator/device";

const KEY = "hub-sensors-key";
const DOOR = "2B00F1E2D3C4";
const SMOKE = "3C00A5B6C7D8";

describe("hub door contact (ms200) and smoke alarm (gs559) against the simulated msh300hk (HTTP)", () => {
  let sim: SimulatedDevice | undefined;
  let device: MerossDevice | undefined;
  afterEach(async () => {
    await device?.close();
    await sim?.stop();
    device = sim = undefined;
  });

  async function start(): Promise<{ sim: SimulatedDevice; device: MerossDevice; events: DeviceEvent[] }> {
    sim = await SimulatedDevice.start({ model: "msh300hk", key: KEY, port: 0 });
    device = new MerossDevice({ address: sim.address, key: KEY });
    const events: DeviceEvent[] = [];
    device.events.on("event", (e) => events.push(e));
    return { sim, device, events };
  }

  it("reads both with their types: the door closed, the smoke alarm quiet", async () => {
    const { device } = await start();
    const subs = await readHub(device);
    assert.deepEqual(
      subs.map((s) => [s.id, s.type, s.online, s.battery]),
      [
        [DOOR, "ms200", true, 100],
        [SMOKE, "gs559", true, 100],
      ],
    );
    assert.equal(subs[0].open, false);
    assert.equal(subs[1].smoke, false);
  });

  it("the door opens and closes: `open` follows, with a door alarm going active then clear", async () => {
    const { sim, device, events } = await start();
    await readHub(device);
    sim.setDoorWindow(true);
    assert.equal((await getSubDevice(device, DOOR)).open, true);
    sim.setDoorWindow(false);
    assert.equal((await getSubDevice(device, DOOR)).open, false);
    const doorAlarms = events.filter((e) => e.type === "alarm" && e.subId === DOOR && e.alarm === "door");
    assert.deepEqual(
      doorAlarms.map((e) => e.type === "alarm" && e.active),
      [false, true, false],
    );
  });

  it("a smoke test sounds (smoke: true) and ends by itself; a real alarm sounds until cleared", async () => {
    const { sim, device, events } = await start();
    await readHub(device);
    sim.smokeTest(SMOKE, 150);
    assert.equal((await getSubDevice(device, SMOKE)).smoke, true);
    // The test ends by itself (23 → 170): read until it shows.
    let sounding = true;
    for (let i = 0; i < 200 && sounding; i++) {
      await new Promise((r) => setTimeout(r, 25));
      sounding = (await getSubDevice(device, SMOKE)).smoke === true;
    }
    assert.equal(sounding, false, "back to 170 after the test");
    sim.setSmokeAlarm(true);
    assert.equal((await getSubDevice(device, SMOKE)).smoke, true);
    sim.setSmokeAlarm(false);
    assert.equal((await getSubDevice(device, SMOKE)).smoke, false);
    const smoke = events.filter((e) => e.type === "alarm" && e.subId === SMOKE && e.alarm === "smoke");
    assert.deepEqual(
      smoke.map((e) => e.type === "alarm" && e.active),
      [false, true, false, true, false],
    );
  });
});
