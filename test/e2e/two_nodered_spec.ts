/**
 * A fleet beyond one Node-RED (docs/architecture.md, "Beyond one machine"): two Node-RED
 * runtimes, each in its own process, use one real Mosquitto (set up by `meross certs`) as an
 * existing broker with the same Node-RED login, and each owns one device (its key and uuid are
 * in that runtime's meross-config only). A toggle through either runtime reaches its own device
 * only, and each runtime's broker-wide meross-state reports its own device's pushes only.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { addMosquittoDevice } from "../../src/core/broker/mosquitto";
import { SimulatedDevice, type RequestEvent } from "../../src/simulator/device";
import { deriveIdentity } from "../../src/simulator/identity";
import { devicesRead, injectNode, requireProgram, startNodeRed, type NodeRed } from "./harness";
import { MOSQUITTO, mosquittoDir, startMosquittoOnFreePort, until, writeSecureConfig, type RunningMosquitto } from "./mosquitto-harness";

type Flow = Array<Record<string, unknown>>;
const SIDES = ["kitchen", "garage"] as const;
type Side = (typeof SIDES)[number];
/** One key per device: a runtime believes only messages signed with a key it holds. */
const KEYS: Record<Side, string> = { kitchen: "kitchen-plug-key-81", garage: "garage-plug-key-82" };
/** Where each device's uuid and MAC come from (a simulated device otherwise derives them from its HTTP port). */
const SEEDS: Record<Side, string> = { kitchen: "two-nodered:kitchen-plug", garage: "two-nodered:garage-plug" };

/** One runtime's flow: the shared Mosquitto, its own device, a toggle, and a broker-wide meross-state. */
function flowFor(side: Side, sim: SimulatedDevice, url: string, ca: string): Flow {
  const z = `tab-${side}`;
  const debug = (id: string, complete: string) => ({
    id,
    type: "debug",
    z,
    name: id,
    active: true,
    tosidebar: false,
    console: true,
    complete,
    targetType: "msg",
    x: 500,
    y: 100,
    wires: [],
  });
  const inject = (id: string, payload: string) => injectNode(z, id, payload, "plug");
  return [
    { id: z, type: "tab", label: side },
    // Same login on both runtimes: Mosquitto tells them apart by their random client ids.
    {
      id: `mosq-${side}`,
      type: "meross-broker",
      name: "Mosquitto",
      mode: "existing",
      url,
      ca,
      username: "nodered",
      rejectUnauthorized: true,
    },
    {
      id: `cfg-${side}`,
      type: "meross-config",
      name: side,
      host: sim.address,
      userId: "1",
      uuid: sim.uuid,
      broker: `mosq-${side}`,
      transport: "mqtt",
    },
    { id: "plug", type: "meross-toggle", z, device: `cfg-${side}`, channel: "0", x: 300, y: 100, wires: [["switched"]] },
    { id: "state", type: "meross-state", z, broker: `mosq-${side}`, pollInterval: "0", x: 300, y: 200, wires: [["pushed"]] },
    inject("go-on", "on"),
    inject("go-off", "off"),
    debug("switched", "payload"),
    // The whole msg: the device's uuid is in msg.meross.
    debug("pushed", "true"),
    { id: "catch", type: "catch", z, scope: null, uncaught: false, x: 100, y: 300, wires: [["errors"]] },
    debug("errors", "true"),
  ];
}

/** The log entries (one per timestamped line, with the lines that continue it) printed by a debug node. */
function debugEntries(red: NodeRed, name: string): string[] {
  return red
    .log()
    .split(/\n(?=\d{1,2} \w{3} \d\d:\d\d:\d\d - )/)
    .filter((e) => e.includes(`[debug:${name}]`));
}

