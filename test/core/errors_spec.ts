import assert from "node:assert/strict";
import { ERROR_CODES, MerossError, asMerossError, scrubSecrets } from "../../src/core/errors";

describe("asMerossError: what a flow sees for any failure", () => {
  it("passes our own errors through unchanged", () => {
    const e = new MerossError("TIMEOUT", "no answer");
    assert.equal(asMerossError(e), e);
  });

  it("reports an unknown exception as INTERNAL, a bug of this package to report, not as a device problem", () => {
    const e = asMerossError(new TypeError("Cannot read properties of undefined (reading 'onoff')"));
    assert.equal(e.code, "INTERNAL");
    assert.match(e.message, /^This is a bug in node-red-contrib-meross-local: Cannot read properties of undefined \(reading 'onoff'\)\./);
    assert.match(e.message, /Please report it/);
    assert.doesNotMatch(e.message, /restart the device/);
    assert.equal(asMerossError("plain text").code, "INTERNAL");
    assert.match(asMerossError(undefined).message, /unknown failure/);
  });

  it("quotes at most ~200 characters of the foreign text", () => {
    const e = asMerossError(new Error("y".repeat(1_000_000)));
    assert.ok(e.message.length < 400, `${e.message.length} characters`);
  });

  it("lists every code, including the new queue and bug codes", () => {
    for (const c of ["BUSY", "CANCELLED", "INTERNAL", "BAD_RESPONSE"]) assert.ok((ERROR_CODES as readonly string[]).includes(c), c);
  });
});

describe("scrubSecrets", () => {
  it("masks a secret as typed, in base64 (padded, unpadded, URL-safe) and in hex, and leaves short secrets alone", () => {
    const pw = "pass?wör>d";
    const b = Buffer.from(pw);
    const text = [pw, b.toString("base64"), b.toString("base64url"), b.toString("hex"), b.toString("hex").toUpperCase(), "ab"].join(" | ");
    assert.equal(scrubSecrets(text, [pw, "ab"]), "******** | ******** | ******** | ******** | ******** | ab");
  });
});

describe("redactError: the one redaction (nodes use it too), shared errors untouched", () => {
  it("returns a scrubbed copy and leaves an error others hold (a session's setup error) as it was", async () => {
    const { redactError } = await import("../../src/core/errors");
    const shared = new MerossError("BAD_CONFIG", "The key s3cr3t-key-99 is too short.", { reason: "setup" });
    for (const copy of [redactError(shared, ["s3cr3t-key-99"])]) {
      assert.notEqual(copy, shared);
      assert.doesNotMatch(copy.message, /s3cr3t/);
      assert.doesNotMatch(String(copy.stack), /s3cr3t/);
      assert.equal(copy.code, "BAD_CONFIG");
      assert.equal(copy.details.reason, "setup");
    }
    assert.match(shared.message, /s3cr3t-key-99/, "the shared error itself was not changed");
  });
});
