import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import { MerossDevice } from "../../../src/core/session/device";
import { generateCertificates, type Certificates } from "../../../src/core/broker/certs";
import { MerossBroker } from "../../../src/core/broker/broker";
import { MqttTransport } from "../../../src/core/transport/mqtt";
import { HttpTransport } from "../../../src/core/transport/http";
import { AutoTransport } from "../../../src/core/transport/auto";
import { SimulatedDevice } from "../../../src/simulator/device";
import { rejectsWith, nextEvent } from "../../helpers/errors";
import { buildMessage } from "../../../src/core/protocol/message";

const KEY = "device-spec-key";

/** A full garbage collection, with or without node --expose-gc. */
function collectGarbage(): void {
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
}

describe("MerossDevice over HTTP (simulated devices)", () => {
  const sims: SimulatedDevice[] = [];
  const devices: MerossDevice[] = [];
  const start = async (model: string, key = KEY) => {
    const sim = await SimulatedDevice.start({ model, key, port: 0 });
    sims.push(sim);
    const device = new MerossDevice({ address: sim.address, key });
    devices.push(device);
    return { sim, device };
  };
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });

  it("learns uuid, MAC, model, firmware and abilities from System.All + System.Ability", async () => {
    const { sim, device } = await start("mss310");
    const info = await device.ready();
    assert.equal(info.uuid, sim.uuid);
    assert.equal(info.mac, sim.mac);
    assert.equal(info.model, sim.model.type);
    assert.ok(info.firmwareVersion.length > 0);
    assert.ok(device.has("Appliance.Control.Electricity"));
    assert.equal(device.legacyToggle, false);
  });

  it("keeps a press pushed while its first read is under way, and reports the press after it", async () => {
    const sim = await SimulatedDevice.start({ model: "mss310", key: KEY, port: 0, quirks: { processingMs: 150 } });
    sims.push(sim);
    const device = new MerossDevice({ address: sim.address, key: KEY });
    devices.push(device);
    const push = (on: boolean) =>
      device.handlePush(
        buildMessage({
          method: "PUSH",
          namespace: "Appliance.Control.ToggleX",
          payload: { togglex: [{ channel: 0, onoff: on ? 1 : 0 }] },
          key: KEY,
        }),
      );
    const ready = device.ready(); // System.All read while the plug is still off
    assert.equal(push(true), true); // pressed on before that read's reply comes back
    await ready;
    assert.equal(device.toggles.get(0), true, "the older read did not undo the press");
    const events: unknown[] = [];
    device.events.on("event", (ev) => events.push(ev));
    push(false);
    assert.equal(device.toggles.get(0), false);
    assert.ok(events.length > 0, "pressed off again: reported, not taken for 'unchanged'");
  });

  it("after a first read that fails, applies and reports each push at once and keeps none of them", async () => {
    const { sim, device } = await start("mss310");
    sim.setFault({ kind: "truncate" }, { count: 1 });
    await rejectsWith(device.ready(), "BAD_RESPONSE", /truncated/);
    const events: unknown[] = [];
    device.events.on("event", (ev) => events.push(ev));
    // Built and handed over in a function of its own, so that only the session could still hold the push.
    const pushed = ((): WeakRef<object> => {
      const env = buildMessage({
        method: "PUSH",
        namespace: "Appliance.Control.ToggleX",
        payload: { togglex: [{ channel: 0, onoff: 1 }] },
        key: KEY,
      });
      assert.equal(device.handlePush(env), true);
      return new WeakRef(env);
    })();
    assert.equal(device.toggles.get(0), true, "the press is applied at once");
    assert.ok(events.length > 0, "and reported at once");
    await new Promise((r) => setImmediate(r));
    collectGarbage();
    // Kept for replay over a read that is no longer under way, a push of every hour would pile up until the next read.
    assert.equal(pushed.deref(), undefined, "the failed read keeps no push for a replay that never comes");
  });

  it("switches with ToggleX and reads the state back", async () => {
    const { sim, device } = await start("mss310");
    assert.deepEqual(await device.setToggle(0, true), { channel: 0, on: true });
    assert.equal(sim.state.channels[0].on, true);
    assert.equal((await device.getToggle(0)).on, true);
    assert.deepEqual(await device.setToggle(0, "toggle"), { channel: 0, on: false });
    assert.equal(sim.state.channels[0].on, false);
  });

  it("picks legacy Control.Toggle by itself on old firmware", async () => {
    const { sim, device } = await start("mss210");
    await device.ready();
    assert.equal(device.legacyToggle, true);
    await device.setToggle(0, true);
    assert.equal(sim.state.channels[0].on, true);
    assert.equal((await device.getToggle(0)).on, true);
  });

  it("addresses each channel of a power strip", async () => {
    const { sim, device } = await start("mss425");
    await device.setToggle(2, true);
    assert.deepEqual(
      sim.state.channels.map((c) => c.on),
      [false, false, true, false],
    );
    await rejectsWith(device.getToggle(9), "BAD_INPUT", /Channel 9 does not exist/);
  });

  it("sets colour and brightness on an RGB bulb and refuses colour on a white-only bulb", async () => {
    const rgb = await start("msl120");
    const state = await rgb.device.setLight({ rgb: 0xff8800, luminance: 40 });
    assert.equal(state.rgb, 0xff8800);
    assert.equal(state.luminance, 40);
    assert.equal(state.on, true);
    assert.equal(rgb.sim.state.light?.rgb, 0xff8800);
    assert.equal(rgb.sim.state.light?.luminance, 40);

    const white = await start("msl100");
    await rejectsWith(white.device.setLight({ rgb: 0xff0000 }), "UNSUPPORTED", /colour/i);
    assert.notEqual(white.sim.state.light?.rgb, 0xff0000);
  });

  it("says the key is wrong (and where keys come from) on device error 5001", async () => {
    const { sim } = await start("mss310");
    const wrong = new MerossDevice({ address: sim.address, key: "not-the-key" });
    devices.push(wrong);
    const err = await rejectsWith(wrong.ready(), "WRONG_KEY", /key is wrong/);
    assert.match(err.message, /Config\.Key|onboard/);
    assert.ok(!err.message.includes(KEY), "the sentence never contains a key");
  });

  it("refuses a namespace missing from the ability list before sending it", async () => {
    const { sim, device } = await start("msl100");
    await device.ready();
    const before = sim.requestCount;
    await rejectsWith(device.request("GET", "Appliance.Control.Electricity", {}), "UNSUPPORTED", /ability list/);
    assert.equal(sim.requestCount, before, "nothing was sent");
  });

  it("sends one request at a time even when callers overlap", async () => {
    const { sim, device } = await start("mss310");
    await device.ready();
    let inFlight = 0;
    let maxInFlight = 0;
    sim.on("request", () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
    });
    sim.on("reply", () => inFlight--);
    await Promise.all(Array.from({ length: 8 }, (_, i) => device.setToggle(0, i % 2 === 0)));
    assert.equal(maxInFlight, 1);
  });

  it("turns a truncated reply into BAD_RESPONSE and keeps working afterwards", async () => {
    const { sim, device } = await start("mss310");
    await device.ready();
    sim.setFault({ kind: "truncate" }, { count: 1 });
    await rejectsWith(device.request("GET", "Appliance.System.Runtime", {}), "BAD_RESPONSE", /truncated/);
    assert.equal((await device.request("GET", "Appliance.System.Runtime", {})).header.method, "GETACK");
  });
});

