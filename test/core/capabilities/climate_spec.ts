import assert from "node:assert/strict";
import { MerossDevice } from "../../../src/core/session/device";
import { SimulatedDevice } from "../../../src/simulator/device";
import {
  getSubDevice,
  getThermostat,
  parseClimateInput,
  parseHubPayload,
  parseThermostatMode,
  parseThermostatModeB,
  buildThermostatModeBSet,
  noteSubDevices,
  readHub,
  setThermostat,
  setValve,
  setDiffuser,
  type DeviceEvent,
} from "../../../src/core/capabilities";
import { rejectsWith } from "../../helpers/errors";

const KEY = "climate-key";

/** The digest entry of the mts200b capture ([T …0C]): tenths of °C. */
const CAPTURED_MODE = {
  channel: 0,
  onoff: 1,
  mode: 4,
  state: 0,
  currentTemp: 210,
  heatTemp: 200,
  coolTemp: 190,
  ecoTemp: 180,
  manualTemp: 210,
  warning: 0,
  targetTemp: 210,
  min: 50,
  max: 350,
  lmTime: 1674112153,
};

describe("climate capabilities: codecs", () => {
  it("reads the mts200b capture's Mode object in °C", () => {
    const [t] = parseThermostatMode({ mode: [CAPTURED_MODE] });
    assert.deepEqual(
      { on: t.on, mode: t.mode, target: t.target, current: t.current, heating: t.heating, min: t.min, max: t.max },
      {
        on: true,
        mode: "manual",
        target: 21,
        current: 21,
        heating: false,
        min: 5,
        max: 35,
      },
    );
  });

  it("reads the msh300 capture's Sensor.All, Battery and Mts100.All replies", () => {
    const sensor = parseHubPayload("Appliance.Hub.Sensor.All", {
      all: [{ id: "120027D21C19", online: { status: 1, lastActiveTime: 1 }, temperature: { latest: 152 }, humidity: { latest: 710 } }],
    });
    // The temperature's scale is the sub-device type's (ms100 tenths, ms130 hundredths): applied when it is reduced.
    assert.deepEqual(sensor, [{ id: "120027D21C19", online: true, rawTemperature: 152, humidity: 71 }]);
    assert.deepEqual(parseHubPayload("Appliance.Hub.Battery", { battery: [{ id: "120027D21C19", value: 50 }] }), [
      { id: "120027D21C19", battery: 50 },
    ]);
    const [valve] = parseHubPayload("Appliance.Hub.Mts100.All", {
      all: [
        {
          id: "01008C11",
          online: { status: 1 },
          togglex: { onoff: 1 },
          mode: { state: 1 },
          temperature: { room: 155, currentSet: 270, heating: 1, openWindow: 0, min: 50, max: 350 },
        },
      ],
    });
    assert.deepEqual(valve.valve, { room: 15.5, currentSet: 27, heating: true, openWindow: false, min: 5, max: 35, on: true, modeCode: 1 });
  });

  it("turns malformed replies into BAD_RESPONSE, never a TypeError", () => {
    assert.throws(() => parseThermostatMode({ mode: [{ channel: 0 }] }), { code: "BAD_RESPONSE" });
    assert.throws(() => parseThermostatMode("nope"), { code: "BAD_RESPONSE" });
    assert.throws(() => parseHubPayload("Appliance.Hub.Battery", { battery: "x" }), { code: "BAD_RESPONSE" });
  });

  it("accepts a number, {on, mode, target} or empty, and refuses anything else with a sentence", () => {
    assert.deepEqual(parseClimateInput(21), { target: 21 });
    assert.deepEqual(parseClimateInput(""), {});
    assert.deepEqual(parseClimateInput({ on: true, mode: "Eco" }), { on: true, mode: "eco" });
    assert.throws(() => parseClimateInput({ target: "warm" }), /must be a number of °C/);
    assert.throws(() => parseClimateInput({ on: "yes" }), /"on" must be true or false/);
    assert.throws(() => parseClimateInput([1]), { code: "BAD_INPUT" });
  });
});

