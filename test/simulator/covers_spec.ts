import assert from "node:assert/strict";
import { SimulatedDevice } from "../../src/simulator";
import { Fleet } from "../../src/simulator/fleet";
import type { DeviceSnapshot } from "../../src/simulator/types";
import { SIM_HEADERS, send, until } from "./helpers";

describe("simulator: garage door (msg100) and roller shutter (mrs100)", () => {
  const devs: SimulatedDevice[] = [];
  afterEach(async () => {
    for (const d of devs.splice(0)) await d.stop();
  });
  async function start(model: string, travel = 200): Promise<SimulatedDevice> {
    const d = await SimulatedDevice.start({ model, key: "k" });
    d.setCoverTravel(travel);
    devs.push(d);
    return d;
  }

  it("msg100 answers State as one object, lists its door in the digest and reports Config like the capture", async () => {
    const g = await start("msg100");
    assert.deepEqual(Object.keys((await send(g, "Appliance.GarageDoor.State", "GET", { state: {} })).payload.state as object).sort(), [
      "channel",
      "lmTime",
      "open",
    ]);
    const all = (await send(g, "Appliance.System.All", "GET", { all: {} })).payload as { all: { digest: { garageDoor: unknown[] } } };
    assert.equal(all.all.digest.garageDoor.length, 1);
    const cfg = (await send(g, "Appliance.GarageDoor.Config", "GET", { config: {} })).payload.config as Record<string, number>;
    assert.deepEqual(Object.keys(cfg).sort(), ["buzzerEnable", "doorCloseDuration", "doorOpenDuration", "signalDuration"]);
    assert.equal(cfg.doorOpenDuration, 200, "the reported travel time follows the simulated one");
  });

  it("a close command on an open door answers the state before it with execute 1 (capture), and execute 0 once on its way", async () => {
    const g = await start("msg100");
    await send(g, "Appliance.GarageDoor.State", "SET", { state: { channel: 0, open: 1 } });
    await until(() => g.state.covers?.[0].state === "open", "the door to open");
    const close = await send(g, "Appliance.GarageDoor.State", "SET", { state: { channel: 0, open: 0 } });
    assert.equal(close.header.method, "SETACK");
    assert.deepEqual({ ...(close.payload.state as object), lmTime: 0 }, { channel: 0, open: 1, lmTime: 0, execute: 1 });
    const again = await send(g, "Appliance.GarageDoor.State", "SET", { state: { channel: 0, open: 0 } });
    assert.equal((again.payload.state as { execute: number }).execute, 0);
    assert.equal(g.state.covers?.[0].state, "closing");
    await until(() => g.state.covers?.[0].state === "closed", "the door to close");
    assert.equal(((await send(g, "Appliance.GarageDoor.State", "GET", { state: {} })).payload.state as { open: number }).open, 0);
  });

  it("the garage's wall button starts the door and stops it mid-way", async () => {
    const g = await start("msg100", 5000);
    g.press(0);
    assert.equal(g.state.covers?.[0].state, "opening");
    g.press(0);
    assert.equal(g.state.covers?.[0].state, g.state.covers?.[0].position === 0 ? "closed" : "stopped");
  });

  it("mrs100: SET Position 40 answers {} and the shutter stops at 40; -1 stops a run (capture forms)", async () => {
    const r = await start("mrs100");
    const ack = await send(r, "Appliance.RollerShutter.Position", "SET", { position: { channel: 0, position: 40 } });
    assert.deepEqual(ack.payload, {});
    assert.deepEqual((await send(r, "Appliance.RollerShutter.State", "GET", { state: [] })).payload, { state: [{ channel: 0, state: 1 }] });
    await until(() => r.state.covers?.[0].state === "stopped", "the shutter to stop");
    assert.deepEqual((await send(r, "Appliance.RollerShutter.Position", "GET", { position: [] })).payload, {
      position: [{ channel: 0, position: 40 }],
    });
    r.setCoverTravel(5000);
    await send(r, "Appliance.RollerShutter.Position", "SET", { position: { channel: 0, position: 0 } });
    assert.equal(r.state.covers?.[0].state, "closing");
    await send(r, "Appliance.RollerShutter.Position", "SET", { position: { channel: 0, position: -1 } });
    assert.deepEqual((await send(r, "Appliance.RollerShutter.State", "GET", { state: [] })).payload, { state: [{ channel: 0, state: 0 }] });
    const cfg = await send(r, "Appliance.RollerShutter.Config", "GET", { config: [] });
    assert.deepEqual(cfg.payload, { config: [{ channel: 0, signalOpen: 5000, signalClose: 5000 }] });
  });

  it("the status page's buttons move the shutter and the garage door", async () => {
    const fleet = await Fleet.start(
      [
        { name: "g", model: "msg100", key: "" },
        { name: "r", model: "mrs100", key: "" },
      ],
      { statusPort: 0 },
    );
    try {
      const [g, r] = fleet.devices;
      const post = async (uuid: string, q: string): Promise<DeviceSnapshot> =>
        (await (
          await fetch(`${fleet.statusUrl}api/devices/${uuid}/press?${q}`, { method: "POST", headers: SIM_HEADERS })
        ).json()) as DeviceSnapshot;
      assert.equal((await post(g.uuid, "channel=0")).covers?.[0].state, "opening");
      assert.equal((await post(r.uuid, "channel=0&action=open")).covers?.[0].state, "opening");
      assert.equal(
        (await post(r.uuid, "channel=0&action=stop")).covers?.[0].state,
        r.state.covers?.[0].position === 0 ? "closed" : "stopped",
      );
      const bad = await fetch(`${fleet.statusUrl}api/devices/${r.uuid}/press?channel=4`, { method: "POST", headers: SIM_HEADERS });
      assert.equal(bad.status, 400);
    } finally {
      await fleet.stop();
    }
  });
});
