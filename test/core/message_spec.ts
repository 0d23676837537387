import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MerossError } from "../../src/core/errors";
import {
  buildMessage,
  checkReply,
  computeSign,
  parseEnvelopeText,
  payloadKeyFor,
  verifySign,
  type Envelope,
} from "../../src/core/protocol/message";
import { mqttPassword, mqttUsername } from "../../src/core/onboarding/config";
import { isCode } from "../helpers/errors";

const vectors = JSON.parse(readFileSync(join(__dirname, "../fixtures/vectors.json"), "utf8"));
const HOST = "127.0.0.1";

function replyTo(req: Envelope, method: string, payload: Record<string, unknown>): Envelope {
  return {
    header: { ...req.header, method, from: "/appliance/x/publish", sign: computeSign(req.header.messageId, "k", req.header.timestamp) },
    payload,
  };
}

describe("message envelope (docs/protocol.md §1)", () => {
  describe("signature vectors of §8.1", () => {
    for (const [i, v] of (vectors.signatures as Array<Record<string, string | number>>).entries()) {
      it(`vector ${i + 1}: ${v.messageId} / key ${JSON.stringify(v.key)} / ts ${v.timestamp} → ${v.sign}`, () => {
        assert.equal(computeSign(String(v.messageId), String(v.key), v.timestamp), v.sign);
        assert.ok(verifySign({ messageId: String(v.messageId), timestamp: Number(v.timestamp), sign: String(v.sign) }, String(v.key)));
      });
    }

    it("a timestamp given as a string signs the same as the number", () => {
      const v = vectors.signatures[3];
      assert.equal(computeSign(v.messageId, v.key, String(v.timestamp)), v.sign);
    });

    it("a different key does not verify", () => {
      const v = vectors.signatures[0];
      assert.equal(verifySign({ messageId: v.messageId, timestamp: v.timestamp, sign: v.sign }, "other"), false);
    });
  });

  describe("MQTT password vectors of §8.2", () => {
    for (const v of vectors.mqttPasswords) {
      it(`${v.mac} + ${JSON.stringify(v.key)}, userId ${JSON.stringify(v.userId)} → ${v.password}`, () => {
        assert.equal(mqttPassword(v.mac, v.key, v.userId), v.password);
        assert.equal(mqttUsername(v.mac.toUpperCase()), v.mac);
      });
    }
  });

  describe("buildMessage", () => {
    it("builds a signed request that verifies with the same key, in epoch seconds", () => {
      const m = buildMessage({ method: "GET", namespace: "Appliance.System.All", key: "abc", payload: { all: {} } });
      assert.ok(verifySign(m.header, "abc"));
      assert.equal(verifySign(m.header, "abd"), false);
      assert.match(m.header.messageId, /^[0-9a-f]{32}$/);
      assert.ok(m.header.timestamp < 1e11, "timestamp must be seconds, not milliseconds");
      assert.equal(m.header.payloadVersion, 1);
      assert.ok(typeof m.header.from === "string" && m.header.from.length > 0);
      assert.deepEqual(m.payload, { all: {} });
    });

    it("reproduces vector 4 when given its messageId and timestamp", () => {
      const v = vectors.signatures[3];
      const m = buildMessage({
        method: "GET",
        namespace: "Appliance.System.All",
        key: v.key,
        messageId: v.messageId,
        timestamp: v.timestamp,
      });
      assert.equal(m.header.sign, v.sign);
    });

    it("never reuses a messageId", () => {
      const ids = new Set(
        Array.from({ length: 50 }, () => buildMessage({ method: "GET", namespace: "Appliance.System.All", key: "" }).header.messageId),
      );
      assert.equal(ids.size, 50);
    });
  });

  describe("checkReply", () => {
    const req = buildMessage({
      method: "SET",
      namespace: "Appliance.Control.ToggleX",
      key: "k",
      payload: { togglex: { channel: 0, onoff: 1 } },
    });

    it("returns a matching SETACK", () => {
      const rep = replyTo(req, "SETACK", {});
      assert.equal(checkReply(req, rep, HOST), rep);
    });

    it("ERROR 5001 is WRONG_KEY with a sentence about the key, the code in details, not in the sentence", () => {
      assert.throws(
        () => checkReply(req, replyTo(req, "ERROR", { error: { code: 5001, detail: "sign error" } }), HOST),
        (e: unknown) =>
          isCode("WRONG_KEY", /signed with a different key: the key is wrong/)(e) &&
          !/5001/.test((e as MerossError).message) &&
          (e as MerossError).details.deviceCode === 5001,
      );
    });

    it("ERROR 5000 is UNSUPPORTED naming the namespace", () => {
      assert.throws(
        () => checkReply(req, replyTo(req, "ERROR", { error: { code: 5000 } }), HOST),
        isCode("UNSUPPORTED", /Appliance\.Control\.ToggleX/),
      );
    });

    it("any other ERROR is DEVICE_ERROR saying the device refused the payload, the code in details", () => {
      assert.throws(
        () => checkReply(req, replyTo(req, "ERROR", { error: { code: 5061, detail: "x" } }), HOST),
        (e: unknown) =>
          isCode("DEVICE_ERROR", /refused SET Appliance\.Control\.ToggleX \(it said "x"\): it did not accept the payload/)(e) &&
          !/5061/.test((e as MerossError).message) &&
          (e as MerossError).details.deviceCode === 5061,
      );
    });

    it("an ERROR with garbage in place of the error object is still DEVICE_ERROR", () => {
      assert.throws(() => checkReply(req, replyTo(req, "ERROR", { error: "boom" }), HOST), isCode("DEVICE_ERROR"));
    });

    it("a reply with another messageId is BAD_RESPONSE", () => {
      const rep = replyTo(req, "SETACK", {});
      rep.header.messageId = "0".repeat(32);
      assert.throws(() => checkReply(req, rep, HOST), isCode("BAD_RESPONSE", /messageId/));
    });

    it("a GETACK to a SET is BAD_RESPONSE", () => {
      assert.throws(() => checkReply(req, replyTo(req, "GETACK", {}), HOST), isCode("BAD_RESPONSE", /SETACK/));
    });

    it("a hostile device's megabyte-long method or error detail is quoted in at most ~200 characters", () => {
      const long = "x".repeat(1_000_000);
      for (const rep of [replyTo(req, long, {}), replyTo(req, "ERROR", { error: { code: 5020, detail: long } })]) {
        assert.throws(
          () => checkReply(req, rep, HOST),
          (e: unknown) => e instanceof MerossError && e.message.length < 600 && /x{30}/.test(e.message),
        );
      }
    });

    describe("with the session's keys: the reply must be signed (docs/protocol.md §1.2)", () => {
      const keys = ["k"];
      const signedWith = (key: string, method = "SETACK", payload: Record<string, unknown> = {}): Envelope => {
        const rep = replyTo(req, method, payload);
        rep.header.timestamp = 1700000123;
        rep.header.sign = computeSign(rep.header.messageId, key, rep.header.timestamp);
        return rep;
      };

      it("a reply signed with the key is accepted, with its own timestamp", () => {
        const rep = signedWith("k");
        assert.equal(checkReply(req, rep, HOST, { keys }), rep);
        rep.header.sign = rep.header.sign.toUpperCase();
        assert.equal(checkReply(req, rep, HOST, { keys }), rep);
      });

      it("any of several keys verifies (Config.Key: the SETACK is signed with the new key)", () => {
        assert.ok(checkReply(req, signedWith("new-key"), HOST, { keys: ["k", "new-key"] }));
        assert.ok(checkReply(req, signedWith(""), HOST, { keys: ["", "k"] }));
      });

      it("a reply signed with another key is BAD_RESPONSE saying another device may be answering", () => {
        assert.throws(
          () => checkReply(req, signedWith("someone-else"), HOST, { keys }),
          isCode("BAD_RESPONSE", /not signed with this device's key.*another device may be answering at this address/),
        );
      });

      it("a reply without a sign, or with garbage as sign or timestamp, is BAD_RESPONSE (never a crash)", () => {
        const cases: Array<(h: Envelope["header"]) => void> = [
          (h) => delete (h as Partial<Envelope["header"]>).sign,
          (h) => (h.sign = ""),
          (h) => ((h as Record<string, unknown>).sign = { $gt: "" }),
          (h) => (h.sign = "z".repeat(100_000)),
          (h) => ((h as Record<string, unknown>).timestamp = { toString: null }),
          (h) => ((h as Record<string, unknown>).timestamp = undefined),
        ];
        for (const spoil of cases) {
          const rep = signedWith("k");
          spoil(rep.header);
          assert.throws(
            () => checkReply(req, rep, HOST, { keys }),
            (e: unknown) => isCode("BAD_RESPONSE", /not signed with this device's key/)(e) && (e as MerossError).message.length < 400,
          );
        }
      });

      it("a forged ERROR is BAD_RESPONSE too, but a 5001 stays WRONG_KEY: the device signs it with the key we lack", () => {
        assert.throws(() => checkReply(req, signedWith("x", "ERROR", { error: { code: 5000 } }), HOST, { keys }), isCode("BAD_RESPONSE"));
        assert.throws(() => checkReply(req, signedWith("k", "ERROR", { error: { code: 5000 } }), HOST, { keys }), isCode("UNSUPPORTED"));
        assert.throws(
          () => checkReply(req, signedWith("the-real-key", "ERROR", { error: { code: 5001, detail: "sign error" } }), HOST, { keys }),
          isCode("WRONG_KEY", /key is wrong/),
        );
      });

      it("the messageId is checked first: a signed reply to another request is still BAD_RESPONSE naming the messageId", () => {
        const rep = signedWith("k");
        rep.header.messageId = "0".repeat(32);
        rep.header.sign = computeSign(rep.header.messageId, "k", rep.header.timestamp);
        assert.throws(() => checkReply(req, rep, HOST, { keys }), isCode("BAD_RESPONSE", /messageId/));
      });

      it("without keys nothing is checked (the stub behaviour callers rely on until they pass keys)", () => {
        assert.ok(checkReply(req, signedWith("someone-else"), HOST));
      });
    });
  });

  describe("parseEnvelopeText", () => {
    it("refuses a payload nested deeper than MAX_NESTING as BAD_RESPONSE, without keeping it; real depths pass", () => {
      const deep = `{"header":{"messageId":"m","method":"GETACK","namespace":"Appliance.System.All"},"payload":{"a":${"[".repeat(30_000)}${"]".repeat(30_000)}}}`;
      assert.throws(
        () => parseEnvelopeText(deep, "10.0.0.5"),
        (e: unknown) =>
          e instanceof MerossError && e.code === "BAD_RESPONSE" && /nested more than 64 levels/.test(e.message) && !e.details.reply,
      );
      const ok = `{"header":{"messageId":"m","method":"GETACK","namespace":"N"},"payload":{"a":${"[".repeat(60)}${"]".repeat(60)}}}`;
      assert.equal(parseEnvelopeText(ok, "10.0.0.5").header.messageId, "m");
    });

    const good = JSON.stringify(
      buildMessage({ method: "GETACK", namespace: "Appliance.System.All", key: "", payload: { all: { system: {} } } }),
    );

    it("parses a complete reply", () => {
      assert.equal(parseEnvelopeText(good, HOST).header.namespace, "Appliance.System.All");
    });

    it("truncated JSON (the device's small buffer, §2.2) is BAD_RESPONSE, not SyntaxError", () => {
      assert.throws(() => parseEnvelopeText(good.slice(0, good.length - 7), HOST), isCode("BAD_RESPONSE", /truncated/));
    });

    it("an empty reply and non-envelopes are BAD_RESPONSE", () => {
      for (const text of [
        "",
        "null",
        "42",
        "[]",
        '{"payload":{}}',
        '{"header":{"messageId":1}}',
        '{"header":{"messageId":"a","method":"GETACK","namespace":"n"},"payload":[]}',
      ]) {
        assert.throws(() => parseEnvelopeText(text, HOST), isCode("BAD_RESPONSE"), text);
      }
    });
  });

  it("payloadKeyFor follows the GET key rules of §6.1", () => {
    assert.equal(payloadKeyFor("Appliance.Control.ToggleX"), "togglex");
    assert.equal(payloadKeyFor("Appliance.Control.ConsumptionX"), "consumptionx");
    assert.equal(payloadKeyFor("Appliance.Control.Light"), "light");
    assert.equal(payloadKeyFor("Appliance.System.DNDMode"), "DNDMode");
    assert.equal(payloadKeyFor("Appliance.Control.ConsumptionConfig"), "config");
  });
});
