import assert from "node:assert/strict";
import { MAX_SKEW_S, PushFreshness, RECENT_IDS, SYNCED_WITHIN_S } from "../../src/core/protocol/freshness";

const UUID = "2308085712920951080748e1e9d58442";
const NOW_MS = Date.UTC(2026, 11, 7, 12, 0, 0);
const NOW = NOW_MS / 1000;
let n = 0;
const id = (): string => String(++n).padStart(32, "0");

describe("push freshness (replayed and stale pushes)", () => {
  it("drops a push stamped in 2020 and a messageId seen before, with a reason", () => {
    const f = new PushFreshness();
    const old = f.check(UUID, { messageId: id(), timestamp: Date.UTC(2020, 5, 1) / 1000 }, NOW_MS);
    assert.match(old ?? "", /2020-06-01.*behind our clock/);
    const m = id();
    assert.equal(f.check(UUID, { messageId: m, timestamp: NOW }, NOW_MS), undefined);
    assert.match(f.check(UUID, { messageId: m, timestamp: NOW }, NOW_MS) ?? "", /already seen/);
  });

  it("tolerates a device counting seconds since boot, a clock off by a time zone, and that clock being corrected", () => {
    const f = new PushFreshness();
    assert.equal(f.check(UUID, { messageId: id(), timestamp: 483 }, NOW_MS), undefined);
    assert.equal(f.check(UUID, { messageId: id(), timestamp: "0" }, NOW_MS), undefined);
    assert.equal(f.check(UUID, { messageId: id(), timestamp: NOW + 10 * 3600 }, NOW_MS), undefined, "10 hours ahead");
    assert.notEqual(f.check(UUID, { messageId: id(), timestamp: NOW - MAX_SKEW_S - 60 }, NOW_MS), undefined);
    // Our broker set its clock: back to our time, and pushes hours older than that are replays.
    assert.equal(f.check(UUID, { messageId: id(), timestamp: NOW + 30 }, NOW_MS), undefined);
    assert.match(f.check(UUID, { messageId: id(), timestamp: NOW - 3 * 3600 }, NOW_MS) ?? "", /older than a push already seen/);
    // Another device has its own clock.
    assert.equal(f.check("another", { messageId: id(), timestamp: NOW - 3 * 3600 }, NOW_MS), undefined);
  });

  it("drops a push much older than one already seen from the device, even within the skew allowed", () => {
    const f = new PushFreshness();
    assert.equal(f.check(UUID, { messageId: id(), timestamp: NOW - 5 * 3600 }, NOW_MS), undefined);
    assert.match(f.check(UUID, { messageId: id(), timestamp: NOW - 5 * 3600 - SYNCED_WITHIN_S - 1 }, NOW_MS) ?? "", /older than/);
  });

  it("drops a replayed messageId whatever its form (hex, upper-case, free text)", () => {
    const f = new PushFreshness();
    for (const m of ["0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789ABCDEF", "msg-7"]) {
      assert.equal(f.check(UUID, { messageId: m, timestamp: NOW }, NOW_MS), undefined, m);
      assert.match(f.check(UUID, { messageId: m, timestamp: NOW }, NOW_MS) ?? "", /already seen/, m);
    }
    assert.equal(f.check(UUID, { messageId: "0123456789abcdef0123456789abcdee", timestamp: NOW }, NOW_MS), undefined, "one digit apart");
  });

  it("remembers a bounded number of messageIds per device", () => {
    const f = new PushFreshness();
    const first = id();
    f.check(UUID, { messageId: first, timestamp: 5 }, NOW_MS);
    for (let i = 0; i < RECENT_IDS; i++) f.check(UUID, { messageId: id(), timestamp: 5 }, NOW_MS);
    assert.equal(f.check(UUID, { messageId: first, timestamp: 5 }, NOW_MS), undefined, "the oldest id was forgotten");
  });

  it("keeps exactly the last RECENT_IDS ids, in order, as the window grows and wraps", () => {
    const f = new PushFreshness();
    const ids = Array.from({ length: 3 * RECENT_IDS + 7 }, () => id());
    const seen = (m: string): boolean => f.check(UUID, { messageId: m, timestamp: 5 }, NOW_MS) !== undefined;
    for (const m of ids) assert.equal(seen(m), false, "a new id is fresh");
    // Replays of the newest are caught (checking them adds nothing: they are refused before being recorded).
    for (const m of ids.slice(-RECENT_IDS)) assert.equal(seen(m), true, `replay of a recent id ${m}`);
    // The one just before them was forgotten, so is taken as new (and becomes the newest).
    assert.equal(seen(ids[ids.length - RECENT_IDS - 1]), false);
    assert.equal(seen(ids[ids.length - RECENT_IDS]), false, "which pushed the oldest remembered one out");
  });

  it("tells apart ids that differ in one character anywhere, for ids of any length", () => {
    const f = new PushFreshness();
    const base = "5f2c1a0e9d8b7c6a5f4e3d2c1b0a9f8e";
    for (let i = 0; i < base.length; i++) {
      const other = base.slice(0, i) + (base[i] === "0" ? "1" : "0") + base.slice(i + 1);
      assert.equal(f.check(UUID, { messageId: other, timestamp: 5 }, NOW_MS), undefined, `differs at ${i}`);
    }
    assert.equal(f.check(UUID, { messageId: base, timestamp: 5 }, NOW_MS), undefined);
    assert.equal(f.check(UUID, { messageId: "x", timestamp: 5 }, NOW_MS), undefined);
    assert.match(f.check(UUID, { messageId: "x", timestamp: 5 }, NOW_MS) ?? "", /already seen/);
  });
});
