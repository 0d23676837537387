/**
 * The status page's buttons, clicked through the page's own script (test/simulator/statuspage-dom.ts):
 * each one changes the simulated device the way its label says.
 */
import assert from "node:assert/strict";
import { Fleet } from "../../src/simulator/fleet";
import { send } from "./helpers";
import { openStatusPage } from "./statuspage-dom";

describe("simulator: the status page's buttons act on the devices", () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it("a thermostat: 'Open the window' opens it, 'Skip an hour ahead' lets the room warm up", async () => {
    fleet = await Fleet.start([{ name: "t", model: "mts200b", key: "k" }]);
    const t = fleet.devices[0];
    const page = await openStatusPage(fleet);
    await page.click(t.uuid, "Open the window");
    assert.equal(t.snapshot().climate?.windowOpen, true);
    assert.ok((await openStatusPage(fleet)).buttons(t.uuid).includes("Close the window"), "the button now offers to close it");
    await (await openStatusPage(fleet)).click(t.uuid, "Close the window");
    assert.equal(t.snapshot().climate?.windowOpen, false);
    // Heating to 20 °C from 18 °C takes the room less than an hour.
    await send(t, "Appliance.Control.Thermostat.Mode", "SET", { mode: [{ channel: 0, manualTemp: 200 }] }, "k");
    assert.equal(t.snapshot().climate?.current, 18);
    await page.click(t.uuid, "Skip an hour ahead");
    assert.equal(t.snapshot().climate?.current, 20);
  });

  it("a hub: 'Trigger leak' wets the leak sensor, the door button opens the contact, the smoke buttons test and raise the alarm", async () => {
    fleet = await Fleet.start([
      { name: "leak", model: "msh300", key: "k" },
      { name: "hk", model: "msh300hk", key: "k" },
    ]);
    const [leakHub, hub] = fleet.devices;
    const page = await openStatusPage(fleet);
    await page.click(leakHub.uuid, "Trigger leak");
    assert.equal(leakHub.snapshot().hub?.find((s) => s.leak !== undefined)?.leak, true);
    await page.click(hub.uuid, /^Open the door /);
    assert.equal(hub.snapshot().hub?.find((s) => s.open !== undefined)?.open, true);
    await page.click(hub.uuid, "Run a smoke test");
    assert.equal(hub.snapshot().hub?.find((s) => s.smoke !== undefined)?.smoke, "test");
    await page.click(hub.uuid, "Raise a smoke alarm");
    assert.match(String(hub.snapshot().hub?.find((s) => s.smoke !== undefined)?.smoke), /alarm/);
  });

  it("'Hold the button 5 s (factory reset)' puts a device back into access-point mode without its key", async () => {
    fleet = await Fleet.start([{ model: "mss310", key: "owners-key" }]);
    const d = fleet.devices[0];
    await (await openStatusPage(fleet)).click(d.uuid, "Hold the button 5 s (factory reset)");
    assert.deepEqual([d.mode, d.key], ["ap", ""]);
  });
});
