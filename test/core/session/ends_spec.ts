/**
 * A device session's queue always ends: a device that stops answering after it was read is
 * not sent one timed-out request after another, every queued message ends with an error, a
 * closed owner's waiting requests are never sent, and the first reply puts the queue back.
 */
import assert from "node:assert/strict";
import { MerossError } from "../../../src/core/errors";
import { MerossDevice, NS } from "../../../src/core/session/device";
import { HttpTransport } from "../../../src/core/transport/http";
import type { SendOptions, Transport } from "../../../src/core/transport/types";
import type { Envelope } from "../../../src/core/protocol/message";
import { SimulatedDevice } from "../../../src/simulator/device";

const KEY = "ends-spec-key";

/** HTTP to the simulator, counting every request the session puts on the wire. */
class CountingTransport implements Transport {
  readonly kind = "http" as const;
  sent = 0;
  readonly signals: Array<AbortSignal | undefined> = [];
  constructor(private readonly inner: HttpTransport) {}
  get address(): string {
    return this.inner.address;
  }
  get events(): Transport["events"] {
    return this.inner.events;
  }
  send(request: Envelope, opts?: SendOptions): Promise<Envelope> {
    this.sent++;
    this.signals.push(opts?.signal);
    return this.inner.send(request, opts);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), "the commands reached the queue");
}

function codeOf(r: PromiseSettledResult<unknown>): string {
  if (r.status === "fulfilled") return "fulfilled";
  return r.reason instanceof MerossError ? r.reason.code : `not a MerossError: ${String(r.reason)}`;
}

describe("a device session whose device stops answering", () => {
  let sim: SimulatedDevice | undefined;
  let device: MerossDevice | undefined;
  let wire: CountingTransport | undefined;

  beforeEach(async () => {
    sim = await SimulatedDevice.start({ model: "mss310", key: KEY, port: 0 });
    wire = new CountingTransport(new HttpTransport(sim.address, { timeoutMs: 200 }));
    device = new MerossDevice({ transport: wire, key: KEY, timeoutMs: 200 });
    await device.ready();
  });

  afterEach(async () => {
    await device?.close();
    await wire?.close();
    await sim?.stop();
  });

  it("ends 200 queued commands with UNREACHABLE/BUSY after sending at most 2, and works again once the device answers", async () => {
    const d = device!;
    const w = wire!;
    // The device hangs on the next two requests (it answers them only a second later).
    sim!.setFault({ kind: "delay", ms: 1000 }, { count: 2 });
    const before = w.sent;
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => d.setToggle(0, true)));
    const codes = results.map(codeOf);
    const count = (c: string): number => codes.filter((x) => x === c).length;
    assert.equal(count("fulfilled"), 0, "nothing succeeded while the device hung");
    const allowed = new Set(["TIMEOUT", "UNREACHABLE", "BUSY"]);
    assert.deepEqual(
      [...new Set(codes)].filter((c) => !allowed.has(c)),
      [],
      "every command ended with TIMEOUT, UNREACHABLE or BUSY",
    );
    assert.ok(count("TIMEOUT") <= 2, `only the requests that went out timed out (${count("TIMEOUT")})`);
    assert.equal(count("UNREACHABLE") + count("BUSY"), 200 - count("TIMEOUT"), "every other command ended without being sent");
    assert.ok(w.sent - before <= 2, `the hung device was sent ${w.sent - before} requests, not 200`);
    const notSent = results.find((r) => codeOf(r) === "UNREACHABLE") as PromiseRejectedResult;
    assert.match(notSent.reason.message, /not sent|was not sent|earlier request/i, "the sentence says the command was not sent and why");
    assert.equal(d.pending, 0, "the queue is empty");

    // The next request is the probe; the device's answer puts the queue back to normal.
    await d.request("GET", NS.ALL, {}, { timeoutMs: 10_000 });
    const after = await Promise.all([d.setToggle(0, true), d.setToggle(0, false)]);
    assert.deepEqual(
      after.map((s) => s.on),
      [true, false],
    );
    assert.equal(sim!.state.channels[0].on, false);
  });

  it("passes each request's stop signal down to the transport", async () => {
    const w = wire!;
    await device!.setToggle(0, true);
    const last = w.signals[w.signals.length - 1];
    assert.ok(last instanceof AbortSignal, "the transport got the queue's signal");
    assert.equal(last.aborted, false);
  });

  it("never sends a waiting request whose owner closed, nor any waiting request once the session closed", async () => {
    const w = wire!;
    // A patient session: the slow first answer must not count as the device hanging here.
    const d = new MerossDevice({ transport: w, key: KEY, timeoutMs: 10_000 });
    await d.ready();
    sim!.setFault({ kind: "delay", ms: 150 }, { count: 1 });
    const owner = new AbortController();
    const first = d.setToggle(0, true, { signal: owner.signal });
    const queued = Array.from({ length: 5 }, () => d.setToggle(0, false, { signal: owner.signal }));
    const others = Array.from({ length: 3 }, () => d.setToggle(0, true));
    await until(() => d.pending === 9);
    const before = w.sent;
    owner.abort();
    const settled = await Promise.allSettled(queued);
    assert.deepEqual(settled.map(codeOf), Array(5).fill("CANCELLED"));
    await first;
    await Promise.all(others);
    assert.ok(w.sent - before <= 3, `only the other owner's 3 commands went out after the abort (${w.sent - before})`);
    assert.equal(sim!.state.channels[0].on, true, "the cancelled 'off' commands never reached the device");

    sim!.setFault({ kind: "delay", ms: 150 }, { count: 1 });
    const running = d.setToggle(0, false);
    const waiting = Array.from({ length: 4 }, () => d.setToggle(0, false));
    await until(() => d.pending === 5);
    const sentBeforeClose = w.sent;
    await d.close();
    assert.deepEqual((await Promise.allSettled(waiting)).map(codeOf), Array(4).fill("CANCELLED"));
    await running.catch(() => undefined);
    assert.ok(w.sent - sentBeforeClose <= 1, "nothing waiting went out after close");
  });

  it("a closed session refuses new requests at once with a sentence, and sends nothing", async () => {
    const w = wire!;
    const d = new MerossDevice({ transport: w, key: KEY });
    await d.ready();
    await d.close();
    const before = w.sent;
    const err = await d.setToggle(0, true).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof MerossError, "a MerossError");
    assert.equal(err.code, "CANCELLED");
    assert.match(err.message, /closed/);
    assert.equal(w.sent, before, "nothing went out");
  });
});
