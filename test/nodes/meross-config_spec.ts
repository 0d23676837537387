import assert from "node:assert/strict";
import configNodeModule = require("../../src/nodes/meross-config");
import toggleNode = require("../../src/nodes/meross-toggle");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, configNode, waitFor, onTab, useRuntime } from "./helpers";

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
    t1.status = ((st: { fill?: string; text?: string }) => { seen.push(st); orig(st as never); }) as typeof t1.status;
    await waitFor(() => seen.some((st) => st.fill === "red" && st.text === "wrong key"), 5000, "a red 'wrong key' status");
  });
});
