import assert from "node:assert/strict";
import { isObject } from "../../src/core/protocol/rules";
import { SimulatedDevice } from "../../src/simulator/device";
import { MODELS } from "../../src/simulator/models";
import { send } from "./helpers";

describe("simulator: light channels, effects and fans", () => {
  const devices: SimulatedDevice[] = [];
  async function start(model: string): Promise<SimulatedDevice> {
    const d = await SimulatedDevice.start({ model, key: "k" });
    devices.push(d);
    return d;
  }
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.stop()));
  });

  it("the strip lists the five effects of its capture and plays the one a SET enables", async () => {
    const d = await start("msl320cpr");
    const list = (await send(d, "Appliance.Control.Light.Effect", "GET", { effect: {} })).payload.effect as Array<Record<string, unknown>>;
    assert.deepEqual(
      list.map((e) => e.effectName),
      ["Night", "Reading", "Working", "Relaxing", "Party"],
    );
    const reply = await send(d, "Appliance.Control.Light.Effect", "SET", { effect: [{ ...list[3], enable: 1 }] });
    assert.equal(reply.header.method, "SETACK");
    const light = (await send(d, "Appliance.Control.Light", "GET", { light: {} })).payload.light as Record<string, unknown>;
    assert.equal(light.effect, 3);
    assert.equal(light.capacity, 13, "effect + rgb + luminance, as the capture reports a playing effect");
    const unknown = await send(d, "Appliance.Control.Light.Effect", "SET", { effect: [{ Id: "ffffffffffffffff", enable: 1 }] });
    assert.equal(unknown.header.method, "ERROR");
  });

  it("the strip stays off on a Light SET alone; a bulb without Light.Effect answers it with ERROR 5000", async () => {
    const d = await start("msl320cpr");
    await send(d, "Appliance.Control.Light", "SET", { light: { channel: 0, capacity: 4, luminance: 40 } });
    assert.equal(d.state.channels[0].on, false);
    const bulb = await start("msl120");
    assert.equal((await send(bulb, "Appliance.Control.Light.Effect", "GET", { effect: {} })).header.method, "ERROR");
  });

  it("the synthetic ceiling fan has its light on channel 1 with onoff, and fan speeds on channel 2", async () => {
    assert.match(MODELS["mfc-like"].description, /SYNTHETIC/);
    const d = await start("mfc-like");
    const all = (await send(d, "Appliance.System.All", "GET")).payload.all as Record<string, unknown>;
    const digest = isObject(all) && isObject(all.digest) ? all.digest : {};
    assert.deepEqual(
      { ...(digest.light as object), rgb: undefined, temperature: undefined, transform: undefined },
      {
        capacity: 4,
        channel: 1,
        luminance: 80,
        onoff: 0,
        rgb: undefined,
        temperature: undefined,
        transform: undefined,
      },
    );
    await send(d, "Appliance.Control.Light", "SET", { light: { channel: 1, capacity: 4, luminance: 30, onoff: 1 } });
    assert.equal(d.state.channels[1].on, true);
    assert.equal(d.state.channels[2].on, false);
    assert.deepEqual((await send(d, "Appliance.Control.Fan", "GET", { fan: {} })).payload.fan, [], "a GET must name the channel");
    const fan = (await send(d, "Appliance.Control.Fan", "GET", { fan: [{ channel: 2 }] })).payload.fan;
    assert.deepEqual(fan, [{ channel: 2, speed: 1, maxSpeed: 3 }]);
    assert.equal((await send(d, "Appliance.Control.Fan", "SET", { fan: [{ channel: 2, speed: 4 }] })).header.method, "ERROR");
    await send(d, "Appliance.Control.Fan", "SET", { fan: [{ channel: 2, speed: 2 }] });
    assert.equal(d.state.fans?.[0].speed, 2);
  });
});
