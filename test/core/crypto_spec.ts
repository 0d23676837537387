import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  decryptAes256Cbc,
  decryptMessageBase64,
  ecdhKeyPair,
  ecdhSessionKey,
  encryptAes256Cbc,
  encryptMessageBase64,
  staticLanKey,
  wifiXKey,
} from "../../src/core/crypto/aes";
import { MerossError } from "../../src/core/errors";
import { isCode } from "../helpers/errors";

const vectors = JSON.parse(readFileSync(join(__dirname, "../fixtures/vectors.json"), "utf8"));

describe("crypto: AES-256-CBC as Meross firmware uses it", () => {
  describe("WifiX password encryption (docs/protocol.md §3.5)", () => {
    for (const v of vectors.wifiX) {
      it(`derives key and ciphertext for ${v.type}/${JSON.stringify(v.password)}${v.selfComputed ? " (self-computed)" : " (device-verified)"}`, () => {
        const key = wifiXKey(v.type, v.uuid, v.mac);
        assert.equal(key, v.key);
        assert.equal(encryptAes256Cbc(v.password, key).toString("base64"), v.cipherBase64);
        assert.equal(decryptAes256Cbc(Buffer.from(v.cipherBase64, "base64"), key).toString("utf8"), v.password);
      });
    }

    it("accepts an upper-case MAC typed by a user and derives the same key", () => {
      const v = vectors.wifiX[0];
      assert.equal(wifiXKey(v.type, v.uuid, v.mac.toUpperCase()), v.key);
    });
  });

  describe("NUL padding always appends 1..16 bytes (docs/protocol.md §4.2)", () => {
    const key = "0123456789abcdef0123456789abcdef";
    for (const len of [0, 1, 15, 16, 17, 31, 32, 33]) {
      it(`a ${len}-byte plaintext encrypts to ${(Math.floor(len / 16) + 1) * 16} bytes and decrypts back`, () => {
        const plain = "x".repeat(len);
        const c = encryptAes256Cbc(plain, key);
        assert.equal(c.length, (Math.floor(len / 16) + 1) * 16);
        assert.equal(decryptAes256Cbc(c, key).toString("utf8"), plain);
      });
    }

    it("encrypts Buffers as well as strings, identically", () => {
      assert.deepEqual(encryptAes256Cbc(Buffer.from("héllo", "utf8"), key), encryptAes256Cbc("héllo", key));
    });
  });

  describe("static LAN key, scheme (a) of §4.3", () => {
    for (const v of vectors.staticLanKeys) {
      it(`uuid ${v.uuid} key ${JSON.stringify(v.key)} → ${v.aesKey}`, () => {
        assert.equal(staticLanKey(v.uuid, v.key, v.mac), v.aesKey);
      });
    }
  });

  describe("the 201-byte encrypted System.All request of §4.4", () => {
    const m = vectors.lanMessage;
    it("pads to 208 bytes and matches the published base64 prefix and suffix", () => {
      assert.equal(Buffer.byteLength(m.plain), m.plainLength);
      const b64 = encryptMessageBase64(m.plain, m.aesKey);
      assert.equal(Buffer.from(b64, "base64").length, m.paddedLength);
      assert.ok(b64.startsWith(m.base64Prefix), b64);
      assert.ok(b64.endsWith(m.base64Suffix), b64);
    });

    it("decrypts back to the exact JSON (trailing NULs stripped)", () => {
      const b64 = encryptMessageBase64(m.plain, m.aesKey);
      assert.equal(decryptMessageBase64(b64, m.aesKey), m.plain);
      assert.deepEqual(JSON.parse(decryptMessageBase64(b64, m.aesKey)).header.namespace, "Appliance.System.All");
    });

    it("tolerates line breaks inside the base64 body", () => {
      const b64 = encryptMessageBase64(m.plain, m.aesKey);
      const wrapped = b64.replace(/(.{64})/g, "$1\n");
      assert.equal(decryptMessageBase64(wrapped, m.aesKey), m.plain);
    });
  });

  describe("ECDHE, scheme (b) of §4.3", () => {
    const e = vectors.ecdhe;
    it("derives both public keys of the vector", () => {
      assert.equal(ecdhKeyPair(Buffer.from(e.clientPrivateAscii, "ascii")).publicKeyBase64, e.clientPublicBase64);
      assert.equal(ecdhKeyPair(Buffer.from(e.devicePrivateHex, "hex")).publicKeyBase64, e.devicePublicBase64);
    });

    it("both sides agree on the session key of the vector", () => {
      const client = ecdhKeyPair(Buffer.from(e.clientPrivateAscii, "ascii"));
      const device = ecdhKeyPair(Buffer.from(e.devicePrivateHex, "hex"));
      assert.equal(ecdhSessionKey(client.privateKey, e.devicePublicBase64), e.sessionKey);
      assert.equal(ecdhSessionKey(device.privateKey, e.clientPublicBase64), e.sessionKey);
    });

    it("a random key pair is a 65-byte uncompressed point and agrees with its peer", () => {
      const a = ecdhKeyPair();
      const b = ecdhKeyPair();
      assert.equal(a.publicKey.length, 65);
      assert.equal(a.publicKey[0], 4);
      const k = ecdhSessionKey(a.privateKey, b.publicKeyBase64);
      assert.match(k, /^[0-9a-f]{32}$/);
      assert.equal(k, ecdhSessionKey(b.privateKey, a.publicKeyBase64));
    });

    it("a garbage device public key is BAD_RESPONSE, not a crash", () => {
      const a = ecdhKeyPair();
      assert.throws(() => ecdhSessionKey(a.privateKey, "AAAA"), isCode("BAD_RESPONSE", /public key/));
      assert.throws(() => ecdhSessionKey(a.privateKey, null as unknown as string), isCode("BAD_RESPONSE"));
    });

    it("an invalid private key is BAD_INPUT", () => {
      assert.throws(() => ecdhKeyPair(Buffer.alloc(32)), isCode("BAD_INPUT", /private key/));
    });
  });

  describe("bad input and damaged replies", () => {
    const key = "0123456789abcdef0123456789abcdef";
    it("a ciphertext that is not whole 16-byte blocks is BAD_RESPONSE with a sentence", () => {
      assert.throws(() => decryptAes256Cbc(Buffer.alloc(17), key), isCode("BAD_RESPONSE", /17 bytes.*16-byte/));
      assert.throws(() => decryptAes256Cbc(Buffer.alloc(0), key), isCode("BAD_RESPONSE"));
    });

    it("a plaintext JSON reply handed to decryptMessageBase64 is BAD_RESPONSE mentioning plain JSON", () => {
      assert.throws(() => decryptMessageBase64('{"header":{}}', key), isCode("BAD_RESPONSE", /plain JSON/));
      assert.throws(() => decryptMessageBase64(undefined as unknown as string, key), isCode("BAD_RESPONSE"));
    });

    it("a key of the wrong length is BAD_INPUT and the message does not reveal the key", () => {
      assert.throws(
        () => encryptAes256Cbc("x", "secret-key"),
        (e: unknown) => {
          assert.ok(e instanceof MerossError);
          assert.equal(e.code, "BAD_INPUT");
          assert.doesNotMatch(e.message, /secret-key/);
          return true;
        },
      );
    });

    it("non-text key inputs are BAD_INPUT, never TypeError", () => {
      assert.throws(() => staticLanKey(null as unknown as string, "", "aa"), isCode("BAD_INPUT"));
      assert.throws(() => wifiXKey("mss710", 5 as unknown as string, "aa"), isCode("BAD_INPUT"));
    });
  });
});