describe("MerossDevice over MQTT and auto (simulated device on the embedded broker)", function () {
  this.timeout(30_000);
  let certs: Certificates;
  let broker: MerossBroker | undefined;
  let sim: SimulatedDevice | undefined;
  let device: MerossDevice | undefined;
  /** Transports this test created: it closes them, the session does not (their creator does). */
  const created: Array<{ close(): Promise<void> }> = [];

  before(() => {
    certs = generateCertificates({ host: "127.0.0.1" });
  });
  afterEach(async () => {
    await device?.close();
    await Promise.all(created.splice(0).map((t) => t.close()));
    await sim?.stop();
    await broker?.stop();
    device = sim = broker = undefined;
  });

  async function setup(): Promise<{ broker: MerossBroker; sim: SimulatedDevice }> {
    broker = await MerossBroker.start({ port: 0, host: "127.0.0.1", certs, keys: [KEY] });
    const b = broker;
    const connected = new Promise((r) => b.events.once("device-listening", r));
    sim = await SimulatedDevice.start({
      model: "msl120",
      key: KEY,
      port: 0,
      gateway: { host: "127.0.0.1", port: b.port },
      userId: "0",
      mqttReconnectMs: 200,
    });
    await connected;
    return { broker: b, sim };
  }

  it("controls the device over MQTT and follows its PUSHes (button press, HTTP change)", async () => {
    const { broker: b, sim: s } = await setup();
    const transport = new MqttTransport({ uuid: s.uuid, client: b.connection() });
    created.push(transport);
    device = new MerossDevice({ transport, key: KEY });
    await device.setLight({ rgb: 0x00ff00, luminance: 30 });
    assert.equal(s.state.light?.rgb, 0x00ff00);
    assert.equal(s.state.light?.luminance, 30);

    const pressed = nextEvent(device, (e) => e.type === "toggle" && e.source === "push");
    s.press(0);
    const ev = await pressed;
    assert.ok(ev.type === "toggle");
    assert.equal(ev.on, s.state.channels[0].on);

    const coloured = nextEvent(device, (e) => e.type === "light" && e.source === "push" && e.light.rgb === 0x0000ff);
    s.setLight({ rgb: 0x0000ff });
    const lightEv = await coloured;
    assert.ok(lightEv.type === "light");
    assert.equal(lightEv.light.luminance, 30, "fields the push did not carry keep their value");
  });

  it("auto: uses MQTT while connected, falls back to HTTP when the broker stops", async () => {
    const { broker: b, sim: s } = await setup();
    const mqtt = new MqttTransport({ uuid: s.uuid, client: b.connection(), timeoutMs: 1500 });
    const http = new HttpTransport(s.address);
    const auto = new AutoTransport({ http, mqtt, mqttAvailable: () => b.isConnected(s.uuid) });
    created.push(auto, http, mqtt);
    device = new MerossDevice({ transport: auto, key: KEY });
    const via: string[] = [];
    s.on("request", (r: { via: string }) => via.push(r.via));
    await device.setToggle(0, true);
    assert.equal(auto.kind, "mqtt");
    assert.equal(via[via.length - 1], "mqtt");

    await b.stop();
    await device.setToggle(0, false);
    assert.equal(auto.kind, "http");
    assert.equal(via[via.length - 1], "http");
    assert.equal(s.state.channels[0].on, false);
  });
});
