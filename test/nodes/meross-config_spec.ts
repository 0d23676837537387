import assert from "node:assert/strict";
import sinon from "sinon";
import http from "node:http";
import type { AddressInfo } from "node:net";
import configNodeModule = require("../../src/nodes/meross-config");
import toggleNode = require("../../src/nodes/meross-toggle");
import brokerModule = require("../../src/nodes/meross-broker");
import { brokerNode, brokerPort, getBroker, pointAt, statuses, waitListening } from "./broker-helpers";
import type { RequestEvent, SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, configNode, waitFor, onTab, useRuntime, CATCH_NODES, nextMessage } from "./helpers";

describe("meross-config node", function () {
  let sim: SimulatedDevice | undefined;

  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function load(key = KEY, processingMs = 0) {
    sim = await startDevice({ model: "msl120", quirks: { processingMs } });
    const flow = onTab([configNode("c1", sim.address)], [{ id: "t1", type: "meross-toggle", device: "c1", channel: "0", wires: [[]] }]);
    await helper.load([configNodeModule, toggleNode], flow, { c1: { key } });
    return sim;
  }

  it("reads the device once when its first user starts and shares one session", async () => {
    const s = await load();
    const cfg = helper.getNode("c1") as unknown as { device: { info?: { uuid: string } } };
    await waitFor(() => cfg.device.info !== undefined, 5000, "the session to read the device");
    assert.equal(cfg.device.info?.uuid, s.uuid);
    const after = s.requestCount;
    assert.equal(after, 2, "System.All and System.Ability, once");
  });

  it("keeps its users in node.users, so Node-RED hands its errors to the Catch nodes of its users' tabs", async () => {
    sim = await startDevice({ model: "msl120" });
    const flow = onTab(
      [configNode("c1", sim.address)],
      [{ id: "t1", type: "meross-toggle", device: "c1", channel: "0", wires: [[]] }, ...CATCH_NODES],
    );
    await helper.load([configNodeModule, toggleNode], flow, { c1: { key: KEY } });
    const cfg = helper.getNode("c1") as unknown as { users: Record<string, unknown>; error(text: string, msg: object): void };
    assert.deepEqual(Object.keys(cfg.users), ["t1"]);
    const caught = nextMessage<{ error: { message: string } }>(helper.getNode("caught"));
    cfg.error("config trouble", {});
    assert.equal((await caught).error.message, "config trouble");
  });

  it("as 10-mqtt.js: a user redeployed (close without removed) leaves the link running; the last one deleted idles it", async () => {
    await load();
    const cfg = helper.getNode("c1") as unknown as { users: Record<string, unknown>; link: { idle(): void } };
    const idle = sinon.spy(cfg.link, "idle");
    const t1 = helper.getNode("t1") as unknown as { close(removed: boolean): Promise<void> };
    await t1.close(false);
    assert.equal(idle.callCount, 0, "a redeployed user comes straight back: no reason to stop");
    assert.deepEqual(Object.keys(cfg.users), []);
    const c = cfg as unknown as { register(n: unknown): void; deregister(n: unknown, done: () => void, removed: boolean): void };
    c.register(t1);
    await new Promise<void>((resolve) => c.deregister(t1, resolve, true));
    assert.equal(idle.callCount, 1, "the last user deleted: the link stops retrying");
  });

  it("keeps the key a credential, never a node property", async () => {
    await load();
    const cfg = helper.getNode("c1") as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(cfg)) {
      if (k === "credentials") continue;
      assert.ok(typeof v !== "string" || !v.includes(KEY), `property ${k} holds the key`);
    }
  });

  it("GET /meross-config/:id/info describes a deployed device without its key", async () => {
    const s = await load();
    const res = await helper.request().get("/meross-config/c1/info").expect(200);
    assert.equal(res.body.uuid, s.uuid);
    assert.equal(res.body.model, s.model.type);
    assert.equal(res.body.mac, s.mac);
    assert.equal(res.body.firmware, s.model.firmwareVersion);
    assert.equal(res.body.abilities.onOff, "ToggleX");
    assert.equal(res.body.abilities.colour, true);
    assert.ok(!res.text.includes(KEY));
    await helper.request().get("/meross-config/nope/info").expect(404);
  });

  it("Read device says what the device is: a thermostat, a garage door opener, a hub, not 'On/off: none'", async () => {
    await load();
    const kinds: Record<string, RegExp> = {
      mts200b: /^thermostat$/,
      msg100: /^garage door opener$/,
      msh300: /^hub/,
      mss310: /^plug or switch with energy metering$/,
      msl100: /^light \(white/,
    };
    const others: SimulatedDevice[] = [];
    try {
      for (const [model, kind] of Object.entries(kinds)) {
        const d = await startDevice({ model });
        others.push(d);
        const res = await helper.request().post("/meross-config/probe").send({ host: d.address, key: KEY }).expect(200);
        assert.match(res.body.kind, kind, `${model}: ${res.body.kind}`);
        if (model === "mts200b") assert.equal(res.body.abilities.light, null);
      }
    } finally {
      for (const d of others) await d.stop();
    }
  });

  it("POST /meross-config/probe reads a device with a typed key", async () => {
    const s = await load();
    const res = await helper.request().post("/meross-config/probe").send({ host: s.address, key: KEY }).expect(200);
    assert.equal(res.body.uuid, s.uuid);
    assert.equal(res.body.firmware, s.model.firmwareVersion);
    assert.ok(!res.text.includes(KEY));
  });

  it("POST /meross-config/probe uses the deployed config's key when the key field is blank or untouched", async () => {
    const s = await load();
    for (const key of ["", "__PWRD__", undefined]) {
      const res = await helper.request().post("/meross-config/probe").send({ host: s.address, key, id: "c1" }).expect(200);
      assert.equal(res.body.uuid, s.uuid);
      assert.ok(!res.text.includes(KEY));
    }
  });

  it("POST /meross-config/probe explains a wrong key and a missing host", async () => {
    const s = await load();
    const res = await helper.request().post("/meross-config/probe").send({ host: s.address, key: "wrong-key-999" }).expect(502);
    assert.equal(res.body.error.code, "WRONG_KEY");
    assert.match(res.body.error.message, /key is wrong/);
    assert.ok(!res.text.includes("wrong-key-999"));
    const none = await helper.request().post("/meross-config/probe").send({}).expect(400);
    assert.equal(none.body.error.code, "BAD_INPUT");
  });

  it("shows a red ring on its users when the device rejects the key", async () => {
    // A slow device, so the status hook below is in place before the first reply arrives.
    await load("bad-key-bad-key", 150);
    const t1 = helper.getNode("t1");
    const seen: Array<{ fill?: string; text?: string }> = [];
    const orig = t1.status.bind(t1);
    t1.status = ((st: { fill?: string; text?: string }) => {
      seen.push(st);
      orig(st as never);
    }) as typeof t1.status;
    await waitFor(() => seen.some((st) => st.fill === "red" && st.text === "dev · wrong key"), 5000, "a red 'wrong key' status");
  });

  for (const c of [
    {
      what: "no address yet (an example before it is filled in)",
      extra: { host: "" },
      status: "no address or key yet",
      text: /enter its IP address and key/,
    },
    {
      what: "a deleted broker under Transport auto",
      extra: { host: "127.0.0.1:1", transport: "auto", broker: "deleted-broker" },
      status: "broker configuration missing: pick one",
      text: /needs an MQTT broker and this device has none/,
    },
  ]) {
    it(`says what to fix in the configuration for ${c.what}, not "invalid input", and a click keeps saying it`, async () => {
      const flow = onTab(
        [configNode("c1", "", { name: "Example plug", ...c.extra })],
        [{ id: "t1", type: "meross-toggle", device: "c1", channel: "0", wires: [[]] }, ...CATCH_NODES],
      );
      await helper.load([configNodeModule, toggleNode], flow, { c1: { key: "" } });
      const t1 = helper.getNode("t1");
      const seen = statuses(t1);
      const caught = nextMessage<{ error: { code: string; message: string } }>(helper.getNode("caught"));
      t1.receive({ payload: "on" });
      const { error } = await caught;
      assert.equal(error.code, "BAD_CONFIG");
      assert.match(error.message, c.text);
      assert.deepEqual(seen[seen.length - 1], { fill: "red", shape: "ring", text: `Example plug · ${c.status}` });
    });
  }

  it("POST /meross-config/probe accepts only a device host or host:port and says so otherwise", async () => {
    const s = await load();
    // The toggle's session reads the device first; after that, only probes could reach it.
    await (helper.getNode("c1") as unknown as { getDevice(): Promise<unknown> }).getDevice();
    const before = s.requestCount;
    const refused = [
      `http://${s.address}`,
      `${s.address}/config`,
      `user:pass@${s.address}`,
      `//${s.address}`,
      "127.0.0.1:0",
      "127.0.0.1:65536",
      "127.0.0.1:80:80",
      "::1",
      "[::1",
      "[not-an-ip]:80",
      "999.1.1.1",
      "host name",
      `${s.address}?x=1`,
      "file:///etc/passwd",
    ];
    for (const host of refused) {
      const res = await helper.request().post("/meross-config/probe").send({ host, key: KEY }).expect(400);
      assert.equal(res.body.error.code, "BAD_INPUT", host);
      assert.match(res.body.error.message, /not a device address\. Enter only the device's IP address or host name/, host);
    }
    assert.equal(s.requestCount, before, "nothing was sent for a refused address");
    const byName = await helper
      .request()
      .post("/meross-config/probe")
      .send({ host: `localhost:${s.port}`, key: KEY })
      .expect(200);
    assert.equal(byName.body.uuid, s.uuid);
    // An IPv6 address in brackets is a device address: it is tried (nothing answers there), not refused.
    const v6 = await helper.request().post("/meross-config/probe").send({ host: "[::1]:1", key: KEY });
    assert.notEqual(v6.body.error?.code, "BAD_INPUT");
  });

  it("POST /meross-config/probe signs only with the key of the config being edited", async () => {
    sim = await startDevice({ model: "mss310" });
    const OTHER = "other-node-key-7777";
    const configs = [configNode("c1", sim.address), configNode("c2", sim.address)];
    const flow = onTab(configs, [{ id: "t1", type: "meross-toggle", device: "c1", wires: [[]] }]);
    await helper.load([configNodeModule, toggleNode], flow, { c1: { key: KEY }, c2: { key: OTHER } });
    const host = sim.address;
    // c2's stored key is wrong for this device: editing c2 must not borrow c1's working key.
    const asC2 = await helper.request().post("/meross-config/probe").send({ host, key: "__PWRD__", id: "c2" }).expect(502);
    assert.equal(asC2.body.error.code, "WRONG_KEY");
    assert.ok(!asC2.text.includes(OTHER) && !asC2.text.includes(KEY));
    // A key typed in the dialog is the one used, even when the node's stored key would work.
    const typed = await helper.request().post("/meross-config/probe").send({ host, key: "typed-in-dialog-1", id: "c1" }).expect(502);
    assert.equal(typed.body.error.code, "WRONG_KEY");
    // An id that is not a meross-config lends no key.
    const notConfig = await helper.request().post("/meross-config/probe").send({ host, id: "t1" }).expect(502);
    assert.equal(notConfig.body.error.code, "WRONG_KEY");
    const asC1 = await helper.request().post("/meross-config/probe").send({ host, id: "c1" }).expect(200);
    assert.equal(asC1.body.uuid, sim.uuid);
  });

  it("Read device goes through the broker with Transport auto while the device is connected to it, over HTTP otherwise", async () => {
    sim = await startDevice({ model: "mss310", mqttReconnectMs: 50 });
    const dead = await startDevice({ model: "mss310" });
    const nowhere = dead.address; // an address where nothing answers: HTTP cannot be what worked
    await dead.stop();
    const flow = onTab([brokerNode(), configNode("c1", nowhere, { broker: "b1", transport: "auto", uuid: sim.uuid })], []);
    await helper.load([brokerModule, configNodeModule], flow, { c1: { key: KEY } });
    await pointAt(sim, await brokerPort());
    await waitListening(sim);
    const seen: RequestEvent[] = [];
    sim.on("request", (r: RequestEvent) => seen.push(r));
    const body = { host: nowhere, id: "c1", broker: "b1", uuid: sim.uuid };
    const auto = await helper
      .request()
      .post("/meross-config/probe")
      .send({ ...body, transport: "auto" })
      .expect(200);
    assert.equal(auto.body.uuid, sim.uuid);
    assert.equal(auto.body.via, "mqtt");
    assert.ok(seen.length > 0 && seen.every((r) => r.via === "mqtt"), "the device was read over MQTT");
    const mqttNoHost = await helper
      .request()
      .post("/meross-config/probe")
      .send({ ...body, host: "", transport: "mqtt" })
      .expect(200);
    assert.equal(mqttNoHost.body.via, "mqtt", "Transport MQTT needs no address");
    const http = await helper
      .request()
      .post("/meross-config/probe")
      .send({ ...body, transport: "http" })
      .expect(502);
    assert.equal(http.body.error.code, "UNREACHABLE", "Transport HTTP still reads the address");
    const other = await helper
      .request()
      .post("/meross-config/probe")
      .send({ ...body, uuid: "0".repeat(32), transport: "auto" })
      .expect(502);
    assert.equal(other.body.error.code, "UNREACHABLE", "auto falls back to HTTP for a device not on the broker");
    assert.ok(!JSON.stringify([auto.body, http.body]).includes(KEY));
  });

  it("POST /meross-config/probe sends a stored key only to its own address, never off the LAN, and answers alike for anything else", async () => {
    const s = await load();
    // The same device under another name: the stored key does not go there, a typed one does.
    const other = `localhost:${s.port}`;
    const moved = await helper.request().post("/meross-config/probe").send({ host: other, key: "__PWRD__", id: "c1" }).expect(400);
    assert.match(moved.body.error.message, /only sent to the device it was deployed with/);
    const typed = await helper.request().post("/meross-config/probe").send({ host: other, key: KEY, id: "c1" }).expect(200);
    assert.equal(typed.body.uuid, s.uuid);
    for (const host of ["169.254.169.254", "169.254.169.254:80", "8.8.8.8:80", "[fe80::1]:80"]) {
      const res = await helper.request().post("/meross-config/probe").send({ host, key: KEY }).expect(400);
      assert.match(res.body.error.message, /not an address on your local network/, host);
    }
    // A closed port and a web server that is not a device get the same sentence.
    const web = http.createServer((_req, res) => res.writeHead(404, { "content-type": "text/html" }).end("<h1>admin</h1>"));
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    try {
      const texts: string[] = [];
      for (const port of [(web.address() as AddressInfo).port, closedPort]) {
        const res = await helper
          .request()
          .post("/meross-config/probe")
          .send({ host: `127.0.0.1:${port}`, key: KEY })
          .expect(502);
        texts.push(String(res.body.error.code) + res.body.error.message.replace(String(port), "PORT"));
      }
      assert.equal(texts[0], texts[1]);
      assert.match(texts[0], /No Meross device answered at 127\.0\.0\.1:PORT/);
    } finally {
      web.closeAllConnections();
      await new Promise((r) => web.close(r));
    }
  });

  it("leaves no listener behind on the broker or the session when its nodes close", async () => {
    sim = await startDevice({ model: "mss310" });
    // The broker node follows its own fleet (its status); only what the config adds must go.
    await helper.load([brokerModule], onTab([brokerNode()], []), {});
    const own = getBroker().events as unknown as { listenerCount(name: string): number };
    const baseline = new Map(["device", "gone", "running"].map((n) => [n, own.listenerCount(n)]));
    await helper.unload();
    const flow = onTab(
      [brokerNode(), configNode("c1", sim.address, { broker: "b1", transport: "auto", uuid: sim.uuid })],
      [{ id: "t1", type: "meross-toggle", device: "c1", channel: "0", wires: [[]] }],
    );
    await helper.load([brokerModule, configNodeModule, toggleNode], flow, { c1: { key: KEY } });
    type Closable = { close(removed: boolean): Promise<void> };
    const cfg = helper.getNode("c1") as unknown as Closable & { link: { events: { listenerCount(): number } } };
    const events = getBroker().events as unknown as { listenerCount(name: string): number };
    // Its own device's presence is followed by uuid (Fleet.watchDevice), the broker's restarts by everyone.
    const fleet = getBroker().fleet as unknown as { watcherCount(uuid?: string): number };
    const names = ["device", "gone", "running"];
    assert.ok(cfg.link.events.listenerCount() > 0, "the toggle follows the session");
    assert.ok(events.listenerCount("running") > (baseline.get("running") ?? 0), "the config follows the broker");
    assert.ok(fleet.watcherCount(sim.uuid) > 0, "and its device's presence");
    await (helper.getNode("t1") as unknown as Closable).close(false);
    assert.equal(cfg.link.events.listenerCount(), 0);
    await cfg.close(false);
    for (const n of names) assert.equal(events.listenerCount(n), baseline.get(n), `a "${n}" listener was left on the broker`);
    assert.equal(fleet.watcherCount(), 0, "no presence watcher was left on the broker");
  });
});
