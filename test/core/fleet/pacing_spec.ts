/** Hundreds of devices arriving at once are read a few at a time, and every one is read. */
import assert from "node:assert/strict";
import { Pacer, pacerFor } from "../../../src/core/fleet/pacing";

describe("Pacer (first reads under a burst)", () => {
  it("runs 500 reads with at most 16 at once, each exactly once, failures included", async () => {
    const pacer = new Pacer(16);
    let running = 0;
    let most = 0;
    const done: number[] = [];
    const reads = Array.from({ length: 500 }, (_, i) =>
      pacer
        .run(async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((r) => setImmediate(r));
          running--;
          if (i % 50 === 0) throw new Error(`device ${i} did not answer`);
          done.push(i);
          return i;
        })
        .catch(() => -1),
    );
    const results = await Promise.all(reads);
    assert.equal(most, 16);
    assert.equal(done.length, 490);
    assert.equal(results.filter((r) => r === -1).length, 10, "a failed read frees its turn");
    assert.equal(pacer.queued, 0);
  });

  it("one pacer per broker, shared by its devices", () => {
    const a = {};
    assert.equal(pacerFor(a), pacerFor(a));
    assert.notEqual(pacerFor(a), pacerFor({}));
  });
});
