import assert from "node:assert/strict";
import { generateCertificates, type Certificates } from "../../../src/core/broker/certs";
import { MerossBroker } from "../../../src/core/broker/broker";
import { ArrivalError, ArrivalWatcher, waitForArrival, watchArrival } from "../../../src/core/fleet/arrival";
import { MerossError } from "../../../src/core/errors";
import { SimulatedDevice } from "../../../src/simulator/device";
import { DEVICE_A, DEVICE_B, FakeDevice } from "../broker/fake_device";
import { freePort } from "../../cli/helpers";

const BIND = {
  bind: {
    bindTime: 1700000000,
    time: { timestamp: 1700000000, timezone: "", timeRule: [] },
    hardware: { type: "mss310", subType: "us", version: "2.0.0", macAddress: DEVICE_A.mac, uuid: DEVICE_A.uuid },
    firmware: { version: "2.1.4", compileTime: "2019/08/27 10:23:38" },
  },
};

async function rejection(p: Promise<unknown>): Promise<ArrivalError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ArrivalError, `expected an ArrivalError, got ${String(err)}`);
    return err;
  }
  assert.fail("the wait resolved although no device arrived");
}

describe("waitForArrival (a device logging in to the broker after onboarding)", function () {
  this.timeout(20_000);
  let certs: Certificates;
  let broker: MerossBroker;
  const devices: FakeDevice[] = [];
  const sims: SimulatedDevice[] = [];

  before(() => {
    certs = generateCertificates({ host: "127.0.0.1" });
  });
  beforeEach(async () => {
    broker = await MerossBroker.start({ port: 0, host: "127.0.0.1", certs, keys: [DEVICE_A.key, DEVICE_B.key], acceptEmptyKey: true });
  });
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await Promise.all(sims.splice(0).map((d) => d.stop()));
    await broker.stop();
  });

  async function connect(d: { uuid: string; mac: string; key: string }, password?: string): Promise<FakeDevice> {
    const dev = await FakeDevice.connect({ port: broker.port, ...d, password });
    devices.push(dev);
    return dev;
  }

  it("resolves with the device's uuid, LAN address, model and firmware once it logs in and binds", async () => {
    const waiting = waitForArrival({ broker, mac: DEVICE_A.mac, uuid: DEVICE_A.uuid, timeoutMs: 10_000 });
    const dev = await connect(DEVICE_A);
    await dev.publish(dev.message("SET", "Appliance.Control.Bind", BIND));
    const arrival = await waiting;
    assert.equal(arrival.uuid, DEVICE_A.uuid);
    assert.equal(arrival.mac, DEVICE_A.mac);
    assert.equal(arrival.ip, "127.0.0.1");
    assert.equal(arrival.model, "mss310");
    assert.equal(arrival.firmware, "2.1.4");
    assert.ok(arrival.ms >= 0);
  });

  it("matches the MAC however it is spelled and ignores other devices", async () => {
    const waiting = waitForArrival({ broker, mac: DEVICE_B.mac.toUpperCase().replace(/:/g, "-"), timeoutMs: 10_000 });
    await connect(DEVICE_A);
    await connect(DEVICE_B);
    const arrival = await waiting;
    assert.equal(arrival.uuid, DEVICE_B.uuid, "DEVICE_A logged in first but is not the one waited for");
  });

  it("resolves for a device that is already connected, with no wait", async () => {
    const bound = new Promise<void>((resolve) => broker.events.once("device-bound", () => resolve()));
    const dev = await connect(DEVICE_A);
    await dev.publish(dev.message("SET", "Appliance.Control.Bind", BIND));
    await bound;
    const arrival = await waitForArrival({ broker, mac: DEVICE_A.mac, timeoutMs: 10_000 });
    assert.equal(arrival.uuid, DEVICE_A.uuid);
    assert.equal(arrival.model, "mss310");
    assert.equal(arrival.ms, 0);
  });

  it("a watcher started before onboarding still sees a device that logged in and left before wait() was called", async () => {
    const watcher = new ArrivalWatcher(broker);
    try {
      const dev = await connect(DEVICE_A);
      await dev.close();
      await new Promise<void>((resolve) =>
        broker.isConnected(DEVICE_A.uuid) ? broker.events.once("device-disconnected", () => resolve()) : resolve(),
      );
      const arrival = await watcher.wait({ mac: DEVICE_A.mac, uuid: DEVICE_A.uuid, timeoutMs: 10_000 });
      assert.equal(arrival.uuid, DEVICE_A.uuid);
      assert.equal(arrival.ms, 0);
    } finally {
      watcher.close();
    }
  });

  it("times out naming the refused login when the broker rejected the device's password, without showing the key", async () => {
    const waiting = waitForArrival({ broker, mac: DEVICE_A.mac, uuid: DEVICE_A.uuid, timeoutMs: 1500 });
    await assert.rejects(connect({ ...DEVICE_A, key: "the-key-the-device-got" }));
    const err = await rejection(waiting);
    assert.equal(err.code, "TIMEOUT");
    assert.equal(err.reason, "refused");
    assert.match(err.message, /the broker refused the device's login/);
    assert.match(
      err.message,
      /the key or userId the device was given does not match what the broker expects — onboard again with the key configured on the broker/,
    );
    assert.doesNotMatch(err.message, /the-key-the-device-got|key-of-device-a/);
  });

  it("times out saying the device stayed in access-point mode, could not join the network, and to check the password and retry", async () => {
    const sim = await SimulatedDevice.start({ host: "127.0.0.1", port: 0, unconfigured: true });
    sims.push(sim);
    const target = { broker, mac: sim.mac, uuid: sim.uuid, apAddress: sim.address, ssid: "HomeNet", timeoutMs: 500 };
    const err = await rejection(waitForArrival(target));
    assert.equal(err.reason, "access-point");
    assert.match(err.message, /^The device stayed in access-point mode: it probably could not join "HomeNet" — check the Wi-Fi password/);
    assert.match(err.message, /that the network is 2\.4 GHz .*then retry/);
    assert.match(err.message, new RegExp(`still answers at ${sim.address.replace(/\./g, "\\.")}\\.\\)$`));
  });

  it("does not mistake a configured device at that address for one in access-point mode", async () => {
    const sim = await SimulatedDevice.start({ host: "127.0.0.1", port: 0, key: "" });
    sims.push(sim);
    const err = await rejection(waitForArrival({ broker, mac: sim.mac, apAddress: sim.address, timeoutMs: 500 }));
    assert.equal(err.reason, "no-connection");
  });

  it("otherwise times out saying the device left access-point mode but never reached the broker, naming the broker port", async () => {
    const gone = `127.0.0.1:${await freePort()}`;
    const err = await rejection(waitForArrival({ broker, mac: DEVICE_A.mac, apAddress: gone, timeoutMs: 500 }));
    assert.equal(err.code, "TIMEOUT");
    assert.equal(err.reason, "no-connection");
    assert.match(
      err.message,
      /the device left access-point mode but never reached the broker: check the broker host and port the device was given/,
    );
    assert.match(err.message, /not 127\.0\.0\.1, for a real device/);
    assert.match(err.message, new RegExp(`port ${broker.port} is open, and that the broker speaks TLS`));
  });

  it("cancel() ends the wait at once with a cancelled error", async () => {
    const w = watchArrival({ broker, mac: DEVICE_A.mac, timeoutMs: 60_000 });
    w.cancel();
    const err = await rejection(w.promise);
    assert.equal(err.reason, "cancelled");
  });

  it("rejects a value that is not a MAC with a BAD_INPUT sentence", async () => {
    await assert.rejects(waitForArrival({ broker, mac: "not-a-mac" }), (err: unknown) => {
      assert.ok(err instanceof MerossError);
      assert.equal(err.code, "BAD_INPUT");
      assert.match(err.message, /"not-a-mac" is not a MAC address/);
      return true;
    });
  });
});