describe("climate capabilities against the simulator (HTTP)", () => {
  const sims: SimulatedDevice[] = [];
  const devices: MerossDevice[] = [];
  const start = async (model: string) => {
    const sim = await SimulatedDevice.start({ model, key: KEY, port: 0 });
    sims.push(sim);
    const device = new MerossDevice({ address: sim.address, key: KEY });
    devices.push(device);
    return { sim, device };
  };
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });

  it("sets the thermostat to 21 °C and the room warms up to it over simulated time", async () => {
    const { sim, device } = await start("mts200b");
    const before = await getThermostat(device);
    assert.equal(before.current, 18);
    const set = await setThermostat(device, { target: 21 });
    assert.equal(set.target, 21);
    assert.equal(set.mode, "manual");
    assert.equal(set.heating, true);
    sim.advanceTime(600);
    const warmer = await getThermostat(device);
    assert.ok(warmer.current > 18 && warmer.current < 21, `after 10 minutes the room is between 18 and 21 °C, not ${warmer.current}`);
    assert.equal(warmer.heating, true);
    sim.advanceTime(3 * 3600);
    const done = await getThermostat(device);
    assert.equal(done.current, 21);
    assert.equal(done.heating, false);
  });

  it("an open window stops the heating and shows as windowOpen", async () => {
    const { sim, device } = await start("mts200b");
    await setThermostat(device, { target: 25 });
    sim.setWindowOpen(true);
    const t = await getThermostat(device);
    assert.equal(t.windowOpen, true);
    assert.equal(t.heating, false);
  });

  it("a mode change while the window is open still reports the window open (no eco/heat flip-flop)", async () => {
    const { sim, device } = await start("mts200b");
    await getThermostat(device);
    const seen: boolean[] = [];
    device.events.on("event", (e) => {
      if (e.type === "thermostat") seen.push(e.thermostat.windowOpen);
    });
    sim.setWindowOpen(true);
    assert.equal((await getThermostat(device)).windowOpen, true);
    const eco = await setThermostat(device, { mode: "eco" });
    assert.equal(eco.mode, "eco");
    assert.equal(eco.windowOpen, true, "the Mode SETACK says nothing about the window");
    assert.equal((await getThermostat(device)).windowOpen, true);
    assert.ok(seen.length > 0, "the thermostat reported its changes");
    assert.deepEqual(
      seen.slice(seen.indexOf(true)),
      seen.slice(seen.indexOf(true)).map(() => true),
      `once open, every event says open: ${JSON.stringify(seen)}`,
    );
  });

  it("refuses 80 °C and an unknown mode with what the thermostat accepts", async () => {
    const { device } = await start("mts200b");
    await rejectsWith(
      setThermostat(device, { target: 80 }),
      "BAD_INPUT",
      /80 °C is outside what this mts200b accepts: set a target from 5 to 35 °C/,
    );
    await rejectsWith(
      setThermostat(device, { mode: "turbo" }),
      "BAD_INPUT",
      /"turbo" is not a mode of this mts200b: use one of heat, cool, eco, auto, manual/,
    );
  });

  it("refuses thermostat commands on a plug, and hub commands on a thermostat", async () => {
    const { device } = await start("mss310");
    await rejectsWith(getThermostat(device), "UNSUPPORTED", /is not a thermostat/);
    const t = await start("mts200b");
    await rejectsWith(readHub(t.device), "UNSUPPORTED", /is not a hub/);
  });

  it("reads the hub's sensors, a leak and a draining battery", async () => {
    const { sim, device } = await start("msh300");
    const events: DeviceEvent[] = [];
    device.events.on("event", (e) => events.push(e));
    const subs = await readHub(device);
    assert.deepEqual(
      subs.map((s) => [s.id, s.type]),
      [
        ["120027D21C19", "ms100"],
        ["1A00694ACBC7", "ms400"],
        ["01008C11", "mts100v3"],
      ],
    );
    const sensor = subs[0];
    assert.equal(sensor.temperature, 20.5);
    assert.equal(sensor.battery, 50);
    sim.setLeak(true);
    const leak = await getSubDevice(device, "1A00694ACBC7");
    assert.equal(leak.leak, true);
    assert.ok(events.some((e) => e.type === "alarm" && e.subId === "1A00694ACBC7" && e.alarm === "leak" && e.active));
    sim.advanceTime(20 * 86_400);
    assert.equal((await getSubDevice(device, "120027D21C19")).battery, 44);
    await rejectsWith(
      getSubDevice(device, "DEADBEEF"),
      "BAD_INPUT",
      /No sub-device "DEADBEEF" on this msh300: it has 120027D21C19 \(ms100\), 1A00694ACBC7 \(ms400\), 01008C11 \(mts100v3\)/,
    );
  });

  it("sets a radiator valve's target and it heats the room", async () => {
    const { sim, device } = await start("msh300");
    const v = await setValve(device, "01008C11", { target: 23 });
    assert.deepEqual({ mode: v.mode, target: v.target, heating: v.heating }, { mode: "manual", target: 23, heating: true });
    sim.advanceTime(4 * 3600);
    const after = await setValve(device, "01008C11", {});
    assert.equal(after.current, 23);
    await rejectsWith(setValve(device, "120027D21C19", { target: 20 }), "BAD_INPUT", /is a ms100, not a radiator valve/);
    await rejectsWith(setValve(device, "01008C11", { target: 80 }), "BAD_INPUT", /80 °C is outside/);
  });
});

