import assert from "node:assert/strict";
import { rebind, RebindError } from "../../../src/core/onboarding/rebind";
import { ArrivalWatcher } from "../../../src/core/fleet/arrival";
import { MerossBroker } from "../../../src/core/broker/broker";
import { generateCertificates, type Certificates } from "../../../src/core/broker/certs";
import { MerossDevice } from "../../../src/core/session/device";
import { APP_BROKER, SimulatedDevice, type RequestEvent } from "../../../src/simulator/device";
import { rejectsWith } from "../../helpers/errors";

const APP_KEY = "meross-account-key";
const NEW_KEY = "our-own-key";

describe("re-binding a device the Meross app set up (docs/protocol.md §3.2)", function () {
  this.timeout(30_000);
  let certs: Certificates;
  let broker: MerossBroker | undefined;
  const sims: SimulatedDevice[] = [];
  before(() => {
    certs = generateCertificates({ host: "127.0.0.1" });
  });
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    await broker?.stop();
    broker = undefined;
  });
  const appPaired = async (model: string): Promise<SimulatedDevice> => {
    const sim = await SimulatedDevice.start({ model, key: APP_KEY, appPaired: true, port: 0, mqttReconnectMs: 200 });
    sims.push(sim);
    return sim;
  };

  for (const model of ["mss310", "mss110"]) {
    it(`${model}: only Config.Key, Wi-Fi kept, then the device logs in to our broker with the new key`, async () => {
      broker = await MerossBroker.start({ port: 0, host: "127.0.0.1", certs, keys: [NEW_KEY] });
      const sim = await appPaired(model);
      assert.deepEqual(sim.gateway && { host: sim.gateway.host, port: sim.gateway.port }, APP_BROKER);
      const wifiBefore = sim.wifi;
      const requests: RequestEvent[] = [];
      sim.on("request", (e: RequestEvent) => requests.push(e));
      const watcher = new ArrivalWatcher(broker);
      try {
        const names: string[] = [];
        const result = await rebind({
          address: sim.address,
          currentKey: APP_KEY,
          newKey: NEW_KEY,
          broker: { host: "127.0.0.1", port: broker.port, userId: 7 },
          onStep: (s) => names.push(s.name),
        });
        assert.deepEqual(
          result.steps.map((s) => s.name),
          names,
        );
        assert.equal(names[names.length - 1], "set key");
        assert.ok(result.steps.every((s) => s.ok));
        assert.equal(result.device.uuid, sim.uuid);
        assert.equal(result.mqtt.port, broker.port);
        assert.ok(!JSON.stringify(result).includes(NEW_KEY) && !JSON.stringify(result).includes(APP_KEY), "no key in the result");
        const sets = requests.filter((r) => r.method === "SET").map((r) => r.namespace);
        assert.deepEqual(sets, ["Appliance.Config.Key"], "nothing but Config.Key changes the device");
        assert.deepEqual(sim.wifi, wifiBefore);
        assert.equal(sim.mode, "normal");
        assert.equal(sim.key, NEW_KEY);
        assert.equal(sim.userId, "7");
        const arrived = await watcher.wait({ uuid: result.device.uuid, mac: result.device.mac, timeoutMs: 15_000 });
        assert.equal(arrived.uuid, sim.uuid);
      } finally {
        watcher.close();
      }
      // The new key works on the LAN too; the old one no longer does.
      const device = new MerossDevice({ address: sim.address, key: NEW_KEY });
      try {
        await device.setToggle(0, true);
        assert.equal(sim.state.channels[0].on, true);
      } finally {
        await device.close();
      }
    });
  }

  it("a wrong current key is WRONG_KEY at 'read device', and the device is untouched", async () => {
    const sim = await appPaired("mss310");
    const err = await rejectsWith(
      rebind({ address: sim.address, currentKey: "guess", newKey: NEW_KEY, broker: { host: "127.0.0.1", port: 8883 } }),
      "WRONG_KEY",
    );
    assert.ok(err instanceof RebindError);
    assert.deepEqual(
      err.steps.map((s) => [s.name, s.ok]),
      [["read device", false]],
    );
    assert.equal(sim.key, APP_KEY);
    assert.equal(sim.gateway?.host, APP_BROKER.host);
    assert.ok(!err.message.includes("guess") && !err.message.includes(NEW_KEY));
  });

  it("a bad broker port is BAD_INPUT before anything is sent", async () => {
    const sim = await appPaired("mss310");
    let requests = 0;
    sim.on("request", () => requests++);
    await rejectsWith(
      rebind({ address: sim.address, currentKey: APP_KEY, newKey: NEW_KEY, broker: { host: "127.0.0.1", port: 70000 } }),
      "BAD_INPUT",
      /65535/,
    );
    await rejectsWith(rebind({ address: sim.address, currentKey: APP_KEY, newKey: NEW_KEY, broker: { host: " " } }), "BAD_INPUT", /host/);
    assert.equal(requests, 0);
  });
  it("a re-bind whose signal is aborted (its node closed) stops: CANCELLED, Config.Key never sent, the device keeps its key", async () => {
    const sim = await appPaired("mss310");
    const sets: string[] = [];
    const abort = new AbortController();
    sim.on("request", (e: RequestEvent) => {
      if (e.method === "SET") sets.push(e.namespace);
      // Closed while the first step runs.
      if (e.namespace === "Appliance.System.All") abort.abort();
    });
    const run = rebind({
      address: sim.address,
      currentKey: APP_KEY,
      newKey: NEW_KEY,
      broker: { host: "127.0.0.1", port: 8883 },
      signal: abort.signal,
    });
    await rejectsWith(run, "CANCELLED", /closed or redeployed/);
    assert.deepEqual(sets, []);
    assert.equal(sim.key, APP_KEY);
  });
});
