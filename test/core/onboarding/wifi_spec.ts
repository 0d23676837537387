import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MerossError } from "../../../src/core/errors";
import {
  CIPHER_NAMES,
  ENCRYPTION_NAMES,
  buildWifiPayload,
  buildWifiXPayload,
  decodeWifiPayload,
  describeNetwork,
  parseWifiList,
} from "../../../src/core/onboarding/wifi";
import { isCode } from "../../helpers/errors";

const vectors = JSON.parse(readFileSync(join(__dirname, "../../fixtures/vectors.json"), "utf8"));
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

function neverMentions(secret: string, fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MerossError);
    assert.ok(!e.message.includes(secret), `message leaks the password: ${e.message}`);
    assert.ok(!JSON.stringify(e.toJSON()).includes(secret));
    return true;
  });
}

describe("Wi-Fi codec (docs/protocol.md §3.3–§3.5)", () => {
  it("names encryption 0..8 and cipher 0..4 as in §3.3", () => {
    assert.equal(ENCRYPTION_NAMES.length, 9);
    assert.equal(ENCRYPTION_NAMES[6], "WPA2PSK");
    assert.equal(ENCRYPTION_NAMES[8], "WPA1PSKWPA2PSK");
    assert.equal(CIPHER_NAMES.length, 5);
    assert.equal(CIPHER_NAMES[3], "AES");
  });

  describe("parseWifiList", () => {
    const reply = {
      wifiList: [
        { ssid: b64("Weak"), bssid: "2c-6e-a4-55-c6-47", channel: 1, signal: 20, encryption: 6, cipher: 3 },
        { ssid: b64("Café ☕"), bssid: "aa:bb:cc:dd:ee:ff", channel: "11", signal: "95", encryption: "8", cipher: "4" },
        { ssid: "", bssid: "00:00:00:00:00:01", channel: 6, signal: 50, encryption: 0, cipher: 0 },
        "garbage",
        { bssid: "no ssid" },
      ],
    };

    it("decodes base64 SSIDs as UTF-8, coerces string numbers and sorts by signal", () => {
      const list = parseWifiList(reply);
      assert.deepEqual(
        list.map((n) => n.ssid),
        ["Café ☕", "", "Weak"],
      );
      assert.deepEqual(list[0], { ssid: "Café ☕", bssid: "aa:bb:cc:dd:ee:ff", channel: 11, signal: 95, encryption: 8, cipher: 4 });
    });

    it("keeps an old firmware's '-' separated bssid unchanged (it is sent back as is)", () => {
      assert.equal(parseWifiList(reply)[2].bssid, "2c-6e-a4-55-c6-47");
    });

    it("an empty scan is an empty list", () => {
      assert.deepEqual(parseWifiList({ wifiList: [] }), []);
    });

    for (const bad of [null, 1, "x", [], {}, { wifiList: {} }, { wifiList: "a" }]) {
      it(`garbage ${JSON.stringify(bad)} is BAD_RESPONSE`, () => {
        assert.throws(() => parseWifiList(bad), isCode("BAD_RESPONSE", /WifiList/));
      });
    }
  });

  it("describeNetwork reads like 'MyNet (WPA2PSK/AES, 80%)'", () => {
    assert.equal(
      describeNetwork({ ssid: "MyNet", bssid: "", channel: 6, signal: 80, encryption: 6, cipher: 3 }),
      "MyNet (WPA2PSK/AES, 80%)",
    );
    assert.equal(
      describeNetwork({ ssid: "", bssid: "", channel: 6, signal: 5, encryption: 42, cipher: 0 }),
      "(hidden network) (encryption 42/NONE, 5%)",
    );
  });

  describe("buildWifiPayload", () => {
    const net = { ssid: "MyNet", bssid: "aa:bb:cc:dd:ee:ff", channel: 6, signal: 80, encryption: 6, cipher: 3 };

    it("base64-encodes ssid and password and copies the scan fields", () => {
      assert.deepEqual(buildWifiPayload(net, "hunter22"), {
        wifi: { ssid: b64("MyNet"), password: b64("hunter22"), bssid: "aa:bb:cc:dd:ee:ff", channel: 6, encryption: 6, cipher: 3 },
      });
    });

    it("works with the ssid alone, and string numbers from a form", () => {
      assert.deepEqual(buildWifiPayload({ ssid: "X" }, "12345678"), { wifi: { ssid: b64("X"), password: b64("12345678") } });
      assert.equal(buildWifiPayload({ ssid: "X", channel: "11" as unknown as number }, "12345678").wifi.channel, 11);
    });

    it("accepts an empty password only for an open network", () => {
      assert.equal(buildWifiPayload({ ssid: "Open", encryption: 0 }, "").wifi.password, "");
      assert.throws(() => buildWifiPayload({ ssid: "Home", encryption: 6 }, ""), isCode("BAD_INPUT", /password is empty/));
      assert.throws(() => buildWifiPayload({ ssid: "Home" }, ""), isCode("BAD_INPUT", /password/));
    });

    it("checks SSID byte length (1..32) and password length (8..64)", () => {
      assert.throws(() => buildWifiPayload({ ssid: "" }, "12345678"), isCode("BAD_INPUT", /SSID.*1 to 32 bytes/));
      assert.throws(() => buildWifiPayload({ ssid: "é".repeat(17) }, "12345678"), isCode("BAD_INPUT", /34 bytes/));
      assert.ok(buildWifiPayload({ ssid: "x".repeat(32) }, "12345678"));
      assert.throws(() => buildWifiPayload(net, "short"), isCode("BAD_INPUT", /password has 5 characters/));
      assert.throws(() => buildWifiPayload(net, "x".repeat(65)), isCode("BAD_INPUT", /8 to 64/));
      assert.ok(buildWifiPayload(net, "x".repeat(64)));
    });

    it("allows short WEP keys on WEP networks", () => {
      assert.ok(buildWifiPayload({ ssid: "Old", encryption: 1 }, "abcde"));
    });

    it("names the bad field for bssid/channel and wrong types", () => {
      assert.throws(() => buildWifiPayload({ ...net, channel: -3 }, "12345678"), isCode("BAD_INPUT", /channel/));
      assert.throws(() => buildWifiPayload({ ...net, bssid: 5 as unknown as string }, "12345678"), isCode("BAD_INPUT", /BSSID/));
      assert.throws(() => buildWifiPayload({ ssid: 5 as unknown as string }, "12345678"), isCode("BAD_INPUT", /SSID/));
      assert.throws(() => buildWifiPayload(null as unknown as { ssid: string }, "12345678"), isCode("BAD_INPUT"));
      assert.throws(() => buildWifiPayload(net, null as unknown as string), isCode("BAD_INPUT", /password/));
    });

    it("never puts the password into an error", () => {
      neverMentions("sekret", () => buildWifiPayload({ ssid: "Home", encryption: 6 }, "sekret"));
      neverMentions("sekret-but-way-too-long".repeat(4), () => buildWifiPayload({ ssid: "Home" }, "sekret-but-way-too-long".repeat(4)));
    });
  });

  describe("WifiX", () => {
    const v = vectors.wifiX[0];
    const dev = { type: v.type, uuid: v.uuid, mac: v.mac };

    it("encrypts the password to the device-verified vector of §3.5", () => {
      const p = buildWifiXPayload({ ssid: "MyNet", encryption: 6, cipher: 3 }, v.password, dev);
      assert.equal(p.wifi.password, v.cipherBase64);
      assert.equal(p.wifi.ssid, b64("MyNet"));
      assert.equal(p.wifi.encryption, 6);
    });

    it("refuses missing device details with BAD_INPUT naming the field", () => {
      assert.throws(
        () => buildWifiXPayload({ ssid: "a" }, "12345678", { type: "mss710", uuid: "", mac: "aa" }),
        isCode("BAD_INPUT", /uuid/),
      );
      assert.throws(() => buildWifiXPayload({ ssid: "a" }, "12345678", undefined as unknown as typeof dev), isCode("BAD_INPUT"));
    });
  });

  describe("decodeWifiPayload (the simulator's side)", () => {
    const net = { ssid: "Café", bssid: "aa:bb:cc:dd:ee:ff", channel: 6, encryption: 6, cipher: 3 };

    it("inverts buildWifiPayload", () => {
      assert.deepEqual(decodeWifiPayload(buildWifiPayload(net, "pässword1")), { ...net, password: "pässword1" });
    });

    it("inverts buildWifiXPayload given the device, for every password length class", () => {
      const dev = { type: "mss710", uuid: "2308283569760958070148e1e9d7c243", mac: "48:e1:e9:d7:c2:43" };
      for (const pw of ["12345678", "0123456789abcdef", "x".repeat(64)]) {
        assert.equal(decodeWifiPayload(buildWifiXPayload(net, pw, dev), dev).password, pw);
      }
    });

    it("refuses malformed payloads with BAD_INPUT that does not echo the password", () => {
      assert.throws(() => decodeWifiPayload(null), isCode("BAD_INPUT"));
      assert.throws(() => decodeWifiPayload({ wifi: { ssid: 1 } }), isCode("BAD_INPUT"));
      const dev = { type: "t", uuid: "u", mac: "m" };
      neverMentions("c2VrcmV0", () => decodeWifiPayload({ wifi: { ssid: "", password: "c2VrcmV0" } }, dev));
    });
  });
});