describe("two Node-RED runtimes on one Mosquitto, each owning its own device (real Node-RED, real Mosquitto)", function () {
  this.timeout(150_000);
  let dir = "";
  let mosquitto: RunningMosquitto | undefined;
  const sims = {} as Record<Side, SimulatedDevice>;
  const reds = {} as Record<Side, NodeRed>;
  const via = { kitchen: [] as string[], garage: [] as string[] };

  before(async function () {
    if (!requireProgram(this, MOSQUITTO, "Mosquitto", "install it with `apt-get install mosquitto`")) return;
    dir = mosquittoDir("meross-mosq-two-nr-");
    await writeSecureConfig(dir);
    // Each device's own Mosquitto login (dynamic security), derived from its own key, is in the
    // file before Mosquitto starts: its identity comes from a seed, so it is known before the device runs.
    for (const side of SIDES) {
      const { uuid, mac } = deriveIdentity(SEEDS[side]);
      addMosquittoDevice(dir, { uuid, mac, key: KEYS[side], userId: "1" });
    }
    // Its port is known only once it listens: the devices and the runtimes are given it after this.
    mosquitto = await startMosquittoOnFreePort(dir);
    const port = mosquitto.port;
    for (const side of SIDES) {
      const sim = await SimulatedDevice.start({
        host: "127.0.0.1",
        port: 0,
        model: "mss310",
        seed: SEEDS[side],
        key: KEYS[side],
        userId: "1",
        gateway: { host: "127.0.0.1", port },
        mqttReconnectMs: 200,
      });
      sims[side] = sim;
      sim.on("request", (r: RequestEvent) => via[side].push(`${r.method} ${r.namespace} ${r.via}`));
    }
    const url = `mqtts://127.0.0.1:${port}`;
    const ca = fs.readFileSync(path.join(dir, "ca.crt"), "utf8");
    const password = fs.readFileSync(path.join(dir, "nodered.password"), "utf8").trim();
    // The devices are on Mosquitto before the runtimes start: each runtime's first read finds its device there.
    for (const side of SIDES) await until(() => sims[side].mqttState === "connected", `the ${side} device logged in to Mosquitto`);
    try {
      for (const side of SIDES) {
        const flows = flowFor(side, sims[side], url, ca);
        const credentials = { [`mosq-${side}`]: { password }, [`cfg-${side}`]: { key: KEYS[side] } };
        reds[side] = await startRuntime(flows, credentials);
      }
      // Observed here: a runtime's first read reaches Mosquitto only about 30 s after start-up
      // (its start-up read is retried after LINK_RETRY_MS), hence the minute allowed.
      for (const side of SIDES) await devicesRead(reds[side], flowFor(side, sims[side], url, ca), 60_000);
    } catch (err) {
      dumpLogs();
      throw err;
    }
  });

  /** startNodeRed, again when the port it picked was taken meanwhile by another program on this machine. */
  async function startRuntime(flows: Flow, credentials: Record<string, unknown>): Promise<NodeRed> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await startNodeRed({ flows, credentials });
      } catch (err) {
        if (attempt >= 3 || !/port in use/.test(String(err))) throw err;
      }
    }
  }

  function dumpLogs(): void {
    for (const side of SIDES) process.stderr.write(`\nNode-RED ${side} log (end):\n${reds[side]?.log().slice(-3000)}\n`);
    process.stderr.write(`\nMosquitto log (end):\n${mosquitto?.log().slice(-3000) ?? ""}\n`);
  }

  afterEach(function () {
    if (this.currentTest?.state === "failed") dumpLogs();
  });

  after(async () => {
    await Promise.all(SIDES.map((side) => reds[side]?.stop()));
    await Promise.all(SIDES.map((side) => sims[side]?.stop()));
    await mosquitto?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function toggle(side: Side, inject: "go-on" | "go-off"): Promise<void> {
    const red = reds[side];
    const before = debugEntries(red, "switched").length;
    const res = await red.post(`/inject/${inject}`, {});
    assert.equal(res.status, 200, res.body);
    await until(() => debugEntries(red, "switched").length > before, `the ${side} toggle's answer`, 30_000);
  }

  it("both runtimes are logged in to the same Mosquitto with the same login, each with its own client id", function () {
    if (!mosquitto) return this.skip();
    const clients = [...mosquitto.log().matchAll(/New client connected from 127\.0\.0\.1:\d+ as (app:\S+) .*u'nodered'/g)].map((m) => m[1]);
    assert.equal(new Set(clients).size, 2, `two Node-RED clients on Mosquitto (saw ${clients.join(", ")})`);
  });

  it("a toggle through each runtime switches its own device only, over Mosquitto", async function () {
    if (!mosquitto) return this.skip();
    via.kitchen.length = 0;
    via.garage.length = 0;
    await toggle("kitchen", "go-on");
    assert.equal(sims.kitchen.state.channels[0].on, true, "the kitchen plug is on");
    assert.equal(sims.garage.state.channels[0].on, false, "the garage plug, owned by the other runtime, is untouched");
    assert.ok(
      via.kitchen.includes("SET Appliance.Control.ToggleX mqtt"),
      `the command went over Mosquitto (saw ${via.kitchen.join("; ")})`,
    );

    await toggle("garage", "go-on");
    assert.equal(sims.garage.state.channels[0].on, true, "the garage plug is on");
    await toggle("kitchen", "go-off");
    assert.equal(sims.kitchen.state.channels[0].on, false, "the kitchen plug is off again");
    assert.equal(sims.garage.state.channels[0].on, true, "the garage plug stays on");
    const sets = (side: Side): number => via[side].filter((r) => r.startsWith("SET Appliance.Control.ToggleX")).length;
    assert.equal(sets("garage"), 1, "only the garage runtime's one toggle reached the garage plug");
    assert.equal(sets("kitchen"), 2, "only the kitchen runtime's two toggles reached the kitchen plug");
    for (const side of SIDES) assert.deepEqual(debugEntries(reds[side], "errors"), [], `no error in the ${side} runtime`);
  });

  it("each runtime's meross-state reports its own device's pushes and never the other's", async function () {
    if (!mosquitto) return this.skip();
    const pushesOf = (side: Side, uuid: string): string[] =>
      debugEntries(reds[side], "pushed").filter((e) => e.includes(uuid) && /source: 'push'/.test(e));
    // A press on each device, one after the other; each shows up at its own runtime.
    sims.kitchen.press(0);
    await until(() => pushesOf("kitchen", sims.kitchen.uuid).length > 0, "the kitchen press at the kitchen runtime", 30_000);
    sims.garage.press(0);
    await until(() => pushesOf("garage", sims.garage.uuid).length > 0, "the garage press at the garage runtime", 30_000);
    // Mosquitto delivered the kitchen press to the garage runtime too, before the garage press
    // (both reach it on its one subscription): dropped there, it holds no key for that device.
    sims.kitchen.press(0);
    await until(() => pushesOf("kitchen", sims.kitchen.uuid).length > 1, "the second kitchen press at the kitchen runtime", 30_000);
    sims.garage.press(0);
    await until(() => pushesOf("garage", sims.garage.uuid).length > 1, "the second garage press at the garage runtime", 30_000);
    assert.deepEqual(
      debugEntries(reds.garage, "pushed").filter((e) => e.includes(sims.kitchen.uuid)),
      [],
      "the garage runtime never reported the kitchen device",
    );
    assert.deepEqual(
      debugEntries(reds.kitchen, "pushed").filter((e) => e.includes(sims.garage.uuid)),
      [],
      "the kitchen runtime never reported the garage device",
    );
  });
});
