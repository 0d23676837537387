import assert from "node:assert/strict";
import { SimulatedDevice } from "../../src/simulator";
import { Fleet } from "../../src/simulator/fleet";
import type { DeviceSnapshot } from "../../src/simulator/types";
import { post, send, until } from "./helpers";

type Item = Record<string, unknown>;

describe("simulator: msg200 (three doors)", () => {
  const devs: SimulatedDevice[] = [];
  afterEach(async () => {
    for (const d of devs.splice(0)) await d.stop();
  });
  async function start(): Promise<SimulatedDevice> {
    const d = await SimulatedDevice.start({ model: "msg200", key: "k" });
    d.setCoverTravel(200);
    devs.push(d);
    return d;
  }
  const state = async (g: SimulatedDevice): Promise<Item[]> =>
    (await send(g, "Appliance.GarageDoor.State", "GET", { state: {} })).payload.state as Item[];

  it("answers State as a list of doors 1..3 with doorEnable, like the fw 4.2.8 capture, and has no GarageDoor.Config", async () => {
    const g = await start();
    const list = await state(g);
    assert.deepEqual(
      list.map((d) => Object.keys(d)),
      [1, 2, 3].map(() => ["channel", "doorEnable", "open", "lmTime"]),
    );
    assert.deepEqual(
      list.map((d) => [d.channel, d.doorEnable, d.open]),
      [
        [1, 1, 0],
        [2, 1, 0],
        [3, 1, 0],
      ],
    );
    assert.ok(!("Appliance.GarageDoor.Config" in g.model.ability) && "Appliance.GarageDoor.MultipleConfig" in g.model.ability);
    assert.equal((await send(g, "Appliance.GarageDoor.Config", "GET", { config: {} })).header.method, "ERROR");
    const all = (await send(g, "Appliance.System.All", "GET", {})).payload as { all: { digest: { garageDoor: Item[] } } };
    assert.deepEqual(
      all.all.digest.garageDoor.map((d) => d.channel),
      [1, 2, 3],
    );
  });

  it("MultipleConfig answers the doors asked for; a door disabled there ignores commands (execute 0)", async () => {
    const g = await start();
    const two = (await send(g, "Appliance.GarageDoor.MultipleConfig", "GET", { config: [{ channel: 2 }] })).payload.config as Item[];
    assert.equal(two.length, 1);
    assert.deepEqual(
      { channel: two[0].channel, doorEnable: two[0].doorEnable, open: two[0].doorOpenDuration, signal: two[0].signalOpen },
      { channel: 2, doorEnable: 1, open: 200, signal: 3000 },
    );
    const set = await send(g, "Appliance.GarageDoor.MultipleConfig", "SET", { config: [{ channel: 3, doorEnable: 0 }] });
    assert.equal(set.header.method, "SETACK");
    assert.equal((await state(g))[2].doorEnable, 0);
    const ack = await send(g, "Appliance.GarageDoor.State", "SET", { state: { channel: 3, open: 1 } });
    assert.deepEqual((ack.payload.state as Item[])[0].execute, 0);
    assert.equal(g.state.covers?.[2].state, "closed");
  });

  it("opening door 2 moves door 2 only; the SETACK is a one-item list with the state before and execute 1", async () => {
    const g = await start();
    const ack = await send(g, "Appliance.GarageDoor.State", "SET", { state: { channel: 2, open: 1 } });
    assert.deepEqual({ ...(ack.payload.state as Item[])[0], lmTime: 0 }, { channel: 2, doorEnable: 1, open: 0, lmTime: 0, execute: 1 });
    await until(() => g.state.covers?.[1].state === "open", "door 2 to open");
    assert.deepEqual(
      (await state(g)).map((d) => d.open),
      [0, 1, 0],
    );
  });
});

