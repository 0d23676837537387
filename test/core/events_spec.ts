import { strict as assert } from "node:assert";
import { TypedEvents } from "../../src/core/events";

interface M {
  change: { on: boolean };
  gone: string;
}

describe("TypedEvents", () => {
  it("delivers payloads and removes exactly the listener whose unsubscribe was called", () => {
    const ev = new TypedEvents<M>();
    const seen: string[] = [];
    const offA = ev.on("change", (p) => seen.push(`a${p.on}`));
    ev.on("change", (p) => seen.push(`b${p.on}`));
    ev.emit("change", { on: true });
    offA();
    offA();
    ev.emit("change", { on: false });
    assert.deepEqual(seen, ["atrue", "btrue", "bfalse"]);
    assert.equal(ev.listenerCount("change"), 1);
  });

  it("keeps calling the other listeners when one throws, and reports the throw instead of swallowing it", () => {
    const reported: string[] = [];
    const ev = new TypedEvents<M>((err, name) => reported.push(`${name}: ${(err as Error).message}`));
    const seen: string[] = [];
    ev.on("gone", () => {
      throw new Error("bug in a listener");
    });
    ev.on("gone", (u) => seen.push(u));
    ev.emit("gone", "u1");
    assert.deepEqual(seen, ["u1"]);
    assert.deepEqual(reported, ["gone: bug in a listener"]);
  });

  it("by default a listener's throw becomes a process warning naming the event", async () => {
    const warned = new Promise<Error>((resolve) => process.once("warning", resolve));
    const ev = new TypedEvents<M>();
    ev.on("gone", () => {
      throw new Error("bug in a listener");
    });
    ev.emit("gone", "u1");
    assert.match((await warned).message, /"gone".*bug in a listener/);
  });

  it("once() fires a single time and leaves no listener behind", () => {
    const ev = new TypedEvents<M>();
    let n = 0;
    ev.once("gone", () => n++);
    ev.emit("gone", "x");
    ev.emit("gone", "y");
    assert.equal(n, 1);
    assert.equal(ev.listenerCount(), 0);
  });
});
