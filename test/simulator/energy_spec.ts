import assert from "node:assert/strict";
import { SimulatedDevice } from "../../src/simulator";
import type { Json } from "../../src/core/protocol/rules";
import { parseConsumptionX, parseElectricityX, todayOf } from "../../src/core/capabilities";
import { send } from "./helpers";

describe("simulator: energy in simulated time", () => {
  const started: SimulatedDevice[] = [];
  async function start(model: string): Promise<SimulatedDevice> {
    const d = await SimulatedDevice.start({ model, key: "k" });
    started.push(d);
    return d;
  }
  afterEach(async () => {
    await Promise.all(started.splice(0).map((d) => d.stop()));
  });

  async function days(d: SimulatedDevice) {
    return parseConsumptionX((await send(d, "Appliance.Control.ConsumptionX", "GET", { consumptionx: [] })).payload);
  }

  it("a metering plug's today rises while it is on and restarts after local midnight", async () => {
    const d = await start("mss310");
    const t0 = Math.floor(Date.UTC(2024, 5, 12, 20, 0) / 1000);
    const time = { timestamp: t0, timezone: "Europe/Berlin", timeRule: [[t0 - 86400, 7200, 1]] };
    await send(d, "Appliance.System.Time", "SET", { time });
    d.setOnOff(true);
    d.advanceTime(3600); // 23:00 local, 60 W for an hour
    let list = await days(d);
    let { today } = todayOf(list);
    assert.equal(today?.date, "2024-06-12");
    assert.equal(today?.wh, 60);
    assert.equal(d.state.todayWh, 60);
    d.advanceTime(2 * 3600); // 01:00 local next day: one hour before midnight, one after
    list = await days(d);
    ({ today } = todayOf(list));
    assert.equal(today?.date, "2024-06-13", "the date follows the device's zone, not UTC");
    assert.equal(today?.wh, 60);
    assert.equal(list.find((x) => x.date === "2024-06-12")?.wh, 120);
    assert.ok(list.length <= 30);
    d.advanceTime(3 * 86400);
    list = await days(d);
    const last4 = list.slice(-4).map((x) => [x.date, x.wh]);
    assert.deepEqual(last4, [
      ["2024-06-13", 1440],
      ["2024-06-14", 1440],
      ["2024-06-15", 1440],
      ["2024-06-16", 60],
    ]);
    d.resetEnergyToday();
    assert.equal(todayOf(await days(d)).today?.wh, 0, "a reboot-style reset restarts today only");
  });

  it("refuses a bad advance", async () => {
    const d = await start("mss310");
    assert.throws(() => d.advanceTime(-1), /between 1 and/);
    assert.throws(() => d.advanceTime(Number.NaN), /between 1 and/);
  });

  it("an em06 answers ElectricityX per channel in mV, with negative power on the feeding channel", async () => {
    const d = await start("em06");
    const r = await send(d, "Appliance.Control.ElectricityX", "GET", { electricity: [] });
    const readings = parseElectricityX(r.payload);
    assert.deepEqual(
      readings.map((x) => x.channel),
      [1, 2, 3, 4, 5, 6],
    );
    assert.ok(readings.every((x) => x.voltage > 220 && x.voltage < 240));
    assert.ok(readings[5].power < 0);
    const one = parseElectricityX((await send(d, "Appliance.Control.ElectricityX", "GET", { electricity: [{ channel: 4 }] })).payload);
    assert.deepEqual(
      one.map((x) => x.channel),
      [4],
    );
    assert.ok(Math.abs(one[0].power - 1200) < 30);
    const dnd = await send(d, "Appliance.System.DNDMode", "GET", { DNDMode: {} });
    assert.equal(dnd.header.method, "ERROR", "the em06 lists no DNDMode");
    assert.equal(((await send(d, "Appliance.Control.CircuitFactor", "GET", {})).payload.circuitFactor as Json[]).length, 6);
  });
});
