/**
 * Regression tests for the light races of issue 19 (each failed against the code before the
 * light controller): a closed node's fade, a merged command outliving its newer submitter,
 * the coalescer's floor.
 */
import assert from "node:assert/strict";
import sinon from "sinon";
import { Coalescer } from "../../../src/core/coalescer";
import { LightController } from "../../../src/core/light/controller";
import type { MerossDevice } from "../../../src/core/session/device";
import type { LightState } from "../../../src/core/capabilities/light";

/** A bulb that answers every SET after 20 ms and records it. */
function fakeBulb() {
  const sets: Array<Record<string, unknown>> = [];
  const light: LightState = {
    channel: 0,
    on: true,
    capacity: 5,
    rgb: 0xffffff,
    temperature: 50,
    luminance: 10,
    mode: "temperature",
  } as LightState;
  const device = {
    address: "127.0.0.1",
    info: { model: "msl120", uuid: "u" },
    abilities: { "Appliance.Control.Light": {} },
    light,
    toggles: new Map<number, boolean>(),
    state: { light, toggles: new Map() },
    lightCapacity: 7,
    has: () => true,
    scoped: () => device,
    getLight: async () => ({ ...light }),
    setLight: async (cmd: Record<string, unknown>, opts: { signal?: AbortSignal } = {}) => {
      if (opts.signal?.aborted) throw new Error("aborted");
      sets.push(cmd);
      await new Promise((r) => setTimeout(r, 20));
      Object.assign(light, Object.fromEntries(Object.entries(cmd).filter(([, v]) => v !== undefined)));
      return { ...light };
    },
  };
  return { sets, device: device as unknown as MerossDevice };
}

/** What a node would send on: a state to put in msg.payload. */
function isResult(v: unknown): boolean {
  return typeof v === "object" && v !== null && ("payload" in v || (v as { status?: unknown }).status === "done");
}

describe("light races (issue 19)", () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
  });
  afterEach(() => clock.restore());

  it("a node closed 300 ms into a 3 s fade sends nothing more and its fade ends as cancelled", async () => {
    const { sets, device } = fakeBulb();
    const controller = new LightController(async () => device);
    const closing = new AbortController();
    let settled: unknown = "pending";
    void controller.run({ luminance: 90, transition: 3000 }, { signal: closing.signal }).then(
      (r) => (settled = r),
      (e: unknown) => (settled = e),
    );
    await clock.tickAsync(300);
    const before = sets.length;
    assert.ok(before > 0, "the fade had started");
    closing.abort();
    await clock.tickAsync(200);
    assert.notEqual(settled, "pending", "the fade stopped with its node, not 2.7 s later");
    await clock.tickAsync(4000);
    assert.ok(sets.length <= before + 1, `no new steps after close (${before} before, ${sets.length} after)`);
    assert.notEqual(device.light?.luminance, 90, "the fade never reached its target");
    assert.equal(isResult(settled), false, `nothing for the closed node to send (got ${JSON.stringify(settled)})`);
  });

  it("a wall clock set back an hour mid-fade (NTP at boot) neither stalls the fade nor the command behind it", async () => {
    const { sets, device } = fakeBulb();
    const controller = new LightController(async () => device);
    const fading = controller.run({ luminance: 90, transition: 3000 });
    await clock.tickAsync(300);
    clock.setSystemTime(Date.now() - 3_600_000);
    await clock.tickAsync(3500);
    assert.equal((await fading).status, "done", "the fade ended on time");
    assert.equal(device.light?.luminance, 90);
    const before = sets.length;
    const next = controller.run({ luminance: 40 });
    await clock.tickAsync(200);
    assert.equal((await next).status, "done");
    assert.equal(sets.length, before + 1, "the next command went out within one gap");
  });

  it("dispose() (the config closing) stops the fade and refuses what comes after", async () => {
    const { sets, device } = fakeBulb();
    const controller = new LightController(async () => device);
    const fading = controller.run({ luminance: 90, transition: 3000 });
    await clock.tickAsync(300);
    assert.equal(
      controller.afterFade(() => undefined),
      true,
      "a fade plays",
    );
    controller.dispose();
    await clock.tickAsync(200);
    const before = sets.length;
    assert.deepEqual(await fading, { status: "cancelled" });
    assert.deepEqual(await controller.run({ luminance: 40 }), { status: "cancelled" });
    await clock.tickAsync(4000);
    assert.equal(sets.length, before, "nothing is sent after dispose");
  });

  it("a merged command still runs when its newer submitter closes while an older one still wants it", async () => {
    const seen: Array<Record<string, unknown>> = [];
    const c = new Coalescer<Record<string, unknown>, number>({
      execute: async (cmd, signal) => {
        if (signal?.aborted) throw new Error("aborted");
        seen.push(cmd);
        await new Promise((r) => setTimeout(r, 50));
        return 1;
      },
      merge: (a, b) => ({ ...a, ...b }),
    });
    const running = c.submit({ level: 1 });
    const nodeA = new AbortController();
    const nodeB = new AbortController();
    const a = c.submit({ colour: "red" }, { signal: nodeA.signal });
    const b = c.submit({ level: 40 }, { signal: nodeB.signal });
    assert.deepEqual(await a, { status: "superseded" }, "A's colour lives on in the merged command");
    nodeB.abort(); // B redeployed
    await clock.tickAsync(500);
    await running;
    assert.equal((await b).status, "done", "the merged command ran (B's node, closed, sends nothing for it)");
    assert.deepEqual(seen, [{ level: 1 }, { colour: "red", level: 40 }], "A's colour (with B's level) is applied");
  });

  it("a merged command is dropped once every submitter that wants it has closed", async () => {
    const seen: Array<Record<string, unknown>> = [];
    const c = new Coalescer<Record<string, unknown>, number>({
      execute: async (cmd) => {
        seen.push(cmd);
        await new Promise((r) => setTimeout(r, 50));
        return 1;
      },
      merge: (a, b) => ({ ...a, ...b }),
    });
    const running = c.submit({ level: 1 });
    const nodeA = new AbortController();
    const nodeB = new AbortController();
    void c.submit({ colour: "red" }, { signal: nodeA.signal });
    const b = c.submit({ level: 40 }, { signal: nodeB.signal });
    nodeB.abort();
    nodeA.abort();
    assert.deepEqual(await b, { status: "cancelled" });
    await clock.tickAsync(500);
    await running;
    assert.deepEqual(seen, [{ level: 1 }], "nothing runs for nodes that are all gone");
  });

  it("never starts two executions closer than the minimum gap, even for a steady 30 ms stream", async () => {
    const starts: number[] = [];
    const c = new Coalescer<{ level: number }, number>({
      execute: async () => {
        starts.push(Date.now());
        await new Promise((r) => setTimeout(r, 5));
        return 1;
      },
      merge: (_a, b) => b,
    });
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 67; i++) {
      all.push(c.submit({ level: i }));
      await clock.tickAsync(30);
    }
    await clock.tickAsync(500);
    await Promise.all(all);
    const gaps = starts.slice(1).map((s, i) => s - starts[i]);
    assert.ok(Math.min(...gaps) >= 55, `every gap is at least 55 ms (smallest ${Math.min(...gaps)} ms)`);
    assert.ok(starts.length <= 40, `about 20 a second at most: ${starts.length} executions in 2 s`);
  });
});
