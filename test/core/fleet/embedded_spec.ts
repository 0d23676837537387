import assert from "node:assert/strict";
import { generateCertificates, type Certificates } from "../../../src/core/broker/certs";
import { MerossError } from "../../../src/core/errors";
import { EmbeddedFleet, PushFollowers, ArrivalWatcher, type EmbeddedSettings } from "../../../src/core/fleet";
import type { DeviceEvent } from "../../../src/core/session/device";
import { buildMessage } from "../../../src/core/protocol/message";
import { DEVICE_A, FakeDevice } from "../broker/fake_device";
import { nextEvent } from "./helpers";

const SETTINGS: EmbeddedSettings = { port: 0, host: "127.0.0.1", certHost: "127.0.0.1", allowAnonymous: false };
const BIND = {
  bind: {
    hardware: { type: "mss310", version: "2.0.0", macAddress: DEVICE_A.mac, uuid: DEVICE_A.uuid },
    firmware: { version: "2.1.4", innerIp: "192.168.1.50" },
  },
};

describe("EmbeddedFleet (devices on our own broker)", function () {
  this.timeout(20_000);
  let certs: Certificates;
  let fleet: EmbeddedFleet | undefined;
  const devices: FakeDevice[] = [];

  before(() => {
    certs = generateCertificates({ host: "127.0.0.1" });
  });
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await fleet?.close();
    fleet = undefined;
  });

  function start(settings: () => EmbeddedSettings = () => SETTINGS): EmbeddedFleet {
    fleet = new EmbeddedFleet({ settings, certs: () => certs });
    return fleet;
  }

  async function connect(f: EmbeddedFleet, key = DEVICE_A.key): Promise<FakeDevice> {
    const d = await FakeDevice.connect({ port: (await f.endpoint()).port, ...DEVICE_A, key });
    devices.push(d);
    return d;
  }

  it("reports a device that logs in with a user's key, with its address, readiness, model and whose key it holds", async () => {
    const f = start();
    f.useKeys("cfg-a", () => [DEVICE_A.key]);
    const running = await nextEvent(f.events, "running");
    assert.equal(running.connection, f.currentConnection());
    assert.equal(f.online(), true);
    const listening = nextEvent(f.events, "device", (p) => p.listening);
    const dev = await connect(f);
    const p = await listening;
    assert.deepEqual([p.uuid, p.mac, p.ip], [DEVICE_A.uuid, DEVICE_A.mac, "127.0.0.1"]);
    assert.equal(f.isListening(DEVICE_A.uuid), true);
    assert.deepEqual(f.binding(DEVICE_A.uuid), { mac: DEVICE_A.mac, keyOwner: "cfg-a" });
    const bound = nextEvent(f.events, "device", (d) => d.model === "mss310");
    await dev.publish(dev.message("SET", "Appliance.Control.Bind", BIND));
    assert.equal((await bound).firmware, "2.1.4");
    assert.equal(f.device(DEVICE_A.uuid)?.model, "mss310");
    const gone = nextEvent(f.events, "gone");
    await dev.close();
    assert.deepEqual(await gone, { uuid: DEVICE_A.uuid });
    assert.deepEqual(f.devices(), []);
  });

  it("reports a refused login without the key, and lets no one in once the key is withdrawn", async () => {
    const f = start();
    const off = f.useKeys("cfg-a", () => [DEVICE_A.key]);
    await f.connection();
    off();
    const refused = nextEvent(f.events, "refused");
    await assert.rejects(connect(f));
    const r = await refused;
    assert.equal(r.username, DEVICE_A.mac);
    assert.match(r.reason, /no device key is configured/);
    assert.ok(!JSON.stringify(r).includes(DEVICE_A.key));
  });

  it("hands a logged-in device's pushes to push-only followers, which report the change", async () => {
    const f = start();
    f.useKeys("cfg-a", () => [DEVICE_A.key]);
    await f.connection();
    const seen: Array<{ uuid: string; ev: DeviceEvent }> = [];
    const followers = new PushFollowers(f, (uuid, ev) => seen.push({ uuid, ev }));
    const listening = nextEvent(f.events, "device", (p) => p.listening);
    const dev = await connect(f);
    await listening;
    const push = nextEvent(f.events, "push");
    await dev.publish(dev.message("PUSH", "Appliance.Control.ToggleX", { togglex: [{ channel: 0, onoff: 1 }] }));
    assert.equal((await push).uuid, DEVICE_A.uuid);
    assert.deepEqual(seen, [{ uuid: DEVICE_A.uuid, ev: { type: "toggle", channel: 0, on: true, source: "push" } }]);
    assert.equal(followers.get(DEVICE_A.uuid)?.toggles.get(0), true);
    followers.close();
    assert.equal(f.events.listenerCount("push"), 0, "closing the followers removes their listener");
  });

  it("hands on no push that is unsigned, signed with another key or stamped in 2020, and reports the first ignored ones", async () => {
    const f = start();
    f.useKeys("cfg-a", () => [DEVICE_A.key, "other-users-key"]);
    await f.connection();
    const seen: DeviceEvent[] = [];
    const followers = new PushFollowers(f, (_uuid, ev) => seen.push(ev));
    const listening = nextEvent(f.events, "device", (p) => p.listening);
    const dev = await connect(f);
    await listening;
    const on = { togglex: [{ channel: 0, onoff: 1 }] };
    const unsigned = dev.message("PUSH", "Appliance.Control.ToggleX", on);
    unsigned.header.sign = "";
    const otherKey = buildMessage({ method: "PUSH", namespace: "Appliance.Control.ToggleX", key: "other-users-key", payload: on });
    const old = dev.message("PUSH", "Appliance.Control.ToggleX", on, { timestamp: 1_590_000_000 });
    const refused = nextEvent(f.events, "refused", (r) => /2020/.test(r.reason));
    for (const m of [unsigned, otherKey, old]) await dev.publish(m);
    await refused;
    const fresh = nextEvent(f.events, "push");
    await dev.publish(dev.message("PUSH", "Appliance.Control.ToggleX", { togglex: [{ channel: 0, onoff: 0 }] }));
    await fresh;
    assert.deepEqual(seen, [{ type: "toggle", channel: 0, on: false, source: "push" }], "only the last push was believed");
    assert.equal(followers.get(DEVICE_A.uuid)?.toggles.get(0), false);
    const reasons = f.refusals().recent.map((r) => r.reason);
    assert.equal(reasons.filter((r) => /not signed with that device's key/.test(r)).length, 2);
    followers.close();
  });

  it("an ArrivalWatcher on the fleet sees the login and the Bind", async () => {
    const f = start();
    f.useKeys("onboard", () => [DEVICE_A.key]);
    await f.connection();
    const watcher = new ArrivalWatcher(f);
    try {
      const waiting = watcher.wait({ mac: DEVICE_A.mac, timeoutMs: 10_000 });
      const dev = await connect(f);
      await dev.publish(dev.message("SET", "Appliance.Control.Bind", BIND));
      const arrival = await waiting;
      assert.deepEqual([arrival.uuid, arrival.ip, arrival.model], [DEVICE_A.uuid, "127.0.0.1", "mss310"]);
    } finally {
      watcher.close();
    }
    assert.equal(f.events.listenerCount(), 0, "a closed watcher leaves no listener");
  });

  it("rejects connection() and endpoint() with the settings' own sentence, and says so on its events", async () => {
    const f = start(() => {
      throw new MerossError("BAD_INPUT", "The broker port is not valid.");
    });
    const stopped = nextEvent(f.events, "stopped");
    await assert.rejects(f.connection(), /The broker port is not valid/);
    await assert.rejects(f.endpoint(), /The broker port is not valid/);
    assert.match((await stopped).reason, /port is not valid/);
    assert.equal(f.online(), false);
  });

  it("close() reports stopped, forgets every device and leaves the connection to nobody", async () => {
    const f = start();
    f.useKeys("cfg-a", () => [DEVICE_A.key]);
    await f.connection();
    const listening = nextEvent(f.events, "device", (p) => p.listening);
    await connect(f);
    await listening;
    const stopped = nextEvent(f.events, "stopped");
    await f.close("redeploy");
    assert.equal((await stopped).reason, "redeploy");
    assert.deepEqual(f.devices(), []);
    assert.equal(f.currentConnection(), undefined);
    assert.equal(f.isListening(DEVICE_A.uuid), false);
    await f.close();
  });
});
