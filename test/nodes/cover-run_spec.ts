import assert from "node:assert/strict";
import sinon from "sinon";
import type { CoverState, DeviceSession } from "../../src/core";
import { CoverRun } from "../../src/nodes/shared/cover-run";

const door = (state: CoverState["state"], channel = 0): CoverState => ({ kind: "garage", channel, state }) as CoverState;

describe("meross-cover's controller (shared/cover-run.ts)", () => {
  it("reports a change once, ignores other channels of a node with its own, and none after close", () => {
    const run = new CoverRun(0);
    assert.equal(run.reported(door("open"), "c1:0"), true);
    assert.equal(run.reported(door("open"), "c1:0"), false, "the same state is not repeated");
    assert.equal(run.reported(door("closed", 1), "c1:1"), false, "not this node's channel");
    run.close();
    assert.equal(run.reported(door("closed"), "c1:0"), false, "closed: nothing more");
  });

  it("a follow-up read waiting when the node closes never reaches the device (issue 19: close cancels cover follow-ups)", async () => {
    const clock = sinon.useFakeTimers();
    try {
      const run = new CoverRun(undefined);
      let asked = 0;
      const session = (): Promise<DeviceSession> => {
        asked++;
        return new Promise<DeviceSession>(() => undefined);
      };
      run.follow(session, 0, 20_000, () => undefined);
      await clock.tickAsync(5_000);
      run.close();
      await clock.tickAsync(200_000);
      assert.equal(asked, 0);
      run.follow(session, 0, 1_000, () => undefined);
      await clock.tickAsync(200_000);
      assert.equal(asked, 0, "and a closed controller schedules none");
    } finally {
      clock.restore();
    }
  });
});
