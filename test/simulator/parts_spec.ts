import assert from "node:assert/strict";
import { createECDH, createHash } from "node:crypto";
import type { Envelope } from "../../src/core/protocol/message";
import { SimCrypto } from "../../src/simulator/crypto";
import { deviceStaticKey, sealMessage } from "../../src/simulator/lancrypt";
import { FirmwareQueue } from "../../src/simulator/server";
import { SimClock, SimSwitches, type SimSetup } from "../../src/simulator/state";

const UUID = "2308283569760958070148e1e9d7c243";
const MAC = "48:e1:e9:d7:c2:43";

function env(method: string, namespace: string): Envelope {
  return { header: { namespace, method, messageId: "", timestamp: 0, sign: "" }, payload: {} };
}

function setup(mode: "ap" | "normal", key = "k"): SimSetup {
  return { mode, key, userId: "1", networks: [] };
}

describe("simulator: parts", () => {
  describe("SimCrypto", () => {
    const request = JSON.stringify({ header: { namespace: "Appliance.System.All", method: "GET", messageId: "m" }, payload: {} });

    it("reads plaintext on a plain model and calls anything else malformed", () => {
      const c = new SimCrypto({ uuid: UUID, mac: MAC, setup: setup("normal") }, false);
      assert.equal(c.read(request).kind, "plain");
      assert.equal(c.read("not json").kind, "malformed");
      assert.equal(c.read(JSON.stringify({ header: { method: "GET" } })).kind, "malformed", "a header needs a namespace");
      assert.equal(c.refusesPlaintext(env("GET", "Appliance.System.All")), false);
    });

    it("opens ciphertext with the static key only in normal mode, and refuses plaintext other than the exempt ones", () => {
      const configured = new SimCrypto({ uuid: UUID, mac: MAC, setup: setup("normal") }, true);
      const sealed = sealMessage(request, deviceStaticKey(UUID, "k", MAC));
      const read = configured.read(sealed);
      assert.equal(read.kind, "encrypted");
      assert.equal(read.kind === "encrypted" && read.envelope.header.namespace, "Appliance.System.All");
      const pairing = new SimCrypto({ uuid: UUID, mac: MAC, setup: setup("ap") }, true);
      assert.equal(pairing.read(sealed).kind, "unreadable", "pairing mode needs the ECDHE exchange first (docs/protocol.md §4.3)");
      assert.equal(configured.refusesPlaintext(env("GET", "Appliance.System.All")), true);
      assert.equal(configured.refusesPlaintext(env("GET", "Appliance.System.Ability")), false);
      assert.equal(configured.refusesPlaintext(env("SET", "Appliance.Encrypt.ECDHE")), false);
    });

    it("forgets the ECDHE session key on a reboot", () => {
      const c = new SimCrypto({ uuid: UUID, mac: MAC, setup: setup("ap") }, true);
      assert.equal(c.exchange("not a point"), undefined);
      // The client half of docs/protocol.md §4.3 (b): session key = md5hex(shared x).
      const client = createECDH("prime256v1");
      client.generateKeys();
      const devicePub = c.exchange(client.getPublicKey().toString("base64"));
      assert.ok(devicePub);
      const sessionKey = createHash("md5")
        .update(client.computeSecret(Buffer.from(devicePub, "base64")))
        .digest("hex");
      const sealed = sealMessage(request, sessionKey);
      assert.equal(c.read(sealed).kind, "encrypted");
      c.forgetSession();
      assert.equal(c.read(sealed).kind, "unreadable");
    });
  });

  describe("FirmwareQueue", () => {
    it("runs one job at a time in arrival order, and stops taking jobs once the device stopped", async () => {
      let stopped = false;
      const q = new FirmwareQueue(true, () => stopped);
      const log: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      q.enqueue(async () => {
        log.push("a start");
        await gate;
        log.push("a end");
      });
      const done = new Promise<void>((resolve) =>
        q.enqueue(async () => {
          log.push("b");
          resolve();
        }),
      );
      await Promise.resolve();
      assert.deepEqual(log, ["a start"], "b waits for a");
      release();
      await done;
      assert.deepEqual(log, ["a start", "a end", "b"]);
      stopped = true;
      q.enqueue(async () => {
        log.push("c");
      });
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(log, ["a start", "a end", "b"]);
    });
  });

  describe("SimClock and SimSwitches", () => {
    it("counts from boot until set, then keeps the time it was given", () => {
      const clock = new SimClock(false);
      assert.ok(clock.seconds() < 5, "seconds since boot, like an out-of-the-box device (docs/protocol.md §1.1)");
      clock.set(1_700_000_000);
      assert.ok(clock.seconds() >= 1_700_000_000 && clock.seconds() < 1_700_000_005);
    });

    it("tells listeners about real changes only", () => {
      const sw = new SimSwitches(2, new SimClock(true));
      const seen: Array<{ channel: number; on: boolean }> = [];
      const off = sw.events.on("switch", (e) => seen.push(e));
      assert.equal(sw.set(1, true), true);
      assert.equal(sw.set(1, true), false, "already on");
      assert.equal(sw.set(5, true), false, "no such channel");
      off();
      sw.set(0, true);
      assert.deepEqual(seen, [{ channel: 1, on: true }]);
    });
  });
});
