import assert from "node:assert/strict";
import { MerossDevice } from "../../../src/core/session/device";
import { generateCertificates, type Certificates } from "../../../src/core/broker/certs";
import { MerossBroker } from "../../../src/core/broker/broker";
import { MqttTransport } from "../../../src/core/transport/mqtt";
import type { Envelope } from "../../../src/core/protocol/message";
import {
  NS_GARAGE_CONFIG,
  NS_GARAGE_MULTICONFIG,
  NS_GARAGE_STATE,
  composeCapabilities,
  coverCommand,
  reduceEnvelope,
  type DeviceEvent,
  type MutableDeviceState,
} from "../../../src/core/capabilities";
import { SimulatedDevice } from "../../../src/simulator/device";
import { rejectsWith } from "../../helpers/errors";

const KEY = "msg200-key";
/** Doors travel this long here (the simulator's default is 15 s), as in the msg100 tests. */
const TRAVEL_MS = 300;

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(ok(), `timed out waiting for ${what}`);
}

const doors = (d: MerossDevice) => [...(d.state.covers?.values() ?? [])].map((c) => [c.channel, c.state]);

describe("garage reducer: the msg200 channel-0 item (ML#428, docs/protocol-devices.md §11.2)", () => {
  const glitch = { state: [{ channel: 0, open: 0, lmTime: 9, reason: { online: { timestamp: 9 } } }] };
  const push = (payload: Record<string, unknown>): Envelope => ({
    header: { messageId: "m", namespace: NS_GARAGE_STATE, method: "PUSH", timestamp: 0, sign: "" },
    payload,
  });
  function apply(abilities: Record<string, Record<string, unknown>>, payload: Record<string, unknown>) {
    const st: MutableDeviceState = { toggles: new Map(), abilities };
    const events = reduceEnvelope(composeCapabilities(abilities), push(payload), "push")?.(st) ?? [];
    return { events, channels: [...(st.covers?.keys() ?? [])] };
  }

  it("is dropped on a multi-door opener (MultipleConfig), beside a real door in the same push", () => {
    const msg200 = { [NS_GARAGE_STATE]: {}, [NS_GARAGE_MULTICONFIG]: {} };
    assert.deepEqual(apply(msg200, glitch), { events: [], channels: [] });
    const mixed = apply(msg200, { state: [...glitch.state, { channel: 2, open: 1, lmTime: 9 }] });
    assert.deepEqual(mixed.channels, [2]);
    assert.deepEqual(
      mixed.events.map((e) => e.type === "cover" && e.cover.channel),
      [2],
    );
  });

  it("is still the door on a one-door opener (msg100 numbers its door 0)", () => {
    const msg100 = { [NS_GARAGE_STATE]: {}, [NS_GARAGE_CONFIG]: {} };
    assert.deepEqual(apply(msg100, { state: [{ channel: 0, open: 1, lmTime: 9 }] }).channels, [0]);
  });
});

describe("msg200 garage opener (three doors) against the simulator", () => {
  let sim: SimulatedDevice | undefined;
  let device: MerossDevice | undefined;
  let broker: MerossBroker | undefined;
  let transport: MqttTransport | undefined;
  let certs: Certificates;
  before(() => {
    certs = generateCertificates({ host: "127.0.0.1" });
  });
  afterEach(async () => {
    await device?.close();
    await transport?.close();
    await sim?.stop();
    await broker?.stop();
    device = sim = broker = transport = undefined;
  });

  async function overHttp(): Promise<{ sim: SimulatedDevice; device: MerossDevice }> {
    sim = await SimulatedDevice.start({ model: "msg200", key: KEY, port: 0 });
    sim.setCoverTravel(TRAVEL_MS);
    device = new MerossDevice({ address: sim.address, key: KEY });
    return { sim, device };
  }

  it("a read shows three doors, 1 to 3, all closed; door 0 does not exist", async () => {
    const { device } = await overHttp();
    const r = await coverCommand(device, 1, { action: "read" });
    assert.deepEqual({ channel: r.channel, state: r.state, sent: r.sent }, { channel: 1, state: "closed", sent: false });
    assert.deepEqual(doors(device), [
      [1, "closed"],
      [2, "closed"],
      [3, "closed"],
    ]);
    await rejectsWith(
      coverCommand(device, 0, { action: "read" }),
      "BAD_INPUT",
      /Door 0 does not exist on this msg200: .*channels\) 1, 2, 3/,
    );
  });

  it("opening door 2 moves door 2 only: opening, then open after the travel time", async () => {
    const { sim, device } = await overHttp();
    const r = await coverCommand(device, 2, { action: "open" });
    assert.deepEqual({ state: r.state, sent: r.sent, settleMs: r.settleMs }, { state: "opening", sent: true, settleMs: TRAVEL_MS });
    assert.deepEqual(
      sim.state.covers?.map((c) => [c.channel, c.state]),
      [
        [1, "closed"],
        [2, "opening"],
        [3, "closed"],
      ],
    );
    await until("door 2 up", () => sim.state.covers?.[1].state === "open");
    assert.equal((await coverCommand(device, 2, { action: "read" })).state, "open");
    assert.deepEqual(doors(device), [
      [1, "closed"],
      [2, "open"],
      [3, "closed"],
    ]);
    // Asked again, door 2 is left alone: no second pulse.
    assert.equal((await coverCommand(device, 2, { action: "open" })).sent, false);
  });

  it("the periodic bogus channel-0 push (ML#428), when enabled, never shows up as a fourth door", async () => {
    broker = await MerossBroker.start({ port: 0, host: "127.0.0.1", certs, keys: [KEY] });
    const b = broker;
    const listening = new Promise((r) => b.events.once("device-listening", r));
    sim = await SimulatedDevice.start({
      model: "msg200",
      key: KEY,
      port: 0,
      gateway: { host: "127.0.0.1", port: b.port },
      userId: "0",
      mqttReconnectMs: 200,
    });
    sim.setCoverTravel(TRAVEL_MS);
    await listening;
    transport = new MqttTransport({ uuid: sim.uuid, client: b.connection() });
    device = new MerossDevice({ transport, key: KEY });
    await coverCommand(device, 1, { action: "read" });
    const events: DeviceEvent[] = [];
    device.events.on("event", (e) => events.push(e));
    const glitches: Envelope[] = [];
    transport.events.on("push", (env) => {
      if (JSON.stringify(env.payload).includes('"reason"')) glitches.push(env);
    });
    sim.setGarageGlitch(40);
    await until("two bogus pushes", () => glitches.length >= 2);
    // Door 3 still moves and reports as usual meanwhile.
    await coverCommand(device, 3, { action: "open" });
    await until("door 3 pushed open", () => events.some((e) => e.type === "cover" && e.cover.channel === 3 && e.cover.state === "open"));
    sim.setGarageGlitch(0);
    const item = (glitches[0].payload.state as Array<Record<string, unknown>>)[0];
    assert.deepEqual(Object.keys(item), ["channel", "open", "lmTime", "reason"], "the shape of ML#428");
    assert.equal(item.channel, 0, "the device did push channel 0");
    assert.deepEqual(doors(device), [
      [1, "closed"],
      [2, "closed"],
      [3, "open"],
    ]);
    assert.ok(!events.some((e) => e.type === "cover" && e.cover.channel === 0), "no event for a door 0");
  });
});
