import assert from "node:assert/strict";
import { TypedEvents } from "../../../src/core/events";
import { KeyRing } from "../../../src/core/fleet/keys";
import { PresenceRegistry } from "../../../src/core/fleet/presence";
import type { FleetEvents } from "../../../src/core/fleet/types";
import { firstLanAddress } from "../../../src/core/net";

describe("fleet registry: keys, presence and identity bindings", () => {
  describe("KeyRing", () => {
    it("lists every owner's keys once, including the empty key firmware accepts", () => {
      const ring = new KeyRing();
      ring.use("cfg-a", () => ["k1", "k2"]);
      ring.use("cfg-b", () => ["k2", ""]);
      assert.deepEqual(ring.all(), ["k1", "k2", ""]);
      assert.equal(ring.ownerOf("k2"), "cfg-a");
      assert.equal(ring.ownerOf(""), "cfg-b");
      assert.equal(ring.ownerOf("nope"), undefined);
    });

    it("withdraws only the source the unsubscribe belongs to, and a second call is harmless", () => {
      const ring = new KeyRing();
      const off1 = ring.use("cfg", () => ["old"]);
      const off2 = ring.use("cfg", () => ["new"]);
      off1();
      assert.deepEqual(ring.all(), ["new"], "a redeployed owner's new keys survive the old instance's close");
      off2();
      off2();
      assert.deepEqual(ring.all(), []);
      assert.equal(ring.owners, 0);
    });

    it("ignores an owner whose key source throws, keeping the others", () => {
      const ring = new KeyRing();
      ring.use("broken", () => {
        throw new Error("bug");
      });
      ring.use("fine", () => ["k"]);
      assert.deepEqual(ring.all(), ["k"]);
    });
  });

  describe("PresenceRegistry", () => {
    function registry() {
      const events = new TypedEvents<FleetEvents>();
      const seen: Array<[string, unknown]> = [];
      events.on("device", (p) => seen.push(["device", p]));
      events.on("gone", (g) => seen.push(["gone", g]));
      let t = 1000;
      return { reg: new PresenceRegistry(events, () => t++), seen };
    }

    it("reports a device when it appears or changes, not when nothing changed, unless it is a fresh session", () => {
      const { reg, seen } = registry();
      reg.upsert("u1", { ip: "10.0.0.2", listening: false });
      reg.upsert("u1", { ip: "10.0.0.2" });
      assert.equal(seen.length, 1);
      reg.upsert("u1", { listening: true });
      assert.equal(seen.length, 2);
      reg.upsert("u1", {}, true);
      assert.equal(seen.length, 3, "a Bind is reported even without a change");
      assert.deepEqual(reg.get("u1"), { uuid: "u1", ip: "10.0.0.2", listening: true, since: 1000 });
    });

    it("drops fields patched to undefined and hands out copies", () => {
      const { reg } = registry();
      reg.upsert("u1", { model: "mss310", listening: true });
      reg.upsert("u1", { model: undefined });
      const p = reg.get("u1");
      assert.ok(p && !("model" in p));
      (p as { ip?: string }).ip = "changed";
      assert.equal(reg.get("u1")?.ip, undefined);
    });

    it("reports gone once, replays the present ones, and forgets bindings on clear", () => {
      const { reg, seen } = registry();
      reg.upsert("u1", {});
      reg.upsert("u2", {});
      reg.bind("u1", { mac: "aa:bb:cc:dd:ee:ff", keyOwner: "cfg" });
      reg.bind("u1", { keyOwner: "other" });
      assert.deepEqual(reg.binding("u1"), { mac: "aa:bb:cc:dd:ee:ff", keyOwner: "other" });
      reg.drop("u2");
      reg.drop("u2");
      assert.deepEqual(
        seen.filter(([n]) => n === "gone"),
        [["gone", { uuid: "u2" }]],
      );
      seen.length = 0;
      reg.replay();
      assert.deepEqual(
        seen.map(([n, p]) => [n, (p as { uuid: string }).uuid]),
        [["device", "u1"]],
      );
      reg.clear(true);
      assert.equal(reg.size, 0);
      assert.equal(reg.binding("u1"), undefined);
      assert.deepEqual(seen.at(-1), ["gone", { uuid: "u1" }]);
    });
  });

  it("firstLanAddress gives an IPv4 address devices could dial", () => {
    assert.match(firstLanAddress(), /^\d{1,3}(\.\d{1,3}){3}$/);
  });
});
