import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { DEMO_FLEET } from "../../src/simulator/demo";
import { Fleet } from "../../src/simulator/fleet";
import { devicesRead, ROOT, startNodeRed, type NodeRed } from "./harness";

/**
 * Every example is listed by Node-RED under Import → Examples, imports (deploys) without
 * errors once its device addresses point at simulators, and together the examples use
 * every node type of the package except the config node.
 */
const SESSION_NAMESPACES = new Set(["Appliance.System.Time", "Appliance.System.Clock", "Appliance.Control.Bind"]);
const EXAMPLES = path.join(ROOT, "examples");

describe("examples", function () {
  this.timeout(90000);
  let fleet: Fleet;
  let red: NodeRed;

  before(async () => {
    fleet = await Fleet.start([
      { name: "bulb", model: "msl120", host: "127.0.0.1", port: 0, key: "" },
      { name: "fresh", model: "msl120", host: "127.0.0.1", port: 0, unconfigured: true },
    ]);
    red = await startNodeRed();
  });

  after(async () => {
    await red?.stop();
    await fleet?.stop();
  });

  const files = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith(".json"));
  type FlowNode = Record<string, unknown> & { id: string; type: string; wires?: string[][] };
  const load = (f: string): FlowNode[] => JSON.parse(fs.readFileSync(path.join(EXAMPLES, f), "utf8")) as FlowNode[];

  it("never fire on their own: no inject runs at deploy or on a repeat, a schedule passes only once a click enabled it", () => {
    for (const f of files) {
      const flow = load(f);
      const byId = new Map(flow.map((n) => [n.id, n]));
      for (const n of flow.filter((x) => x.type === "inject")) {
        assert.notEqual(n.once, true, `${f}: inject "${String(n.name)}" fires once at deploy`);
        assert.equal(String(n.repeat ?? ""), "", `${f}: inject "${String(n.name)}" repeats by itself every ${String(n.repeat)} s`);
        if (String(n.crontab ?? "") !== "") {
          // A cron inject must go through a switch on state that only a click sets (e.g. flow.scheduleEnabled).
          const targets = (n.wires ?? []).flat().map((id) => byId.get(id));
          for (const t of targets) {
            assert.ok(
              t?.type === "switch" && t.propertyType !== "msg",
              `${f}: scheduled inject "${String(n.name)}" is not gated by a click-set switch`,
            );
          }
        }
      }
    }
  });

  it("show the error sentence (msg.error.message), not msg.payload, in the debug fed by a catch node", () => {
    for (const f of files) {
      const flow = load(f);
      const fromCatch = new Set(flow.filter((n) => n.type === "catch").flatMap((n) => (n.wires ?? []).flat()));
      for (const n of flow.filter((x) => x.type === "debug" && fromCatch.has(x.id))) {
        assert.equal(n.complete, "error.message", `${f}: debug "${String(n.name)}" after a catch shows msg.${String(n.complete)}`);
      }
    }
  });

  it("use node ids no other example uses, so importing them all never asks which to keep", () => {
    const owner = new Map<string, string>();
    for (const f of files) {
      for (const n of load(f)) {
        assert.ok(!owner.has(n.id), `${f}: node id "${n.id}" is also in ${owner.get(n.id)}`);
        owner.set(n.id, f);
      }
    }
  });

  it("name their devices apart from the demo fleet's (the device picker would show both)", () => {
    const demoNames = new Set(DEMO_FLEET.map((d) => d.name));
    const seen = new Map<string, string>();
    for (const f of files) {
      for (const n of load(f).filter((x) => x.type === "meross-config")) {
        const name = String(n.name ?? "");
        assert.match(name, /^Example /, `${f}: device "${name}" does not say it is an example`);
        assert.ok(!demoNames.has(name), `${f}: device "${name}" has a demo device's name`);
        assert.ok(!seen.has(name), `${f}: device "${name}" is also in ${seen.get(name)}`);
        seen.set(name, f);
      }
    }
  });

  /** The `defaults` each of our editor files registers (run with a stub RED, as the editor would). */
  function editorDefaults(): Map<string, Record<string, { value: unknown }>> {
    const defs = new Map<string, Record<string, { value: unknown }>>();
    const dir = path.join(ROOT, "nodes");
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith(".html"))) {
      const html = fs.readFileSync(path.join(dir, f), "utf8");
      const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "";
      const RED = { nodes: { registerType: (t: string, d: { defaults: Record<string, { value: unknown }> }) => defs.set(t, d.defaults) } };
      vm.runInNewContext(script, { RED, $: () => ({}), window: { MerossEditor: {} } });
    }
    return defs;
  }

  it("carry every property their nodes' dialogs have, so no dropdown opens blank (Transport, Encryption, Mode)", () => {
    const defs = editorDefaults();
    assert.ok(defs.has("meross-config") && defs.has("meross-onboard"), `editor files not read: ${[...defs.keys()].join(", ")}`);
    for (const f of files) {
      for (const n of load(f)) {
        const d = defs.get(n.type);
        if (!d) continue;
        const missing = Object.keys(d).filter((k) => !(k in n));
        assert.deepEqual(missing, [], `${f}: ${n.type} "${String(n.name ?? n.id)}" lacks ${missing.join(", ")}`);
      }
    }
  });

  it("ship no device address, key or broker of their own: nothing is contacted until the user fills them in", () => {
    for (const f of files) {
      for (const n of load(f)) {
        assert.notEqual(n.type, "meross-broker", `${f}: brings its own broker (it would sit next to the user's, on 8883)`);
        if (n.type !== "meross-config") continue;
        assert.equal(n.host, "", `${f}: "${String(n.name)}" has the address ${String(n.host)}`);
        assert.equal(n.credentials, undefined, `${f}: "${String(n.name)}" carries credentials`);
        // Auto and MQTT need a broker the example does not have: HTTP until the user picks one (then the dialog offers Auto).
        assert.equal(n.transport, "http", `${f}: "${String(n.name)}" uses transport ${String(n.transport)} without a broker`);
      }
    }
  });

  it("are each listed in the README, one line by the name Import → Examples shows", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const listed = [...readme.matchAll(/^- `([a-z0-9-]+)`: \S/gm)].map((m) => m[1]);
    const names = files.map((f) => path.basename(f, ".json"));
    assert.deepEqual(
      names.filter((n) => !listed.includes(n)),
      [],
      "examples the README does not list",
    );
  });

  it("Raw requests' 'Power now' sends the namespace it names in msg.topic", () => {
    const power = load("raw-requests.json").find((n) => n.name === "Power now");
    assert.equal(power?.topic, "Appliance.Control.Electricity");
    const sent = (power?.props as Array<{ p: string }> | undefined)?.map((p) => p.p) ?? [];
    assert.ok(sent.includes("topic"), `the inject sends only ${sent.join(", ")}`);
  });

  it("include a motion sensor and door contact example made of core nodes and ours, in zigbee2mqtt's topic shape", () => {
    const flow = load("motion-light-and-door-plug.json");
    const core = new Set([
      "tab",
      "comment",
      "inject",
      "debug",
      "catch",
      "switch",
      "change",
      "function",
      "trigger",
      "mqtt in",
      "mqtt-broker",
    ]);
    const foreign = flow.filter((n) => !core.has(n.type) && !n.type.startsWith("meross-")).map((n) => n.type);
    assert.deepEqual(foreign, [], `not core and not ours: ${foreign.join(", ")}`);
    const topics = flow.filter((n) => n.type === "mqtt in").map((n) => n.topic);
    assert.deepEqual(topics, ["zigbee2mqtt/hall_motion", "zigbee2mqtt/front_door"]);
    const payloads = flow.filter((n) => n.type === "inject").map((n) => JSON.parse(String(n.payload)) as unknown);
    assert.deepEqual(payloads, [{ occupancy: true }, { contact: false }, { contact: true }]);
    const timer = flow.find((n) => n.type === "trigger");
    assert.ok(
      timer && timer.duration === "5" && timer.units === "min" && timer.extend === true && timer.op2 === "off",
      "no 5-minute off timer",
    );
  });

  it("use every non-config node type of the package", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { "node-red": { nodes: Record<string, string> } };
    const used = new Set(
      files.flatMap((f) => (JSON.parse(fs.readFileSync(path.join(EXAMPLES, f), "utf8")) as Array<{ type: string }>).map((n) => n.type)),
    );
    const configTypes = new Set(["meross-config", "meross-broker"]);
    const missing = Object.keys(pkg["node-red"].nodes).filter((t) => !configTypes.has(t) && !used.has(t));
    assert.deepEqual(missing, [], `node types with no example: ${missing.join(", ")}`);
  });

  it("are offered by Node-RED under Import → Examples (each file is fetched through the library API below)", async () => {
    const res = await red.get("/library/examples/flows/");
    assert.equal(res.status, 200);
    assert.ok((res.json() as string[]).includes("node-red-contrib-meross-local"), `the package is not listed: ${res.body}`);
  });

  for (const file of files) {
    it(`${file} deploys and runs against simulated devices`, async () => {
      const name = path.basename(file, ".json");
      const res = await red.get(`/library/examples/flows/node-red-contrib-meross-local/${encodeURIComponent(name)}`);
      assert.equal(res.status, 200, res.body);
      const flow = res.json() as Array<Record<string, unknown>>;
      const [bulb, fresh] = fleet.devices;
      // Point the example's placeholder addresses at the simulators: tests talk only to 127.0.0.1.
      for (const n of flow) {
        if (n.type === "meross-config") n.host = bulb.address;
        if (n.type === "meross-onboard") n.address = fresh.address;
        // An embedded broker in an example listens on 8883 on every interface; tests use a free port on loopback.
        if (n.type === "meross-broker") Object.assign(n, { port: "0", bindHost: "127.0.0.1", certHost: "127.0.0.1" });
      }
      const mark = red.log().length;
      await red.deploy(flow);
      await devicesRead(red, flow);
      const newLog = red.log().slice(mark);
      assert.doesNotMatch(newLog, /\[error\]|Unknown type|type not found|Waiting for missing types/i, newLog);
    });
  }

  it("deployed together, change no device by themselves while they start", async () => {
    const flows = files.flatMap((f) => load(f));
    const [bulb, fresh] = fleet.devices;
    for (const n of flows) {
      if (n.type === "meross-config") n.host = bulb.address;
      if (n.type === "meross-onboard") n.address = fresh.address;
      if (n.type === "meross-broker") Object.assign(n, { port: "0", bindHost: "127.0.0.1", certHost: "127.0.0.1" });
    }
    const commands: string[] = [];
    const onRequest = (r: { method: string; namespace: string }) => {
      // The broker's cloud role sets a (re)connecting device's clock (docs/protocol.md §5.4): bookkeeping, not a command.
      if (r.method !== "GET" && !SESSION_NAMESPACES.has(r.namespace)) commands.push(`${r.method} ${r.namespace}`);
    };
    for (const d of fleet.devices) d.on("request", onRequest);
    try {
      await red.deploy(flows);
      // Start-up is over once every device is read; what the nodes' timers do later (a start delay,
      // a sweep, polls) is tested on a fake clock in test/nodes/quiet-start_spec.ts.
      await devicesRead(red, flows);
    } finally {
      for (const d of fleet.devices) d.off("request", onRequest);
    }
    assert.deepEqual(commands, [], `the examples sent commands nobody clicked: ${commands.join(", ")}`);
  });
});
