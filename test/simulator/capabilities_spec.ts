import assert from "node:assert/strict";
import { verifySign, type Envelope } from "../../src/core/protocol/message";
import { isObject } from "../../src/core/protocol/rules";
import { answeredNamespaces } from "../../src/simulator/capabilities/registry";
import { system } from "../../src/simulator/capabilities/system";
import { toggle, type ToggleSettings } from "../../src/simulator/capabilities/toggle";
import { getAck, setAck, type Capability, type CapabilitySpec, type SimContext } from "../../src/simulator/capabilities/types";
import { SimulatedDevice } from "../../src/simulator/device";
import { damageReply, FaultInjector } from "../../src/simulator/faults";
import { defineModel, listModels, MODELS } from "../../src/simulator/models";
import { send } from "./helpers";

/** A made-up device family, written the way the header of models.ts says to add one. */
class FanCapability implements Capability {
  private speed = 0;
  private reported = 0;
  constructor(private readonly ctx: SimContext) {}
  handle(req: { method: string; payload: Record<string, unknown> }) {
    if (req.method === "GET") return getAck({ fan: { speed: this.speed } });
    if (req.method !== "SET" || !isObject(req.payload.fan) || typeof req.payload.fan.speed !== "number") return undefined;
    this.speed = req.payload.fan.speed;
    this.ctx.changed();
    return setAck();
  }
  all() {
    return { digest: { fan: { speed: this.speed } } };
  }
  pushes() {
    if (this.speed === this.reported) return [];
    this.reported = this.speed;
    return [{ namespace: "Appliance.Control.Fan", payload: { fan: { speed: this.speed } } }];
  }
}
const fan = (): CapabilitySpec => ({ name: "fan", namespaces: ["Appliance.Control.Fan"], create: (ctx) => new FanCapability(ctx) });

