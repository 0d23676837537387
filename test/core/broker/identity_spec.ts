/**
 * The identity book on its own: proven entries (onboarding, a node naming uuid and key, a reply
 * the device signed) against unproven ones (a Bind with some accepted key), its bound, and its file.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { IDENTITY_FILE, IDENTITY_LIMIT, IdentityBook } from "../../../src/core/broker/identity";

const GENUINE = { uuid: "2308085712920951080748e1e9d58442", mac: "48:e1:e9:d5:84:42", key: "genuine-key" };
const ATTACKER_KEY = "attacker-key";

function invented(i: number): { uuid: string; mac: string } {
  const hex = (0x48e1e9000000 + i).toString(16);
  return { uuid: `19121742069361251858${hex}`, mac: hex.match(/../g)!.join(":") };
}

describe("IdentityBook (which key each uuid belongs to)", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "meross-identity-"));
    file = path.join(dir, IDENTITY_FILE);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("an unproven Bind keeps another unproven key out, but proof replaces it and is never replaced by a Bind", () => {
    const book = new IdentityBook(file);
    assert.equal(book.learn(GENUINE.uuid, GENUINE.mac, ATTACKER_KEY, "bind"), true);
    assert.equal(book.proven(GENUINE.uuid), false);
    assert.match(book.conflict(GENUINE.uuid, GENUINE.mac, GENUINE.key) ?? "", /bound to another key .*unproven/);
    assert.equal(book.learn(GENUINE.uuid, GENUINE.mac, GENUINE.key, "onboarding"), true, "proof replaces the squatter's Bind");
    assert.equal(book.proven(GENUINE.uuid), true);
    assert.equal(book.conflict(GENUINE.uuid, GENUINE.mac, GENUINE.key), undefined);
    assert.equal(book.learn(GENUINE.uuid, GENUINE.mac, ATTACKER_KEY, "bind"), false, "a Bind never replaces proof");
    assert.match(
      book.conflict(GENUINE.uuid, GENUINE.mac, ATTACKER_KEY) ?? "",
      /bound to another key \(since .*learnt from its onboarding\)/,
    );
  });

  it(`stays at ${IDENTITY_LIMIT} entries under a flood of invented uuids, dropping the least recently used unproven ones, never a proven one`, () => {
    const book = new IdentityBook(file);
    book.learn(GENUINE.uuid, GENUINE.mac, GENUINE.key, "config");
    for (let i = 0; i < 2050; i++) book.learn(invented(i).uuid, invented(i).mac, ATTACKER_KEY, "bind");
    assert.equal(book.size, IDENTITY_LIMIT);
    assert.equal(book.proven(GENUINE.uuid), true, "the proven entry survived the flood");
    assert.equal(book.get(invented(0).uuid), undefined, "the oldest unproven went first");
    const late = { uuid: "1912174206936125185848e1e9cc0007", mac: "48:e1:e9:cc:00:07" };
    assert.equal(book.learn(late.uuid, late.mac, "late-key", "device"), true, "a new proof is still recorded");
    assert.equal(book.size, IDENTITY_LIMIT);
    book.flush();
    const again = new IdentityBook(file);
    assert.equal(again.size, IDENTITY_LIMIT);
    assert.deepEqual([again.proven(GENUINE.uuid), again.proven(late.uuid)], [true, true], "the distinction survives a reload");
    assert.match(again.conflict(late.uuid, late.mac, ATTACKER_KEY) ?? "", /bound to another key/);
    assert.equal(again.unproven().length, IDENTITY_LIMIT - 2);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.ok(!fs.readFileSync(file, "utf8").includes(GENUINE.key), "fingerprints, never keys");
  });

  it("reads a file of the earlier version: a binding learnt from a Bind is unproven, one from a node is proven", () => {
    const at = Date.parse("2026-01-01");
    const a = invented(1);
    fs.writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        devices: {
          [GENUINE.uuid]: { mac: GENUINE.mac, keyId: "0".repeat(32), source: "config", at },
          [a.uuid]: { mac: a.mac, keyId: "1".repeat(32), source: "bind", at },
        },
      }),
    );
    const book = new IdentityBook(file);
    assert.deepEqual([book.proven(GENUINE.uuid), book.proven(a.uuid)], [true, false]);
  });

  // The same temporary file as above, from the outer hooks.
  describe("writes (batched off the hot path)", () => {
    it("a thousand devices proving their keys at once cost a handful of writes, and the file holds them all after flush", () => {
      const book = new IdentityBook(file);
      for (let i = 0; i < 1000; i++) book.learn(invented(i).uuid, invented(i).mac, `key-${i}`, "device");
      assert.ok(book.writes <= 5, `wrote the file ${book.writes} times`);
      book.flush();
      const again = new IdentityBook(file);
      assert.equal(again.size, 1000);
      assert.equal(again.proven(invented(999).uuid), true);
      assert.equal(again.conflict(invented(500).uuid, invented(500).mac, "key-500"), undefined);
    });

    it("the first proof is on disk at once; a crash before the batch is written leaves the earlier file whole", () => {
      const book = new IdentityBook(file);
      book.learn(GENUINE.uuid, GENUINE.mac, GENUINE.key, "onboarding");
      assert.equal(new IdentityBook(file).proven(GENUINE.uuid), true, "written without waiting");
      for (let i = 0; i < 50; i++) book.learn(invented(i).uuid, invented(i).mac, ATTACKER_KEY, "device");
      // A crash now: the batch was never written, and no half-written file or temporary is left to read.
      const after = new IdentityBook(file);
      assert.equal(after.proven(GENUINE.uuid), true);
      assert.ok(after.size < 51, "the batch was not written before the crash");
      assert.deepEqual(
        fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")),
        [],
      );
      book.flush();
      assert.equal(new IdentityBook(file).size, 51);
    });
  });
});
