/**
 * Beyond plugs on a real Mosquitto set up the secure default way (`meross certs`): a garage
 * door, a roller shutter, a thermostat and a hub, each simulated device logged in over TLS with
 * its own login, driven by Node-RED nodes whose meross-broker uses that Mosquitto as an
 * existing broker with the Node-RED login.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import type { Node } from "node-red";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import coverModule = require("../../src/nodes/meross-cover");
import climateModule = require("../../src/nodes/meross-climate");
import stateModule = require("../../src/nodes/meross-state");
import { addMosquittoDevice } from "../../src/core/broker/mosquitto";
import { buildMessage } from "../../src/core/protocol/message";
import { SimulatedDevice } from "../../src/simulator";
import { FakeDevice } from "../core/broker/fake_device";
import { requireProgram } from "./harness";
import { MOSQUITTO, mosquittoDir, startMosquittoOnFreePort, until, writeSecureConfig, type RunningMosquitto } from "./mosquitto-harness";
import { collect, helper, onTab, CATCH_NODES, type FlowNode } from "../nodes/helpers";
import { getBroker, pointAt, USER_DIR } from "../nodes/broker-helpers";

/** One key per device: each login derives from its own key (docs/protocol.md §5.2). */
const KEYS = { garage: "garage-door-key-71", shutter: "roller-shutter-key-72", thermostat: "thermostat-key-73", hub: "home-hub-key-74" };
type Family = keyof typeof KEYS;
const MODELS: Record<Family, string> = { garage: "msg100", shutter: "mrs100", thermostat: "mts200b", hub: "msh300" };
const NAMES: Record<Family, string> = { garage: "Garage", shutter: "Bedroom shutter", thermostat: "Living room", hub: "Home hub" };
/** The simulated hub's leak sensor (src/simulator/models-climate.ts). */
const LEAK_SENSOR = "1A00694ACBC7";
/** Doors and shutters travel this long here (the simulator's default is 15 s). */
const TRAVEL_MS = 300;
const WAIT_MS = 15_000;

/** A node output; `tag` is copied from the input message it answers. */
type Out = { topic?: string; tag?: string; payload: Record<string, unknown>; meross?: { sent?: boolean; note?: string } };