describe("diffuser capability against the simulator (HTTP)", () => {
  let sim: SimulatedDevice | undefined;
  let device: MerossDevice | undefined;
  afterEach(async () => {
    await device?.close();
    await sim?.stop();
  });

  it("sets the spray mode and the light, read back from the digest the capture shows", async () => {
    sim = await SimulatedDevice.start({ model: "mod100", key: KEY, port: 0 });
    device = new MerossDevice({ address: sim.address, key: KEY });
    assert.equal((await setDiffuser(device, "")).spray, "off");
    const d = await setDiffuser(device, { spray: "eco", light: { on: true, rgb: "#ff0000", luminance: 40 } });
    assert.deepEqual(d, { channel: 0, spray: "eco", light: { on: true, mode: 1, luminance: 40, rgb: "#ff0000" } });
    assert.deepEqual(sim.snapshot().diffuser, { spray: "eco", light: { on: true, rgb: "#ff0000", luminance: 40 } });
    await rejectsWith(setDiffuser(device, "turbo"), "BAD_INPUT", /use eco, strong or off/);
  });
});

describe("climate capabilities: ModeB (mts960) and pushes", () => {
  it("reads a ModeB item in hundredths with onoff/state 1/2 (docs/protocol-devices.md §13.4)", () => {
    const [t] = parseThermostatModeB({
      modeB: [{ channel: 0, mode: 2, targetTemp: 1800, working: 1, currentTemp: 1723, state: 1, onoff: 1, sensorStatus: 1 }],
    });
    assert.deepEqual(
      { on: t.on, mode: t.mode, target: t.target, current: t.current, heating: t.heating },
      {
        on: true,
        mode: "auto",
        target: 18,
        current: 17.23,
        heating: true,
      },
    );
    const [off] = parseThermostatModeB({ modeB: [{ channel: 0, mode: 1, targetTemp: 2000, currentTemp: 1900, state: 2, onoff: 2 }] });
    assert.equal(off.on, false);
    assert.equal(off.heating, false);
  });

  it("builds ModeB SETs in hundredths and refuses modes it does not have", () => {
    assert.deepEqual(buildThermostatModeBSet({ target: 21.3, on: true }, "mts960"), {
      modeB: [{ channel: 0, onoff: 1, targetTemp: 2150, mode: 1 }],
    });
    assert.throws(() => buildThermostatModeBSet({ mode: "eco" }, "mts960"), /"eco" is not a mode of this mts960: use manual or auto/);
  });

  it("a partial valve push updates only what it carries", () => {
    const state = { toggles: new Map<number, boolean>() } as Parameters<typeof noteSubDevices>[0];
    noteSubDevices(
      state,
      parseHubPayload("Appliance.Hub.Mts100.All", {
        all: [{ id: "01008C11", togglex: { onoff: 1 }, mode: { state: 1 }, temperature: { room: 155, currentSet: 270, heating: 1 } }],
      }),
      "reply",
    );
    const events = noteSubDevices(
      state,
      parseHubPayload("Appliance.Hub.Mts100.Temperature", { temperature: [{ id: "01008C11", room: 190 }] }),
      "push",
    );
    assert.deepEqual(state.subdevices?.get("01008C11")?.valve, { on: true, modeCode: 1, room: 19, currentSet: 27, heating: true });
    assert.equal(events.length, 1);
  });
});
