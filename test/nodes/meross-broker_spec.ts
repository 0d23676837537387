import assert from "node:assert/strict";
import { inspect } from "node:util";
import brokerModule = require("../../src/nodes/meross-broker");
import configModule = require("../../src/nodes/meross-config");
import toggleModule = require("../../src/nodes/meross-toggle");
import { MerossBroker } from "../../src/core/broker/broker";
import { loadOrCreateCertificates } from "../../src/core/broker/certs";
import type { RequestEvent, SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, nextMessage, configNode, waitFor, onTab, CATCH_NODES, useRuntime } from "./helpers";
import { USER_DIR, brokerNode, brokerPort, getBroker, pointAt, statuses, waitListening } from "./broker-helpers";
import * as path from "node:path";

const OTHER_KEY = "another-device-key-0099";
const BROKER_PASSWORD = "broker-pass-never-shown-31";

describe("meross-broker node", function () {
  const sims: SimulatedDevice[] = [];
  let core: MerossBroker | undefined;

  useRuntime(async () => {
    for (const s of sims.splice(0)) await s.stop();
    await core?.stop();
    core = undefined;
  });

  async function device(model = "mss310", key = KEY): Promise<SimulatedDevice> {
    const s = await startDevice({ model, key, mqttReconnectMs: 50 });
    sims.push(s);
    return s;
  }

  function viaLog(sim: SimulatedDevice): RequestEvent[] {
    const seen: RequestEvent[] = [];
    sim.on("request", (r: RequestEvent) => seen.push(r));
    return seen;
  }

  it("starts an embedded TLS broker, accepts a device with a known key and lists it on the admin endpoint", async () => {
    const sim = await device("msl120");
    await helper.load(
      [brokerModule, configModule],
      onTab([brokerNode(), configNode("c1", sim.address, { broker: "b1", transport: "http" })], []),
      { c1: { key: KEY } },
    );
    const b = getBroker();
    const st = statuses(b);
    const port = await brokerPort();
    assert.ok(port > 0);
    await pointAt(sim, port);
    await waitListening(sim);
    await waitFor(() => b.devices().some((d) => d.uuid === sim.uuid && d.model === sim.model.type), 5000, "the Bind to tell the model");
    const res = await helper.request().get("/meross-broker/b1/devices").expect(200);
    const listed = (res.body as Array<{ uuid: string; model: string; ip: string; listening: boolean }>).find((d) => d.uuid === sim.uuid);
    assert.ok(listed, "the device is listed");
    assert.equal(listed.ip, "127.0.0.1");
    assert.equal(listed.model, sim.model.type);
    assert.equal(listed.listening, true);
    assert.ok(
      st.some((s) => s.text === "1 device"),
      "the status counts the device",
    );
    assert.ok(!res.text.includes(KEY));
    await helper.request().get("/meross-broker/nope/devices").expect(404);
  });

  it("keeps its certificates in Node-RED's user directory", async () => {
    await helper.load([brokerModule], onTab([brokerNode("keepcerts")], []));
    await brokerPort("keepcerts");
    const again = loadOrCreateCertificates(path.join(USER_DIR, "meross-broker", "keepcerts"), "127.0.0.1");
    assert.equal(again.created, false, "the broker's certificates were already there");
  });

  it("refuses a device whose password does not match any known key", async () => {
    const good = await device("mss310");
    const bad = await device("mss310", OTHER_KEY);
    await helper.load([brokerModule, configModule], onTab([brokerNode(), configNode("c1", good.address, { broker: "b1" })], []), {
      c1: { key: KEY },
    });
    const port = await brokerPort();
    await pointAt(bad, port, OTHER_KEY);
    await pointAt(good, port);
    await waitListening(good);
    await waitFor(() => bad.mqttState === "refused", 10_000, "the broker to refuse the wrong key");
    assert.ok(
      !getBroker()
        .devices()
        .some((d) => d.uuid === bad.uuid),
    );
  });

  it("refuses a device set up with the empty key, saying why in the log, the status and the refused list", async () => {
    const keyless = await device("mss310", "");
    await helper.load([brokerModule], onTab([brokerNode()], []));
    const st = statuses(getBroker());
    await pointAt(keyless, await brokerPort(), "");
    await waitFor(() => keyless.mqttState === "refused", 10_000, "the broker to refuse the empty key");
    assert.ok(
      !getBroker()
        .devices()
        .some((d) => d.uuid === keyless.uuid),
    );
    await waitFor(() => st.some((x) => / refused$/.test(x.text ?? "")), 5000, "the refusal counted in the status");
    const logged = JSON.stringify(helper.log().args);
    assert.match(logged, /empty key, which anyone can compute/);
    const res = await helper.request().get("/meross-broker/b1/refused").expect(200);
    const body = res.body as { count: number; recent: Array<{ uuid?: string; reason: string }> };
    assert.ok(body.count >= 1);
    assert.ok(body.recent.some((r) => r.uuid === keyless.uuid && /turn on "accept devices with no key"/.test(r.reason)));
  });

  it("accepts a device with the empty key when 'accept devices with no key' is on", async () => {
    const keyless = await device("mss310", "");
    await helper.load([brokerModule], onTab([brokerNode("b1", { acceptEmptyKey: true })], []));
    await pointAt(keyless, await brokerPort(), "");
    await waitListening(keyless);
  });

  it("an existing broker URL with user:password@ is refused, pointing to the Password field, without echoing it", async () => {
    await helper.load(
      [brokerModule],
      onTab([{ id: "x1", type: "meross-broker", mode: "existing", url: "mqtts://nodered:pw-in-url-77@127.0.0.1:8883" }], []),
    );
    await assert.rejects(
      getBroker("x1").connection(),
      (err: Error & { code?: string }) =>
        err.code === "BAD_INPUT" && /Password field/.test(err.message) && !err.message.includes("pw-in-url-77"),
    );
    assert.ok(!JSON.stringify(helper.log().args).includes("pw-in-url-77"));
    // Nor does the runtime keep it: not in the node, its fleet, or the settings the fleet reads.
    // (Node-RED's own copy of the flow, node._flow, holds what the editor sent: the dialog strips it there.)
    const node = helper.getNode("x1") as unknown as Record<string, unknown>;
    const own = Object.fromEntries(
      Object.getOwnPropertyNames(node)
        .filter((k) => k !== "_flow")
        .map((k) => [k, node[k]]),
    );
    const seen = inspect(own, { showHidden: true, depth: 6 });
    const at = seen.indexOf("pw-in-url-77");
    assert.ok(at < 0, seen.slice(Math.max(0, at - 600), at + 50));
    assert.equal((helper.getNode("x1") as unknown as { url?: string }).url ?? "mqtts://127.0.0.1:8883", "mqtts://127.0.0.1:8883");
  });

  it("lets two devices with different keys coexist on one broker", async () => {
    const a = await device("mss310");
    const b = await device("mss310", OTHER_KEY);
    const flow = onTab(
      [
        brokerNode(),
        configNode("ca", a.address, { broker: "b1", transport: "mqtt" }),
        configNode("cb", b.address, { broker: "b1", transport: "mqtt" }),
      ],
      [
        { id: "ta", type: "meross-toggle", device: "ca", channel: "0", wires: [["out"]] },
        { id: "tb", type: "meross-toggle", device: "cb", channel: "0", wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load([brokerModule, configModule, toggleModule], flow, { ca: { key: KEY }, cb: { key: OTHER_KEY } });
    const port = await brokerPort();
    await pointAt(a, port);
    await pointAt(b, port, OTHER_KEY);
    await waitListening(a);
    await waitListening(b);
    const vias = [viaLog(a), viaLog(b)];
    for (const [id, sim] of [
      ["ta", a],
      ["tb", b],
    ] as const) {
      const got = nextMessage(helper.getNode("out"));
      helper.getNode(id).receive({ payload: "on" });
      assert.equal((await got).payload, true);
      assert.equal(sim.state.channels[0].on, true);
    }
    assert.ok(vias.every((v) => v.some((r) => r.namespace === "Appliance.Control.ToggleX" && r.method === "SET" && r.via === "mqtt")));
  });

  it("meross-config on transport mqtt controls the device over the broker and shows the path", async () => {
    const sim = await device("mss310");
    const flow = onTab(
      [brokerNode(), configNode("c1", sim.address, { broker: "b1", transport: "mqtt" })],
      [
        { id: "t1", type: "meross-toggle", device: "c1", channel: "0", wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load([brokerModule, configModule, toggleModule], flow, { c1: { key: KEY } });
    await pointAt(sim, await brokerPort());
    await waitListening(sim);
    const seen = viaLog(sim);
    const got = nextMessage(helper.getNode("out"));
    helper.getNode("t1").receive({ payload: "on" });
    const msg = await got;
    assert.equal(msg.payload, true);
    assert.equal(sim.state.channels[0].on, true);
    assert.ok(
      seen.some((r) => r.method === "SET" && r.namespace === "Appliance.Control.ToggleX" && r.via === "mqtt"),
      "the SET came over MQTT",
    );
    assert.ok(!seen.some((r) => r.method === "SET" && r.via === "http"));
    const cfg = helper.getNode("c1") as unknown as { path(): string };
    assert.equal(cfg.path(), "mqtt");
    // The session status (shown before the node's own state) names the path.
    const res = await helper.request().get("/meross-config/c1/info").expect(200);
    assert.equal(res.body.path, "mqtt");
    assert.equal(res.body.transport, "mqtt");
  });

  it("meross-config on mqtt learns the uuid over HTTP when it is left blank, then uses MQTT", async () => {
    const sim = await device("mss310");
    const flow = onTab(
      [brokerNode(), configNode("c1", sim.address, { broker: "b1", transport: "mqtt", uuid: "" })],
      [
        { id: "t1", type: "meross-toggle", device: "c1", channel: "0", wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load([brokerModule, configModule, toggleModule], flow, { c1: { key: KEY } });
    await pointAt(sim, await brokerPort());
    await waitListening(sim);
    const seen = viaLog(sim);
    const got = nextMessage(helper.getNode("out"));
    helper.getNode("t1").receive({ payload: "toggle" });
    assert.equal((await got).payload, true);
    assert.ok(seen.some((r) => r.method === "SET" && r.via === "mqtt"));
    assert.equal((helper.getNode("c1") as unknown as { uuid(): string }).uuid(), sim.uuid);
  });

  it("auto uses MQTT while the device listens, and HTTP once the broker is stopped", async () => {
    const sim = await device("mss310");
    const flow = onTab(
      [brokerNode(), configNode("c1", sim.address, { broker: "b1", transport: "auto", uuid: "" })],
      [{ id: "t1", type: "meross-toggle", device: "c1", channel: "0", wires: [["out"]] }, { id: "out", type: "helper" }, ...CATCH_NODES],
    );
    await helper.load([brokerModule, configModule, toggleModule], flow, { c1: { key: KEY } });
    await pointAt(sim, await brokerPort());
    await waitListening(sim);
    const t1 = helper.getNode("t1");
    const out = helper.getNode("out");
    // The first read (System.All) learns the uuid; from then on the broker is used.
    let got = nextMessage(out);
    t1.receive({ payload: "status?" });
    await got;
    const seen = viaLog(sim);
    got = nextMessage(out);
    t1.receive({ payload: "on" });
    assert.equal((await got).payload, true);
    assert.ok(
      seen.some((r) => r.method === "SET" && r.via === "mqtt"),
      "auto picked MQTT",
    );

    // Removed (true): a close for a redeploy with unchanged settings hands the running broker over instead.
    await (getBroker() as unknown as { close(removed: boolean): Promise<void> }).close(true);
    seen.length = 0;
    got = nextMessage(out);
    t1.receive({ payload: "off" });
    assert.equal((await got).payload, false);
    assert.equal(sim.state.channels[0].on, false);
    assert.ok(
      seen.some((r) => r.method === "SET" && r.via === "http"),
      "auto fell back to HTTP",
    );
    assert.equal((helper.getNode("c1") as unknown as { path(): string }).path(), "http");
  });

  it("releases its port on close so a redeploy can listen there again", async () => {
    await helper.load([brokerModule], onTab([brokerNode()], []));
    const port = await brokerPort();
    await (getBroker() as unknown as { close(removed: boolean): Promise<void> }).close(true);
    const again = await MerossBroker.start({
      port,
      host: "127.0.0.1",
      certs: loadOrCreateCertificates(path.join(USER_DIR, "meross-broker", "b1"), "127.0.0.1"),
    });
    assert.equal(again.port, port);
    await again.stop();
  });

  it("follows the device to the IP the broker sees it connect from", async () => {
    const sim = await device("mss310");
    const flow = onTab(
      [brokerNode(), configNode("c1", `localhost:${sim.port}`, { broker: "b1", transport: "http", uuid: sim.uuid })],
      [
        { id: "t1", type: "meross-toggle", device: "c1", channel: "0", wires: [["out"]] },
        { id: "out", type: "helper" },
      ],
    );
    await helper.load([brokerModule, configModule, toggleModule], flow, { c1: { key: KEY } });
    const cfg = helper.getNode("c1") as unknown as { currentAddress(): string; host: string };
    assert.equal(cfg.currentAddress(), `localhost:${sim.port}`);
    await pointAt(sim, await brokerPort());
    await waitListening(sim);
    await waitFor(() => cfg.currentAddress() === `127.0.0.1:${sim.port}`, 5000, "the HTTP address to follow the broker's view");
    assert.equal(cfg.host, `localhost:${sim.port}`, "the configured address is kept");
    const got = nextMessage(helper.getNode("out"));
    helper.getNode("t1").receive({ payload: "on" });
    assert.equal((await got).payload, true);
    const res = await helper.request().get("/meross-config/c1/info").expect(200);
    assert.equal(res.body.address, `127.0.0.1:${sim.port}`);
    assert.equal(res.body.followedIp, `127.0.0.1:${sim.port}`);
  });

  it("an existing broker: connects with a CA, user and password, answers the device's Bind and controls it, without showing the password", async () => {
    const certs = loadOrCreateCertificates(path.join(USER_DIR, "existing-core"), "127.0.0.1");
    core = await MerossBroker.start({
      port: 0,
      host: "127.0.0.1",
      certs,
      keys: [KEY],
      users: [{ username: "nodered", password: BROKER_PASSWORD }],
    });
    const sim = await device("mss310");
    const flow = onTab(
      [
        {
          id: "x1",
          type: "meross-broker",
          name: "mosquitto",
          mode: "existing",
          url: `mqtts://127.0.0.1:${core.port}`,
          ca: certs.caCert,
          username: "nodered",
        },
        configNode("c1", sim.address, { broker: "x1", transport: "mqtt", uuid: sim.uuid }),
      ],
      [{ id: "t1", type: "meross-toggle", device: "c1", channel: "0", wires: [["out"]] }, { id: "out", type: "helper" }, ...CATCH_NODES],
    );
    await helper.load([brokerModule, configModule, toggleModule], flow, { c1: { key: KEY }, x1: { password: BROKER_PASSWORD } });
    const x1 = getBroker("x1");
    const st = statuses(x1);
    const conn = await x1.connection();
    await conn.waitOnline();
    await pointAt(sim, core.port);
    await waitFor(() => x1.isListening(sim.uuid), 10_000, "the existing broker to see the device");
    assert.equal(x1.device(sim.uuid)?.ip, "127.0.0.1", "the Bind's innerIp");
    const seen = viaLog(sim);
    const got = nextMessage(helper.getNode("out"));
    helper.getNode("t1").receive({ payload: "on" });
    assert.equal((await got).payload, true);
    assert.ok(seen.some((r) => r.method === "SET" && r.via === "mqtt"));
    assert.equal((await x1.endpoint()).port, core.port);
    const everything = JSON.stringify({ st, logs: helper.log().args, node: Object.entries(x1).filter(([k]) => k !== "credentials") });
    assert.ok(!everything.includes(BROKER_PASSWORD), "the broker password never shows");
  });

  it("an existing broker with a wrong password shows a red status and no secret", async () => {
    const certs = loadOrCreateCertificates(path.join(USER_DIR, "existing-core"), "127.0.0.1");
    core = await MerossBroker.start({ port: 0, host: "127.0.0.1", certs, users: [{ username: "nodered", password: BROKER_PASSWORD }] });
    const flow = onTab(
      [{ id: "x1", type: "meross-broker", mode: "existing", url: `mqtts://127.0.0.1:${core.port}`, ca: certs.caCert, username: "nodered" }],
      [],
    );
    await helper.load([brokerModule], flow, { x1: { password: "wrong-password-4242" } });
    const x1 = getBroker("x1");
    const st = statuses(x1);
    const conn = await x1.connection();
    await assert.rejects(
      conn.waitOnline(),
      (err: Error & { code?: string }) => err.code === "UNREACHABLE" && !err.message.includes("wrong-password-4242"),
    );
    await waitFor(() => st.some((s) => s.fill === "red"), 5000, "a red status");
    assert.ok(!JSON.stringify(st).includes("wrong-password-4242"));
  });

  it("an existing broker with an unusable URL says what to enter", async () => {
    await helper.load([brokerModule], onTab([{ id: "x1", type: "meross-broker", mode: "existing", url: "http://nope" }], []));
    await assert.rejects(
      getBroker("x1").connection(),
      (err: Error & { code?: string }) => err.code === "BAD_INPUT" && /mqtts:\/\//.test(err.message),
    );
  });
});