describe("device families on a real Mosquitto from `meross certs` (garage, shutter, thermostat, hub)", function () {
  this.timeout(90_000);
  let dir = "";
  let port = 0;
  let mosquitto: RunningMosquitto | undefined;
  let runtime = false;
  const sims = {} as Record<Family, SimulatedDevice>;
  const clients: MqttClient[] = [];
  const fakes: FakeDevice[] = [];
  let outs = {} as Record<Family, Out[]>;
  let caught: Array<{ error: { code?: string; message: string } }> = [];

  before(async function () {
    if (!requireProgram(this, MOSQUITTO, "Mosquitto", "install it with `apt-get install mosquitto`")) return;
    try {
      await setUp();
    } catch (err) {
      process.stderr.write(`\nMosquitto log (end):\n${mosquitto?.log().slice(-4000) ?? "(not started)"}\n`);
      throw err;
    }
  });

  /** Mosquitto with the devices' logins, the Node-RED flow on it, then the devices moved onto it. */
  async function setUp(): Promise<void> {
    dir = mosquittoDir("meross-mosq-families-");
    await writeSecureConfig(dir);

    // Devices set up with their keys; each gets its own Mosquitto login before Mosquitto starts.
    for (const family of Object.keys(KEYS) as Family[]) {
      const sim = await SimulatedDevice.start({
        host: "127.0.0.1",
        port: 0,
        model: MODELS[family],
        key: KEYS[family],
        mqttReconnectMs: 200,
      });
      sims[family] = sim;
      if (family === "garage" || family === "shutter") sim.setCoverTravel(TRAVEL_MS);
      // userId "1": what pointAt below sets with Config.Key.
      addMosquittoDevice(dir, { uuid: sim.uuid, mac: sim.mac, key: KEYS[family], userId: "1" });
    }
    // Its port is known only once it listens: the flow and the devices are given it after this.
    mosquitto = await startMosquittoOnFreePort(dir);
    port = mosquitto.port;

    await new Promise<void>((r) => helper.startServer(() => r()));
    runtime = true;
    const password = fs.readFileSync(path.join(dir, "nodered.password"), "utf8").trim();
    const ca = fs.readFileSync(path.join(dir, "ca.crt"), "utf8");
    const broker: FlowNode = {
      id: "mosq",
      type: "meross-broker",
      name: "Mosquitto",
      mode: "existing",
      url: `mqtts://127.0.0.1:${port}`,
      ca,
      username: "nodered",
      rejectUnauthorized: true,
    };
    const config = (family: Family): FlowNode => ({
      id: `cfg-${family}`,
      type: "meross-config",
      name: NAMES[family],
      host: sims[family].address,
      userId: "1",
      uuid: sims[family].uuid,
      broker: "mosq",
      transport: "mqtt",
    });
    const flow = onTab(
      [broker, ...(Object.keys(KEYS) as Family[]).map(config)],
      [
        // "Also send changes the device reports": these tests follow the devices' pushes at the nodes.
        { id: "n-garage", type: "meross-cover", device: "cfg-garage", channel: "0", reportChanges: true, wires: [["o-garage"]] },
        { id: "n-shutter", type: "meross-cover", device: "cfg-shutter", channel: "0", reportChanges: true, wires: [["o-shutter"]] },
        {
          id: "n-thermostat",
          type: "meross-climate",
          device: "cfg-thermostat",
          subId: "",
          name: "",
          reportChanges: true,
          wires: [["o-thermostat"]],
        },
        { id: "n-hub", type: "meross-state", device: "cfg-hub", name: "", pollInterval: "0", wires: [["o-hub"]] },
        ...(Object.keys(KEYS) as Family[]).map((f) => ({ id: `o-${f}`, type: "helper" })),
        ...CATCH_NODES,
      ],
    );
    // Simulated uuids come from model and port: no device binding kept by an earlier run of this broker node.
    fs.rmSync(path.join(USER_DIR, "meross-broker", "mosq"), { recursive: true, force: true });
    const credentials: Record<string, unknown> = { mosq: { password } };
    for (const family of Object.keys(KEYS) as Family[]) credentials[`cfg-${family}`] = { key: KEYS[family] };
    await helper.load([brokerModule, configModule, coverModule, climateModule, stateModule], flow, credentials);
    outs = Object.fromEntries((Object.keys(KEYS) as Family[]).map((f) => [f, collect<Out>(helper.getNode(`o-${f}`))])) as typeof outs;
    caught = collect(helper.getNode("caught"));
    await until(() => getBroker("mosq").currentConnection()?.online === true, "Node-RED logged in to Mosquitto", WAIT_MS);

    // Node-RED is listening: each device is moved to Mosquitto (Config.Key, as onboarding does) and binds there.
    for (const family of Object.keys(KEYS) as Family[]) {
      await pointAt(sims[family], port, KEYS[family]);
    }
    for (const family of Object.keys(KEYS) as Family[]) {
      const sim = sims[family];
      await until(
        () => sim.mqttState === "connected" && getBroker("mosq").isListening(sim.uuid),
        `${MODELS[family]} logged in to Mosquitto with its own login and seen by Node-RED`,
        WAIT_MS,
      );
      // Its own login: the MAC as user name (docs/protocol.md §5.2), over the TLS listener `meross certs` wrote.
      assert.match(
        mosquitto!.log(),
        new RegExp(`New client connected from 127\\.0\\.0\\.1:\\d+ as fmware:${sim.uuid}\\S* \\(.*u'${sim.mac}'\\)`),
      );
    }
  }

  after(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await Promise.all(fakes.splice(0).map((f) => f.close()));
    if (runtime) {
      await helper.unload();
      await new Promise<void>((r) => helper.stopServer(() => r()));
    }
    await Promise.all(Object.values(sims).map((s) => s.stop()));
    await mosquitto?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") {
      process.stderr.write(
        `\nCaught errors: ${JSON.stringify(caught.map((c) => c.error))}\nMosquitto log (end):\n${mosquitto?.log().slice(-4000)}\n`,
      );
    }
  });

  function node(id: string): Node {
    return helper.getNode(id);
  }

  /** Sends `payload` to a node and resolves with the message that answers it. */
  async function command(family: Family, nodeId: string, payload: unknown): Promise<Out> {
    const before = outs[family].length;
    const tag = `${family}-${Date.now()}-${Math.random()}`;
    node(nodeId).receive({ payload, tag } as never);
    await until(() => outs[family].slice(before).some((m) => m.tag === tag), `the answer of ${nodeId}`, WAIT_MS);
    return outs[family].slice(before).find((m) => m.tag === tag) as Out;
  }

  it("the garage door opens: the node shows opening, then open from the device's push; a second open is not sent", async () => {
    const garage = sims.garage;
    const sets: string[] = [];
    garage.on("request", (r: { method: string; namespace: string; via: string }) => {
      if (r.method === "SET" && r.namespace === "Appliance.GarageDoor.State") sets.push(r.via);
    });
    assert.equal(garage.state.covers?.[0].state, "closed");
    const first = await command("garage", "n-garage", "open");
    assert.deepEqual(first.payload, { state: "opening", channel: 0 });
    assert.equal(first.topic, "Garage");
    assert.equal(first.meross?.sent, true);
    await until(() => outs.garage.some((m) => m.payload.state === "open"), "the door's pushed open state at the node", WAIT_MS);
    assert.deepEqual(
      outs.garage.map((m) => m.payload.state),
      ["opening", "open"],
    );
    assert.equal(garage.state.covers?.[0].state, "open");
    assert.deepEqual(sets, ["mqtt"], "the open command went to the door through Mosquitto");

    const again = await command("garage", "n-garage", "open");
    assert.equal(again.payload.state, "open");
    assert.equal(again.meross?.sent, false);
    assert.match(again.meross?.note ?? "", /already open, so nothing was sent/);
    assert.equal(sets.length, 1, "the second open never reached the door");
  });

  it("the roller shutter goes to 40 %: the node reports the position from the device", async () => {
    const first = await command("shutter", "n-shutter", 40);
    // A short test move may already be over when the reply is read back.
    assert.ok(first.payload.state === "opening" || first.payload.position === 40, JSON.stringify(first.payload));
    await until(() => outs.shutter.some((m) => m.payload.state === "stopped"), "the shutter's pushed stop at the node", WAIT_MS);
    assert.deepEqual(outs.shutter[outs.shutter.length - 1].payload, { state: "stopped", position: 40, channel: 0 });
    assert.deepEqual(sims.shutter.state.covers?.[0], { kind: "roller", channel: 0, state: "stopped", position: 40 });
  });

  it("the thermostat is set to 21 °C: the device heats to it and its pushed state reaches the node", async () => {
    const thermostat = sims.thermostat;
    const set = await command("thermostat", "n-thermostat", 21);
    assert.equal(set.topic, "Living room");
    assert.deepEqual(set.payload, { on: true, mode: "manual", target: 21, current: 18, heating: true, windowOpen: false });
    assert.equal(thermostat.snapshot().climate?.target, 21, "the thermostat itself shows 21 °C");
    const before = outs.thermostat.length;
    // Three simulated hours warm the room: the device pushes the new temperature and the idle relay.
    thermostat.advanceTime(3 * 3600);
    await until(
      () => outs.thermostat.slice(before).some((m) => m.payload.current === 21 && m.payload.heating === false),
      "the thermostat's pushed warm room at the node",
      WAIT_MS,
    );
    const pushed = outs.thermostat.slice(before).find((m) => m.payload.current === 21) as Out;
    assert.equal(pushed.topic, "Living room");
    assert.equal(pushed.payload.target, 21);
  });

  it('a leak on a hub sensor reaches meross-state as "Home hub / sensor"', async () => {
    const hub = sims.hub;
    hub.setLeak(true, LEAK_SENSOR);
    const isLeak = (m: Out): boolean => m.payload.kind === "alarm" && m.payload.active === true;
    await until(() => outs.hub.some(isLeak), "the pushed leak alarm at meross-state", WAIT_MS);
    const alarm = outs.hub.find(isLeak) as Out;
    assert.equal(alarm.topic, `Home hub / ${LEAK_SENSOR}`);
    assert.deepEqual(alarm.payload, { type: "leak", active: true, subId: LEAK_SENSOR, kind: "alarm", source: "push" });
    assert.deepEqual((alarm as unknown as { meross: unknown }).meross, { uuid: hub.uuid, model: "msh300" });
  });

  it("the thermostat's login cannot publish on the garage door's topic: a forged 'closed' never reaches the node", async () => {
    const { thermostat, garage } = sims;
    const password = fs.readFileSync(path.join(dir, "nodered.password"), "utf8").trim();
    const ca = fs.readFileSync(path.join(dir, "ca.crt"));
    const observer = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
      ca,
      username: "nodered",
      password,
      clientId: "app:e2e-families-observer",
      reconnectPeriod: 0,
      connectTimeout: 5000,
      protocolVersion: 4,
    });
    clients.push(observer);
    const seen: string[] = [];
    observer.on("message", (_t, payload) => seen.push(payload.toString("utf8")));
    await observer.subscribeAsync("/appliance/+/publish", { qos: 1 });

    // The thermostat's own login (another client id, so the simulated thermostat stays connected).
    const forger = await FakeDevice.connect({
      port,
      uuid: thermostat.uuid,
      mac: thermostat.mac,
      key: KEYS.thermostat,
      userId: "1",
      clientId: "fmware:e2e-forger",
    });
    fakes.push(forger);
    const before = outs.garage.length;
    // Signed with the garage's own key, so only Mosquitto's per-device rule can stop it.
    const forged = buildMessage({
      method: "PUSH",
      namespace: "Appliance.GarageDoor.State",
      payload: { state: [{ channel: 0, open: 0, lmTime: Math.floor(Date.now() / 1000) }] },
      key: KEYS.garage,
      from: `/appliance/${garage.uuid}/publish`,
      uuid: garage.uuid,
    });
    await forger.publish(forged, `/appliance/${garage.uuid}/publish`);
    await forger.publish("marker-from-thermostat-login");
    await until(() => seen.includes("marker-from-thermostat-login"), "the thermostat login's push on its own topic", WAIT_MS);
    assert.ok(!seen.some((t) => t.includes(forged.header.messageId)), "Mosquitto dropped the publish on the garage's topic");
    assert.deepEqual(outs.garage.slice(before), [], "the garage node saw no forged change");
    assert.equal(garage.state.covers?.[0].state, "open");
    assert.deepEqual(caught, [], "no node reported an error during the whole run");
  });
});
