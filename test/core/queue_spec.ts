import assert from "node:assert/strict";
import { SerialQueue, QUEUE_MAX_PENDING } from "../../src/core/queue";
import { MerossError } from "../../src/core/errors";
import { rejectsWith } from "../helpers/errors";

/** A task whose end the test decides. */
interface Gate<T> {
  task: (signal: AbortSignal) => Promise<T>;
  open: (v: T) => void;
  fail: (e: unknown) => void;
  started: () => boolean;
  signal: () => AbortSignal | undefined;
}

function gate<T = string>(): Gate<T> {
  let open!: (v: T) => void;
  let fail!: (e: unknown) => void;
  let started = false;
  let seen: AbortSignal | undefined;
  const p = new Promise<T>((res, rej) => {
    open = res;
    fail = rej;
  });
  return {
    task: (signal) => {
      started = true;
      seen = signal;
      return p;
    },
    open,
    fail,
    started: () => started,
    signal: () => seen,
  };
}

const HOST = "127.0.0.1:9";
const flush = () => new Promise((r) => setImmediate(r));

describe("SerialQueue", () => {
  it("runs tasks one at a time, in order", async () => {
    const q = new SerialQueue();
    const order: string[] = [];
    let active = 0;
    let maxActive = 0;
    const job = (name: string) => async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await flush();
      order.push(name);
      active--;
      return name;
    };
    const results = await Promise.all([q.run(job("a")), q.run(job("b")), q.run(job("c"))]);
    assert.deepEqual(results, ["a", "b", "c"]);
    assert.deepEqual(order, ["a", "b", "c"]);
    assert.equal(maxActive, 1);
    assert.equal(q.size, 0);
  });

  it("a task that throws rejects only its own caller; the next one still runs", async () => {
    const q = new SerialQueue();
    const bad = q.run(() => {
      throw new TypeError("boom");
    });
    const good = q.run(async () => "ok");
    await assert.rejects(bad, /boom/);
    assert.equal(await good, "ok");
  });

  it("refuses tasks beyond the cap at once with BUSY and a sentence, and sends nothing for them", async () => {
    const q = new SerialQueue({ host: HOST, maxPending: 3 });
    const head = gate();
    const first = q.run(head.task);
    await flush();
    const waiting = [1, 2, 3].map(() => q.run(async () => "w"));
    let ran = false;
    const err = await rejectsWith(
      q.run(
        async () => {
          ran = true;
        },
        { label: "SET Appliance.Control.ToggleX" },
      ),
      "BUSY",
      /SET Appliance\.Control\.ToggleX .*127\.0\.0\.1:9.*3 requests are already waiting.*Send fewer messages/,
    );
    assert.equal(err.details.host, HOST);
    assert.equal(q.size, 4);
    head.open("first");
    assert.equal(await first, "first");
    assert.deepEqual(await Promise.all(waiting), ["w", "w", "w"]);
    assert.equal(ran, false);
  });

  it("defaults to a cap of 100 waiting tasks", async () => {
    assert.equal(QUEUE_MAX_PENDING, 100);
    const q = new SerialQueue();
    const head = gate();
    const all = [q.run(head.task)];
    await flush();
    for (let i = 0; i < 100; i++) all.push(q.run(async () => "x"));
    await rejectsWith(
      q.run(async () => "x"),
      "BUSY",
    );
    head.open("h");
    await Promise.all(all);
  });

  it("a task waiting past its deadline is rejected with TIMEOUT and never runs", async () => {
    const q = new SerialQueue({ host: HOST });
    const head = gate();
    const first = q.run(head.task);
    let ran = false;
    const second = q.run(
      async () => {
        ran = true;
      },
      { deadlineMs: 20, label: "GET Appliance.System.All" },
    );
    await rejectsWith(second, "TIMEOUT", /GET Appliance\.System\.All .*waited 0 s behind earlier requests and was not sent/);
    assert.equal(q.size, 1);
    head.open("done");
    await first;
    await flush();
    assert.equal(ran, false);
  });

  it("a running task past its deadline is told to stop, its caller gets TIMEOUT, and the line moves on", async () => {
    const q = new SerialQueue({ host: HOST });
    const hung = gate();
    const first = q.run(hung.task, { deadlineMs: 20 });
    const second = q.run(async () => "next");
    const err = await rejectsWith(first, "TIMEOUT", /did not finish within/);
    assert.equal(hung.signal()?.aborted, true);
    assert.equal(hung.signal()?.reason, err);
    assert.equal(await second, "next");
    // The hung task ending late changes nothing.
    hung.open("late");
    await flush();
    assert.equal(q.size, 0);
  });

  it("the tasks after a stopped one get a signal that is not aborted (after a deadline, and after clear())", async () => {
    const q = new SerialQueue({ host: HOST });
    const hung = gate();
    const first = q.run(hung.task, { deadlineMs: 20 });
    const signals: AbortSignal[] = [];
    const keep = async (s: AbortSignal): Promise<boolean> => (signals.push(s), s.aborted);
    await rejectsWith(first, "TIMEOUT");
    assert.equal(await q.run(keep), false, "the next task's signal is already aborted");
    assert.equal(hung.signal()?.aborted, true, "the hung task's signal stays aborted");

    const running = gate();
    const during = q.run(running.task);
    await flush();
    q.clear();
    assert.equal(running.signal()?.aborted, true, "clear() stops the running task");
    running.open("done");
    await during.catch(() => undefined);
    assert.equal(await q.run(keep), false, "a task after clear() starts with a live signal");
    assert.equal(signals.length, 2);
  });

  it("a task whose signal aborts before it starts is rejected with CANCELLED and never sent", async () => {
    const q = new SerialQueue({ host: HOST });
    const head = gate();
    const first = q.run(head.task);
    const ctl = new AbortController();
    let sent = false;
    const queued = q.run(
      async () => {
        sent = true;
      },
      { signal: ctl.signal, label: "SET Appliance.Control.ToggleX" },
    );
    ctl.abort();
    await rejectsWith(queued, "CANCELLED", /cancelled: the node was closed or redeployed before it was sent\. Nothing was sent/);
    head.open("ok");
    await first;
    await flush();
    assert.equal(sent, false);
    // Already aborted: refused without queueing.
    await rejectsWith(
      q.run(async () => undefined, { signal: ctl.signal }),
      "CANCELLED",
    );
    assert.equal(q.size, 0);
  });

  it("aborting after a task started does not cancel it (it is already on the wire)", async () => {
    const q = new SerialQueue();
    const g = gate();
    const ctl = new AbortController();
    const p = q.run(g.task, { signal: ctl.signal });
    await flush();
    assert.equal(g.started(), true);
    ctl.abort();
    g.open("answered");
    assert.equal(await p, "answered");
  });

  describe("fail-fast", () => {
    it("rejects every waiting task at once except one probe, and refuses new ones while the probe is out", async () => {
      const q = new SerialQueue({ host: HOST });
      const head = gate();
      const first = q.run(head.task);
      await flush();
      const probe = gate();
      const probeRun = q.run(probe.task);
      const sent: number[] = [];
      const rest = [1, 2, 3].map((i) =>
        q.run(
          async () => {
            sent.push(i);
          },
          { label: `GET #${i}` },
        ),
      );
      q.failFast(new MerossError("TIMEOUT", "no answer"));
      assert.equal(q.failing, true);
      const notSent = /was not sent: the device at 127\.0\.0\.1:9 is not answering \(an earlier request got no answer in time\)/;
      for (const p of rest) await rejectsWith(p, "UNREACHABLE", notSent);
      await rejectsWith(
        q.run(async () => undefined),
        "UNREACHABLE",
        /tried again one at a time/,
      );
      head.fail(new MerossError("TIMEOUT", "no answer"));
      await assert.rejects(first);
      await flush();
      assert.equal(probe.started(), true);
      probe.open("back");
      assert.equal(await probeRun, "back");
      // The probe got an answer: the queue runs normally again.
      assert.equal(q.failing, false);
      assert.equal(await q.run(async () => "normal"), "normal");
      assert.deepEqual(sent, []);
    });

    it("a failed probe keeps it failing; the next task becomes the probe", async () => {
      const q = new SerialQueue({ host: HOST });
      q.failFast(new MerossError("UNREACHABLE", "refused"));
      const p1 = gate();
      const r1 = q.run(p1.task);
      await rejectsWith(
        q.run(async () => "x"),
        "UNREACHABLE",
        /could not reach it/,
      );
      await flush();
      p1.fail(new MerossError("UNREACHABLE", "refused"));
      await assert.rejects(r1);
      assert.equal(q.failing, true);
      assert.equal(await q.run(async () => "probe 2"), "probe 2");
      assert.equal(q.failing, false);
    });

    it("resume() lets everything through again", async () => {
      const q = new SerialQueue({ host: HOST });
      q.failFast(new MerossError("TIMEOUT", "t"));
      const probe = gate();
      const r = q.run(probe.task);
      q.resume();
      const others = [q.run(async () => 1), q.run(async () => 2)];
      probe.open("p");
      assert.equal(await r, "p");
      assert.deepEqual(await Promise.all(others), [1, 2]);
    });

    it("a cancelled or expired probe frees the probe slot", async () => {
      const q = new SerialQueue({ host: HOST });
      const head = gate();
      const first = q.run(head.task);
      await flush();
      q.failFast(new MerossError("TIMEOUT", "t"));
      const ctl = new AbortController();
      const probe = q.run(async () => "never", { signal: ctl.signal });
      ctl.abort();
      await rejectsWith(probe, "CANCELLED");
      const next = q.run(async () => "new probe");
      head.open("x");
      await first;
      assert.equal(await next, "new probe");
    });
  });
});
