import assert from "node:assert/strict";
import sinon from "sinon";
import { Coalescer, type CoalescedOutcome } from "../../src/core/coalescer";

interface Cmd {
  level?: number;
  colour?: string;
  on?: boolean | "toggle";
}

function mergeCmd(older: Cmd, newer: Cmd): Cmd {
  const out: Cmd = { ...older, ...newer };
  if (older.on === "toggle" && newer.on === "toggle") delete out.on;
  return out;
}

/** A fake bulb: each command takes `ms` of (fake) time and updates its state. */
function fakeDevice(ms: number) {
  const state: Cmd = { level: 0, colour: "white", on: false };
  const seen: Cmd[] = [];
  const execute = async (c: Cmd): Promise<Cmd> => {
    seen.push({ ...c });
    await new Promise((r) => setTimeout(r, ms));
    if (c.level !== undefined) state.level = c.level;
    if (c.colour !== undefined) state.colour = c.colour;
    if (c.on === "toggle") state.on = !state.on;
    else if (c.on !== undefined) state.on = c.on;
    return { ...state };
  };
  return { state, seen, execute };
}

describe("Coalescer", () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
  });
  afterEach(() => clock.restore());

  it("runs a command at once when idle", async () => {
    const dev = fakeDevice(10);
    const c = new Coalescer<Cmd, Cmd>({ execute: dev.execute, merge: mergeCmd });
    const p = c.submit({ level: 30 });
    assert.equal(dev.seen.length, 1, "the first command starts without waiting");
    await clock.tickAsync(10);
    assert.deepEqual(await p, { status: "done", result: { level: 30, colour: "white", on: false } });
  });

  it("turns 100 rapid commands into a few executions ending in the last requested state", async () => {
    const dev = fakeDevice(30);
    const c = new Coalescer<Cmd, Cmd>({ execute: dev.execute, merge: mergeCmd, minIntervalMs: 40 });
    const settled: Array<CoalescedOutcome<Cmd> | Error> = new Array(100);
    const counts = new Array<number>(100).fill(0);
    const all: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) {
      const p = c.submit(i === 50 ? { level: i + 1, colour: "red" } : { level: i + 1 }).then(
        (o) => {
          settled[i] = o;
          counts[i]++;
        },
        (e: Error) => {
          settled[i] = e;
          counts[i]++;
        },
      );
      all.push(p);
      await clock.tickAsync(10);
    }
    await clock.tickAsync(500);
    await Promise.all(all);

    assert.ok(
      counts.every((n) => n === 1),
      "every caller settles exactly once",
    );
    assert.ok(dev.seen.length < 40, `expected far fewer than 100 executions, got ${dev.seen.length}`);
    assert.equal(dev.state.level, 100, "the device ends at the last requested level");
    assert.equal(dev.state.colour, "red", "a field set by a superseded command is kept by the merge");
    const last = settled[99] as CoalescedOutcome<Cmd>;
    assert.equal(last.status, "done");
    assert.deepEqual(last.status === "done" && last.result, { level: 100, colour: "red", on: false });
    const superseded = settled.filter((o) => !(o instanceof Error) && o.status === "superseded").length;
    const done = settled.filter((o) => !(o instanceof Error) && o.status === "done").length;
    assert.equal(done, dev.seen.length, "one output per execution");
    assert.equal(superseded + done, 100);
  });

  it("keeps at least minIntervalMs between execution starts", async () => {
    const starts: number[] = [];
    const c = new Coalescer<Cmd, number>({
      execute: async () => {
        starts.push(Date.now());
        return 1;
      },
      merge: mergeCmd,
      minIntervalMs: 100,
    });
    const a = c.submit({ level: 1 });
    await clock.tickAsync(1);
    const b = c.submit({ level: 2 });
    await clock.tickAsync(300);
    await Promise.all([a, b]);
    assert.equal(starts.length, 2);
    assert.ok(starts[1] - starts[0] >= 100, "the second command waited for the interval");
  });

  it("sends the next command after at most one gap when the wall clock is set back (NTP at boot)", async () => {
    const dev = fakeDevice(1);
    const c = new Coalescer<Cmd, Cmd>({ execute: dev.execute, merge: mergeCmd, minIntervalMs: 55 });
    await clock.tickAsync(0);
    const first = c.submit({ level: 1 });
    await clock.tickAsync(5);
    await first;
    clock.setSystemTime(Date.now() - 3_600_000); // the clock steps back an hour; timers keep their pace
    const second = c.submit({ level: 2 });
    await clock.tickAsync(60);
    assert.deepEqual(await second, { status: "done", result: { level: 2, colour: "white", on: false } });
  });

  it("keeps the interval while a burst goes on, and sends the last setting at the next tick after the burst stops", async () => {
    const starts: number[] = [];
    const dev = fakeDevice(5);
    const c = new Coalescer<Cmd, Cmd>({
      execute: (cmd) => {
        starts.push(Date.now());
        return dev.execute(cmd);
      },
      merge: mergeCmd,
      minIntervalMs: 100,
    });
    const all: Promise<unknown>[] = [];
    // 25 commands end at t=240 ms, between two interval ticks (200 and 300 ms).
    for (let i = 1; i <= 25; i++) {
      all.push(c.submit({ level: i }));
      await clock.tickAsync(10);
    }
    const lastSubmit = Date.now() - 10;
    await clock.tickAsync(200);
    await Promise.all(all);
    for (let i = 1; i < starts.length; i++) {
      assert.ok(starts[i] - starts[i - 1] >= 100, `starts are >= 100 ms apart, the last one too (${starts.join(", ")})`);
    }
    const final = starts[starts.length - 1];
    assert.ok(final - lastSubmit <= 100, `the last setting starts within one interval of the burst's end (${final - lastSubmit} ms)`);
    assert.equal(dev.state.level, 25);
  });

  it("lets two pending toggles cancel out", async () => {
    const dev = fakeDevice(20);
    const c = new Coalescer<Cmd, Cmd>({ execute: dev.execute, merge: mergeCmd });
    const first = c.submit({ on: true });
    const t1 = c.submit({ on: "toggle" });
    const t2 = c.submit({ on: "toggle" });
    await clock.tickAsync(200);
    assert.equal((await first).status, "done");
    assert.equal((await t1).status, "superseded");
    assert.equal((await t2).status, "done");
    assert.equal(dev.state.on, true, "toggle twice leaves the light as the first command set it");
  });

  it("rejects only the command whose execution failed and keeps going", async () => {
    let n = 0;
    const c = new Coalescer<Cmd, number>({
      execute: async (cmd) => {
        n++;
        if (cmd.level === 1) throw new Error("device said no");
        return cmd.level ?? 0;
      },
      merge: mergeCmd,
    });
    const a = c.submit({ level: 1 });
    const b = c.submit({ level: 2 });
    await assert.rejects(a, /device said no/);
    await clock.tickAsync(100);
    assert.deepEqual(await b, { status: "done", result: 2 });
    assert.equal(n, 2);
  });

  it("turns a synchronous throw of the executor into a rejection", async () => {
    const c = new Coalescer<Cmd, number>({
      execute: () => {
        throw new Error("sync boom");
      },
      merge: mergeCmd,
    });
    await assert.rejects(c.submit({ level: 1 }), /sync boom/);
    assert.equal(c.busy, false);
  });

  it("settles a waiting command as cancelled on cancel()", async () => {
    const dev = fakeDevice(50);
    const c = new Coalescer<Cmd, Cmd>({ execute: dev.execute, merge: mergeCmd });
    const a = c.submit({ level: 1 });
    const b = c.submit({ level: 2 });
    c.cancel();
    assert.deepEqual(await b, { status: "cancelled" });
    await clock.tickAsync(100);
    assert.equal((await a).status, "done");
    assert.equal(dev.seen.length, 1, "the cancelled command never ran");
  });

  it("drops a waiting command whose submitter's signal aborts, and hands the running one a signal that follows its submitter", async () => {
    const dev = fakeDevice(50);
    const signals: Array<AbortSignal | undefined> = [];
    const execute = (c: Cmd, signal?: AbortSignal): Promise<Cmd> => {
      signals.push(signal);
      return dev.execute(c);
    };
    const c = new Coalescer<Cmd, Cmd>({ execute, merge: mergeCmd });
    const first = new AbortController();
    const closing = new AbortController();
    const a = c.submit({ level: 1 }, { signal: first.signal });
    const b = c.submit({ level: 2 }, { signal: closing.signal });
    closing.abort();
    assert.deepEqual(await b, { status: "cancelled" });
    assert.equal(signals[0]?.aborted, false);
    first.abort();
    assert.equal(signals[0]?.aborted, true, "the running command's signal aborts once its only submitter has gone");
    await clock.tickAsync(100);
    assert.equal((await a).status, "done");
    assert.equal(dev.seen.length, 1, "the aborted command never ran");

    assert.deepEqual(
      await c.submit({ level: 3 }, { signal: closing.signal }),
      { status: "cancelled" },
      "an already closed submitter queues nothing",
    );
    await clock.tickAsync(100);
    assert.equal(dev.seen.length, 1);
  });
});
