import assert from "node:assert/strict";
import brokerModule = require("../../src/nodes/meross-broker");
import onboardModule = require("../../src/nodes/meross-onboard");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, startDevice, onTab, CATCH_NODES, useRuntime, waitFor, collect } from "./helpers";
import { brokerNode, statuses } from "./broker-helpers";

const APP_KEY = "the-meross-account-key";
const NEW_KEY = "rebound-then-closed-key";

/**
 * Issue 19: a redeploy during the arrival wait must end the run of the closed node: it neither
 * reports (message, error, status) afterwards nor keeps waiting for the device.
 */
describe("meross-onboard closed while a run is in flight", function () {
  let sim: SimulatedDevice | undefined;

  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it("closing during the arrival wait cancels the run: no message, error or status from the closed node", async function () {
    this.timeout(20_000);
    sim = await startDevice({ model: "mss310", key: APP_KEY, appPaired: true, mqttReconnectMs: 50 });
    const flow = onTab(
      [brokerNode()],
      [
        {
          id: "o1",
          type: "meross-onboard",
          mode: "rebind",
          address: sim.address,
          // Nothing listens on port 1: the device never arrives, so the node waits its 2 s.
          mqttHost: "127.0.0.1",
          mqttPort: "1",
          userId: "7",
          broker: "b1",
          timeout: "2",
          wires: [["out"]],
        },
        { id: "out", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load([brokerModule, onboardModule], flow, { o1: { currentKey: APP_KEY, key: NEW_KEY } });
    const o1 = helper.getNode("o1");
    const st = statuses(o1);
    const sent = collect(helper.getNode("out"));
    const caught = collect(helper.getNode("caught"));
    o1.receive({ payload: 1 });
    await waitFor(() => st.some((s) => s.text === "waiting for device…"), 10_000, "the arrival wait");
    const before = { statuses: st.length, logs: helper.log().args.length };
    const started = Date.now();
    await new Promise<void>((resolve) => (o1 as unknown as { close(r: boolean): Promise<void> }).close(false).then(() => resolve()));
    // Past the 2 s arrival timeout: an uncancelled run would now report "did not arrive".
    await new Promise((r) => setTimeout(r, Math.max(0, 3_000 - (Date.now() - started))));
    assert.equal(sent.length, 0, "no message from the closed node");
    assert.equal(caught.length, 0, "no error from the closed node");
    assert.deepEqual(st.slice(before.statuses), [], "no status from the closed node");
    const logs = helper.log().args.slice(before.logs);
    const errors = logs.filter((a) => (a as Array<{ level?: number }>)[0]?.level === 20);
    assert.deepEqual(errors, [], "nothing logged as an error after the close");
  });
});
