import assert from "node:assert/strict";
import { MerossError } from "../../../src/core/errors";
import { buildConfigKeyPayload, mqttPassword, mqttUsername } from "../../../src/core/onboarding/config";
import { isCode } from "../../helpers/errors";

describe("config codec (docs/protocol.md §3.2, §5.2)", () => {
  describe("buildConfigKeyPayload", () => {
    it("duplicates the broker as second broker and sends userId as a string", () => {
      assert.deepEqual(buildConfigKeyPayload({ host: "192.168.1.10", port: 8883, key: "k", userId: 0 }), {
        key: {
          gateway: { host: "192.168.1.10", port: 8883, secondHost: "192.168.1.10", secondPort: 8883, redirect: 1 },
          key: "k",
          userId: "0",
        },
      });
    });

    it("keeps an explicit second broker and accepts an empty key", () => {
      const p = buildConfigKeyPayload({ host: " a.local ", port: 8883, secondHost: "b.local", secondPort: 443, key: "", userId: "1234" });
      assert.deepEqual(p.key.gateway, { host: "a.local", port: 8883, secondHost: "b.local", secondPort: 443, redirect: 1 });
      assert.equal(p.key.key, "");
      assert.equal(p.key.userId, "1234");
    });

    it("refuses an empty host or an impossible port with BAD_INPUT naming the field", () => {
      assert.throws(() => buildConfigKeyPayload({ host: "", port: 8883, key: "", userId: 0 }), isCode("BAD_INPUT", /host/));
      assert.throws(() => buildConfigKeyPayload({ host: "h", port: 0, key: "", userId: 0 }), isCode("BAD_INPUT", /port.*1 to 65535/));
      assert.throws(() => buildConfigKeyPayload({ host: "h", port: 65536, key: "", userId: 0 }), isCode("BAD_INPUT", /port/));
      assert.throws(
        () => buildConfigKeyPayload({ host: "h", port: 1, secondPort: 70000, key: "", userId: 0 }),
        isCode("BAD_INPUT", /second port/),
      );
      assert.throws(
        () => buildConfigKeyPayload({ host: "h", port: 1, key: null as unknown as string, userId: 0 }),
        isCode("BAD_INPUT", /key/),
      );
      assert.throws(
        () => buildConfigKeyPayload(null as unknown as { host: string; port: number; key: string; userId: number }),
        isCode("BAD_INPUT"),
      );
    });

    it("does not echo the key in errors", () => {
      assert.throws(
        () => buildConfigKeyPayload({ host: "", port: 1, key: "topsecret", userId: 0 }),
        (e: unknown) => e instanceof MerossError && !e.message.includes("topsecret"),
      );
    });
  });

  describe("MQTT credentials", () => {
    it("username is the MAC in lowercase and the password uses it the same way", () => {
      assert.equal(mqttUsername(" 34:29:8F:FF:FF:FF "), "34:29:8f:ff:ff:ff");
      assert.equal(mqttPassword("34:29:8F:FF:FF:FF", "testkey", 1234), "1234_5ac868a81f2f21b4a87f7d2bb3467cb5");
    });

    it("a missing MAC is BAD_INPUT", () => {
      assert.throws(() => mqttUsername(""), isCode("BAD_INPUT", /MAC/));
      assert.throws(() => mqttPassword(undefined as unknown as string, "", 0), isCode("BAD_INPUT"));
    });
  });
});
