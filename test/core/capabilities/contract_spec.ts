import assert from "node:assert/strict";
import { MerossDevice, type DeviceEvent } from "../../../src/core/session/device";
import { SimulatedDevice } from "../../../src/simulator/device";
import type { DeviceSnapshot } from "../../../src/simulator/types";
import { addTimer, getToggle, listSchedules, readDeviceReport, setDiffuser, sunClock } from "../../../src/core/capabilities";
import { getPresence, parseLatestX } from "../../../src/core/capabilities/presence";
import { Poller } from "../../../src/core/fleet/polling";
import { isCode } from "../../helpers/errors";

const KEY = "contract-key";
const NS_ALL = "Appliance.System.All";

describe("capability contract against the simulator (HTTP, no broker)", () => {
  const sims: SimulatedDevice[] = [];
  const devices: MerossDevice[] = [];

  /** A simulated device, a session to it, the namespaces it was asked for and the events the session heard. */
  async function start(model: string) {
    const sim = await SimulatedDevice.start({ model, key: KEY, port: 0 });
    sims.push(sim);
    const device = new MerossDevice({ address: sim.address, key: KEY });
    devices.push(device);
    const asked: string[] = [];
    sim.on("request", (r: { method: string; namespace: string }) => asked.push(`${r.method} ${r.namespace}`));
    const heard: DeviceEvent[] = [];
    device.events.on("event", (ev) => heard.push(ev));
    return { sim, device, asked, heard };
  }

  function poller(device: MerossDevice) {
    const failed: unknown[] = [];
    const p = new Poller({ intervalMs: 60_000, device: async () => device, online: () => undefined, failed: (e) => failed.push(e) });
    return { p, failed };
  }

  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });

  it("reads System.All once per session, however many families use its digest", async () => {
    const { device, asked } = await start("mss310");
    await getToggle(device, 0);
    await addTimer(device, { days: ["mon", "tue"], time: "07:30", on: true });
    const list = await listSchedules(device);
    assert.equal(list.timers.length, 1);
    const report = await readDeviceReport(device);
    assert.equal(report.model, "mss310r");
    assert.ok(report.time !== undefined && report.timezone !== undefined, "the report has the device clock from the digest");
    const clock = await sunClock(device, { latitude: 52.5, longitude: 13.4 });
    assert.ok(clock.sunrise < clock.sunset);
    assert.deepEqual(
      asked.filter((r) => r === `GET ${NS_ALL}`),
      [`GET ${NS_ALL}`],
    );
  });

  it("a diffuser takes its state from the digest and from its own SETs, without reading System.All again", async () => {
    const { device, asked } = await start("mod100");
    assert.equal((await setDiffuser(device, "")).spray, "off");
    assert.equal((await setDiffuser(device, "eco")).spray, "eco");
    const lit = await setDiffuser(device, { light: { on: true, rgb: "#ff0000", luminance: 40 } });
    assert.deepEqual(lit.light, { on: true, mode: 1, luminance: 40, rgb: "#ff0000" });
    assert.equal(asked.filter((r) => r === `GET ${NS_ALL}`).length, 1);
  });

  it("the Poller reads a garage door a person opened, with no broker", async () => {
    const { sim, device, heard } = await start("msg100");
    const { p, failed } = poller(device);
    await p.pollOnce();
    sim.setCoverTravel(10);
    const opened = new Promise<void>((done) => sim.on("change", (snap: DeviceSnapshot) => snap.covers?.[0]?.state === "open" && done()));
    sim.press(0);
    await opened;
    await p.pollOnce();
    assert.deepEqual(failed, []);
    const states = heard.flatMap((e) => (e.type === "cover" ? [e.cover.state] : []));
    assert.deepEqual(states, ["closed", "open"], "the first poll saw the door closed, the next one open");
  });

  it("the Poller reads a thermostat whose window was opened, with no broker", async () => {
    const { sim, device, heard } = await start("mts200b");
    await device.ready();
    sim.setWindowOpen(true);
    const { p, failed } = poller(device);
    await p.pollOnce();
    assert.deepEqual(failed, []);
    const t = heard.filter((e) => e.type === "thermostat").at(-1);
    assert.ok(t && t.type === "thermostat" && t.thermostat.windowOpen, "the poll saw the open window");
  });

  it("ms600: presence, distance and light level are read, polled and pushed through the one presence module", async () => {
    const { sim, device, heard } = await start("ms600");
    const empty = await getPresence(device);
    assert.equal(empty.present, false);
    assert.equal(empty.lightLevel, 24);
    sim.press(0, "enter");
    const { p, failed } = poller(device);
    await p.pollOnce();
    assert.deepEqual(failed, []);
    const ev = heard.filter((e) => e.type === "presence").at(-1);
    assert.ok(ev && ev.type === "presence");
    assert.deepEqual({ present: ev.presence.present, distance: ev.presence.distance }, { present: true, distance: 0.76 });
    assert.equal(sim.snapshot().presence?.present, true);
  });
});

describe("presence codec (Sensor.LatestX)", () => {
  it("reads the traced ms600 push: value 1 is nobody, distance in mm", () => {
    const [r] = parseLatestX({
      latest: [{ channel: 0, data: { presence: [{ distance: 5760, value: 1, timestamp: 1726031367, times: 0 }] } }],
    });
    assert.deepEqual(r, { channel: 0, present: false, distance: 5.76, at: 1726031367 });
  });

  it("takes the newest of several readings, and the light level", () => {
    const [r] = parseLatestX({
      latest: [
        {
          channel: 0,
          data: {
            presence: [
              { value: 1, distance: 0, timestamp: 10 },
              { value: 2, distance: 760, timestamp: 20 },
            ],
            light: [{ value: 24, timestamp: 5 }],
          },
        },
      ],
    });
    assert.deepEqual(r, { channel: 0, present: true, distance: 0.76, at: 20, lightLevel: 24 });
  });

  for (const bad of [null, {}, { latest: {} }, { latest: [{ data: {} }] }, { latest: [{ channel: 0, data: { presence: [{}] } }] }]) {
    it(`garbage ${JSON.stringify(bad)} is BAD_RESPONSE`, () => {
      assert.throws(() => parseLatestX(bad), isCode("BAD_RESPONSE", /LatestX/));
    });
  }
});
