import assert from "node:assert/strict";
import { Fleet } from "../../src/simulator/fleet";
import type { DeviceSnapshot } from "../../src/simulator/device";
import { post, send } from "./helpers";

describe("simulator: thermostat, hub and diffuser on the status page routes", () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it("'Trigger leak' (POST /api/devices/:uuid/leak) wets the hub's leak sensor; ?on=0 dries it", async () => {
    fleet = await Fleet.start([{ name: "hub", model: "msh300", key: "k" }]);
    const hub = fleet.devices[0];
    const base = `${fleet.statusUrl}api/devices/${hub.uuid}`;
    const wet = await post(`${base}/leak`);
    assert.equal(wet.status, 200);
    const subs = (wet.body as unknown as DeviceSnapshot).hub ?? [];
    assert.equal(subs.find((s) => s.type === "ms400")?.leak, true);
    const reply = await send(hub, "Appliance.Hub.Sensor.WaterLeak", "GET", { waterLeak: [] }, "k");
    assert.deepEqual(
      (reply.payload.waterLeak as Array<{ latestWaterLeak: number }>).map((e) => e.latestWaterLeak),
      [1],
    );
    await post(`${base}/leak?on=0`);
    assert.equal(hub.snapshot().hub?.find((s) => s.type === "ms400")?.leak, false);
    const bad = await post(`${base}/leak?sub=FFFFFFFF`);
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.error), /has no leak sensor FFFFFFFF: its leak sensors are 1A00694ACBC7/);
  });

  it("opens a thermostat's window and skips an hour: the status shows the room and the window", async () => {
    fleet = await Fleet.start([{ name: "t", model: "mts200b", key: "k" }]);
    const t = fleet.devices[0];
    const base = `${fleet.statusUrl}api/devices/${t.uuid}`;
    await send(t, "Appliance.Control.Thermostat.Mode", "SET", { mode: [{ channel: 0, manualTemp: 200 }] }, "k");
    const later = (await post(`${base}/advance?seconds=3600`)).body as unknown as DeviceSnapshot;
    assert.deepEqual(later.climate, { on: true, mode: "manual", target: 20, current: 20, heating: false, windowOpen: false });
    const open = (await post(`${base}/window`)).body as unknown as DeviceSnapshot;
    assert.equal(open.climate?.windowOpen, true);
    assert.equal((await post(`${fleet.statusUrl}api/devices/${t.uuid}/leak`)).status, 400);
  });

  it("answers Mode GET with [] like the mts200b capture, and the state in System.All", async () => {
    fleet = await Fleet.start([{ name: "t", model: "mts200b", key: "k" }]);
    const t = fleet.devices[0];
    const mode = await send(t, "Appliance.Control.Thermostat.Mode", "GET", { mode: [{ channel: 0 }] }, "k");
    assert.deepEqual(mode.payload, { mode: [] });
    const all = await send(t, "Appliance.System.All", "GET", {}, "k");
    const digest = (all.payload.all as { digest: { thermostat: { mode: Array<Record<string, number>> } } }).digest;
    assert.equal(digest.thermostat.mode[0].currentTemp, 180);
    assert.equal(digest.thermostat.mode[0].min, 50);
  });
});