describe("simulator: capabilities and the registry", () => {
  const devices: SimulatedDevice[] = [];
  async function start(opts: Parameters<typeof SimulatedDevice.start>[0]): Promise<SimulatedDevice> {
    const d = await SimulatedDevice.start(opts);
    devices.push(d);
    return d;
  }
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.stop()));
    delete MODELS.testfan;
  });

  it("composes exactly the ability namespaces its capabilities claim, and nothing else", async () => {
    const d = await start({ model: "msl120" });
    assert.deepEqual(
      new Set(d.namespaces),
      new Set(
        Object.keys(MODELS.msl120.ability).filter(
          (ns) =>
            // Listed by the msl120 trace but not simulated: the firmware answers them 5000 too.
            !["Appliance.Control.Bind", "Appliance.Control.Upgrade", "Appliance.System.Report"].includes(ns),
        ),
      ),
    );
    for (const m of listModels()) {
      for (const ns of answeredNamespaces(m).keys()) assert.ok(ns in m.ability, `${m.name} answers ${ns} only as its ability lists it`);
    }
  });

  it("answers ERROR 5000, signed with the key, for an unknown namespace and for one the model does not list", async () => {
    const plug = await start({ model: "mss310", key: "k1" });
    for (const ns of ["Appliance.Control.Thermostat.Mode", "Appliance.Control.Light", "Appliance.System.Report"]) {
      const r = await send(plug, ns, "GET", {});
      assert.equal(r.header.method, "ERROR", ns);
      assert.deepEqual(r.payload, { error: { code: 5000 } }, ns);
      assert.ok(verifySign(r.header, "k1"), ns);
    }
    const r = await send(plug, "Appliance.Control.ToggleX", "PUSH", {});
    assert.deepEqual(r.payload, { error: { code: 5000 } }, "a method the capability does not take is 5000 too");
  });

  it("refuses a model whose capabilities claim the same namespace twice", () => {
    const clash = defineModel({ ...MODELS.mss210, name: "clash", capabilities: [system(), toggle(), toggle({ legacy: true })] });
    assert.throws(() => answeredNamespaces(clash), /both toggle and toggle claim Appliance\.Control\.ToggleX/);
  });

  it("agrees with each model's ability list on the legacy toggle setting", () => {
    for (const m of listModels()) {
      const spec = m.capabilities.find((c) => c.name === "toggle");
      // Models with no relay (the em06 meter, the mrs100 shutter) list no on/off namespace: then no toggle capability either.
      const listsToggle = "Appliance.Control.ToggleX" in m.ability || "Appliance.Control.Toggle" in m.ability;
      assert.equal(!!spec, listsToggle, `${m.name} has a toggle capability exactly when its ability list has one`);
      if (!spec) continue;
      assert.equal((spec.settings as ToggleSettings).legacy === true, "Appliance.Control.Toggle" in m.ability, m.name);
    }
  });

  it("grows by a capability module and a model entry alone: a new family answers and reports in System.All", async () => {
    MODELS.testfan = defineModel({
      ...MODELS.mss425,
      name: "testfan",
      channels: 1,
      ability: { ...MODELS.mss425.ability, "Appliance.Control.Fan": {} },
      capabilities: [...MODELS.mss425.capabilities, fan()],
    });
    const d = await start({ model: "testfan", key: "fk" });
    assert.ok(d.namespaces.includes("Appliance.Control.Fan"));
    const changes: unknown[] = [];
    d.on("change", (s) => changes.push(s));
    const set = await send(d, "Appliance.Control.Fan", "SET", { fan: { speed: 3 } });
    assert.equal(set.header.method, "SETACK");
    assert.ok(verifySign(set.header, "fk"));
    assert.deepEqual((await send(d, "Appliance.Control.Fan", "GET", {})).payload, { fan: { speed: 3 } });
    const all = (await send(d, "Appliance.System.All", "GET", {})).payload.all as { digest: Record<string, unknown> };
    assert.deepEqual(all.digest.fan, { speed: 3 });
    assert.ok(Array.isArray(all.digest.togglex), "the other capabilities keep their digest parts");
    assert.equal(changes.length, 1);
  });

  it("signs every reply of every model with the current key, and Config.Key's SETACK with the new one even inside Multiple", async () => {
    for (const m of listModels()) {
      if (m.encrypted) continue;
      const d = await start({ model: m.name, key: `key-${m.name}` });
      for (const ns of ["Appliance.System.All", "Appliance.System.Ability", "Appliance.Config.Trace"]) {
        const r = await send(d, ns, "GET", {});
        assert.ok(verifySign(r.header, `key-${m.name}`), `${m.name} ${ns}`);
      }
    }
    const d = await start({ model: "msl120", key: "old" });
    const header = { messageId: "a".repeat(32), method: "SET", namespace: "Appliance.Config.Key" };
    const inner = [{ header, payload: { key: { key: "new" } } }];
    const r = await send(d, "Appliance.Control.Multiple", "SET", { multiple: inner });
    assert.equal(r.header.method, "SETACK");
    assert.ok(verifySign(r.header, "new"), "the Multiple reply is built after the re-key (docs/protocol.md §1.2)");
    assert.ok(verifySign((r.payload.multiple as Envelope[])[0].header, "new"));
    assert.equal(d.key, "new");
  });

  describe("faults", () => {
    it("counts a fault down and then clears it", () => {
      const f = new FaultInjector();
      f.set({ kind: "drop" }, { count: 2 });
      assert.deepEqual([f.take(), f.take(), f.take()], [{ kind: "drop" }, { kind: "drop" }, null]);
      f.set({ kind: "http500" });
      for (let i = 0; i < 5; i++) assert.deepEqual(f.take(), { kind: "http500" }, "without a count it stays until cleared");
      f.set(null);
      assert.equal(f.take(), null);
    });

    it("damages only replies it is meant to", () => {
      const text = JSON.stringify({ header: { messageId: "m" }, payload: {} });
      assert.equal(damageReply(text, null, "m"), text);
      assert.equal(damageReply(text, { kind: "delay", ms: 1 }, "m"), text);
      assert.ok(text.startsWith(damageReply(text, { kind: "truncate" }, "m")));
      assert.throws(() => JSON.parse(damageReply(text, { kind: "invalid-json" }, "m")));
    });
  });
});
