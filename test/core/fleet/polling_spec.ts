import assert from "node:assert/strict";
import { NS } from "../../../src/core/session/device";
import type { DeviceSession } from "../../../src/core/capabilities/types";
import type { Envelope } from "../../../src/core/protocol/message";
import { MerossError } from "../../../src/core/errors";
import { Poller } from "../../../src/core/fleet/polling";
import { NS_ELECTRICITY } from "../../../src/core/capabilities/electricity";
import sinon from "sinon";

/** A session that answers each GET with a canned reply and records what was read. */
function fakeDevice(opts: { abilities: string[]; channels?: number[]; fail?: unknown }): { device: DeviceSession; reads: string[] } {
  const reads: string[] = [];
  const replies: Record<string, Record<string, unknown>> = {
    [NS.TOGGLEX]: { togglex: (opts.channels ?? [0]).map((channel) => ({ channel, onoff: 0 })) },
    [NS.TOGGLE]: { toggle: { onoff: 0 } },
    [NS.LIGHT]: { light: { channel: 0, capacity: 4, luminance: 50 } },
    [NS_ELECTRICITY]: { electricity: { channel: 0, current: 100, voltage: 2300, power: 5000 } },
  };
  const state = { abilities: Object.fromEntries(opts.abilities.map((ns) => [ns, {}])), toggles: new Map<number, boolean>() };
  for (const c of opts.channels ?? []) state.toggles.set(c, false);
  const device: DeviceSession = {
    address: "127.0.0.1",
    state,
    has: (ns: string) => opts.abilities.includes(ns),
    ready: () => Promise.resolve(),
    rereadDigest: () => Promise.resolve(),
    commit: (u) => void u(state),
    request: async (method, namespace, payload = {}) => {
      const ch = (payload.togglex as { channel?: number } | undefined)?.channel;
      reads.push(namespace === NS.LIGHT ? "light" : namespace === NS_ELECTRICITY ? "electricity" : `toggle ${ch ?? 0}`);
      if (opts.fail) throw opts.fail;
      return { header: { method: "GETACK", namespace } as Envelope["header"], payload: replies[namespace] ?? {} };
    },
  };
  return { device, reads };
}

function poller(device: DeviceSession | Promise<DeviceSession>, skip = false) {
  const online: boolean[] = [];
  const failed: unknown[] = [];
  const p = new Poller({
    intervalMs: 60_000,
    device: () => Promise.resolve(device),
    skip: () => skip,
    online: (o) => online.push(o),
    failed: (e) => failed.push(e),
  });
  return { p, online, failed };
}

describe("Poller (reading devices that never push)", () => {
  it("reads every known channel and the light, then reports the device online", async () => {
    const { device, reads } = fakeDevice({ abilities: [NS.TOGGLEX, NS.LIGHT], channels: [0, 2] });
    const { p, online, failed } = poller(device);
    await p.pollOnce();
    assert.deepEqual(reads, ["toggle 0", "toggle 2", "light"]);
    assert.deepEqual(online, [true]);
    assert.deepEqual(failed, []);
    assert.equal(p.polling, false);
  });

  it("reads channel 0 of a plug whose channels are not known yet", async () => {
    const { device, reads } = fakeDevice({ abilities: [NS.TOGGLE] });
    await poller(device).p.pollOnce();
    assert.deepEqual(reads, ["toggle 0"]);
  });

  it("reports an unreachable device offline, and any other failure as a failure", async () => {
    const away = poller(fakeDevice({ abilities: [NS.TOGGLEX], fail: new MerossError("TIMEOUT", "no answer") }).device);
    await away.p.pollOnce();
    assert.deepEqual(away.online, [false]);
    const wrongKey = new MerossError("WRONG_KEY", "the key is wrong");
    const broken = poller(fakeDevice({ abilities: [NS.TOGGLEX], fail: wrongKey }).device);
    await broken.p.pollOnce();
    assert.deepEqual(broken.online, []);
    assert.deepEqual(broken.failed, [wrongKey]);
  });

  it("does not read while pushes cover the device", async () => {
    const { device, reads } = fakeDevice({ abilities: [NS.TOGGLEX] });
    const { p, online } = poller(device, true);
    await p.pollOnce();
    assert.deepEqual(reads, []);
    assert.deepEqual(online, []);
  });

  it("runs one poll at a time and marks the changes it causes as coming from the poll", async () => {
    let release: (d: DeviceSession) => void = () => undefined;
    const { device, reads } = fakeDevice({ abilities: [NS.TOGGLEX] });
    const p = new Poller({
      intervalMs: 60_000,
      device: () => new Promise<DeviceSession>((r) => (release = r)),
      online: () => undefined,
      failed: () => undefined,
    });
    const first = p.pollOnce();
    assert.equal(p.polling, true);
    await p.pollOnce();
    release(device);
    await first;
    assert.deepEqual(reads, ["toggle 0"], "the overlapping poll was skipped");
    p.start();
    p.stop();
  });

  it("one timer serves every subscriber: each on its own interval, one read per tick for all that are due (meross-state and meross-energy on one device)", async () => {
    const clock = sinon.useFakeTimers();
    try {
      const { device, reads } = fakeDevice({ abilities: [NS.TOGGLEX, NS_ELECTRICITY] });
      const p = new Poller({ device: () => Promise.resolve(device) });
      const watts: number[] = [];
      const failed: unknown[] = [];
      // Like meross-state (every family, 3 s) and meross-energy (electricity only, 1 s).
      const offState = p.subscribe({ intervalMs: 3000, failed: (e) => failed.push(e) });
      const offEnergy = p.subscribe({
        intervalMs: 1000,
        which: (c) => c.name === "electricity",
        more: (d) => void watts.push(d.state.electricity?.get(0)?.power ?? NaN),
        failed: (e) => failed.push(e),
      });
      assert.equal(clock.countTimers(), 1, "one timer for both");
      const ticks: string[][] = [];
      for (let i = 0; i < 3; i++) {
        await clock.tickAsync(1000);
        ticks.push(reads.splice(0).sort());
      }
      assert.deepEqual(ticks, [["electricity"], ["electricity"], ["electricity", "toggle 0"]], "the shared tick reads electricity once");
      assert.deepEqual(watts, [5, 5, 5], "the energy reader got each reading");
      assert.deepEqual(failed, []);
      offEnergy();
      await clock.tickAsync(3000);
      assert.deepEqual(reads.sort(), ["electricity", "toggle 0"], "after one unsubscribes, the other keeps its own interval");
      offState();
      assert.equal(clock.countTimers(), 0, "no subscriber, no timer");
    } finally {
      clock.restore();
    }
  });
});