describe("simulator: msh300hk with a door/window contact (ms200) and a smoke alarm (gs559)", () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });
  const DOOR = "2B00F1E2D3C4";
  const SMOKE = "3C00A5B6C7D8";

  async function hub(): Promise<{ h: SimulatedDevice; base: string }> {
    fleet = await Fleet.start([{ name: "hub", model: "msh300hk", key: "k" }]);
    const h = fleet.devices[0];
    return { h, base: `${fleet.statusUrl}api/devices/${h.uuid}` };
  }
  const smokeStatus = async (h: SimulatedDevice): Promise<number> =>
    ((await send(h, "Appliance.Hub.Sensor.Smoke", "GET", { smokeAlarm: [] })).payload.smokeAlarm as Item[])[0].status as number;

  it("lists both in the digest with the captured type objects (doorWindow, smokeAlarm 170)", async () => {
    const { h } = await hub();
    // No msh300hk lists Appliance.Digest.Hub (issue 20): the digest is the one in System.All.
    const all0 = (await send(h, "Appliance.System.All", "GET", {})).payload.all as { digest: { hub: { subdevice: Item[] } } };
    const digest = all0.digest.hub;
    const door = digest.subdevice.find((s) => s.id === DOOR) as Item;
    const smoke = digest.subdevice.find((s) => s.id === SMOKE) as Item;
    assert.deepEqual(Object.keys(door.doorWindow as Item), ["status", "lmTime"]);
    assert.equal((door.doorWindow as Item).status, 0);
    assert.deepEqual(Object.keys(smoke.smokeAlarm as Item), ["status", "lmTime", "interConn"]);
    assert.equal((smoke.smokeAlarm as Item).status, 170);
    const all = (await send(h, "Appliance.Hub.Sensor.All", "GET", { all: [{ id: SMOKE }] })).payload.all as Item[];
    assert.ok("lmtime" in (all[0].smokeAlarm as Item), "Sensor.All spells it lmtime (docs/protocol-devices.md §14.3)");
  });

  it("'Open the door' opens the contact: status 1 with a history sample", async () => {
    const { h, base } = await hub();
    const snap = (await post(`${base}/door`)).body as unknown as DeviceSnapshot;
    assert.equal(snap.hub?.find((s) => s.id === DOOR)?.open, true);
    const got = (await send(h, "Appliance.Hub.Sensor.DoorWindow", "GET", { doorWindow: [] })).payload.doorWindow as Item[];
    assert.equal(got[0].status, 1);
    assert.deepEqual((got[0].sample as number[][]).at(-1)?.[0], 1);
    await post(`${base}/door?open=0`);
    assert.equal(h.snapshot().hub?.find((s) => s.id === DOOR)?.open, false);
    assert.equal((await post(`${base}/door?sub=FFFFFFFFFFFF`)).status, 400);
  });

  it("a smoke test goes 23 then back to 170, from code, from the status page and by a Smoke SET", async () => {
    const { h, base } = await hub();
    h.smokeTest(undefined, 100);
    assert.equal(await smokeStatus(h), 23);
    await until(() => h.snapshot().hub?.find((s) => s.id === SMOKE)?.smoke === "normal", "the test to end");
    assert.equal(await smokeStatus(h), 170);
    assert.equal(((await post(`${base}/smoke?do=test`)).body as unknown as DeviceSnapshot).hub?.[1].smoke, "test");
    h.setSmokeAlarm(false);
    const set = await send(h, "Appliance.Hub.Sensor.Smoke", "SET", { smokeAlarm: [{ id: SMOKE, status: 23 }] });
    assert.deepEqual([set.header.method, set.payload], ["SETACK", {}]);
    assert.equal(await smokeStatus(h), 23);
  });

  it("a raised smoke alarm (25) is muted by SETting its muted code 27; other codes are left alone", async () => {
    const { h, base } = await hub();
    await post(`${base}/smoke?do=alarm`);
    assert.equal(await smokeStatus(h), 25);
    await send(h, "Appliance.Hub.Sensor.Smoke", "SET", { smokeAlarm: [{ id: SMOKE, status: 26 }] });
    assert.equal(await smokeStatus(h), 25, "26 mutes a heat alarm, not smoke");
    await send(h, "Appliance.Hub.Sensor.Smoke", "SET", { smokeAlarm: [{ id: SMOKE, status: 27 }] });
    assert.equal(await smokeStatus(h), 27);
    assert.equal(h.snapshot().hub?.[1].smoke, "smoke alarm muted");
    await post(`${base}/smoke?do=clear`);
    assert.equal(await smokeStatus(h), 170);
    assert.equal((await post(`${base}/smoke?do=boom`)).status, 400);
  });
});
