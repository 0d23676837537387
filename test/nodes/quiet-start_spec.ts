/**
 * Deployed and left alone, no node changes a device by itself: not at start, not after a start
 * delay or a sweep, not after minutes. The minutes pass on a fake clock (it still moves with real
 * time, so sockets and Node-RED run as usual), so this needs no quiet window in real time.
 */
import assert from "node:assert/strict";
import sinon from "sinon";
import configModule = require("../../src/nodes/meross-config");
import toggleModule = require("../../src/nodes/meross-toggle");
import lightModule = require("../../src/nodes/meross-light");
import requestModule = require("../../src/nodes/meross-request");
import stateModule = require("../../src/nodes/meross-state");
import energyModule = require("../../src/nodes/meross-energy");
import scheduleModule = require("../../src/nodes/meross-schedule");
import coverModule = require("../../src/nodes/meross-cover");
import climateModule = require("../../src/nodes/meross-climate");
import type { SimulatedDevice } from "../../src/simulator";
import type { MerossConfigNode } from "../../src/nodes/shared/types";
import { helper, KEY, startDevice, configNode, onTab, useRuntime, waitFor, nextMessage, CATCH_NODES } from "./helpers";

const MODULES = [
  configModule,
  toggleModule,
  lightModule,
  requestModule,
  stateModule,
  energyModule,
  scheduleModule,
  coverModule,
  climateModule,
];

describe("nodes left alone after a deploy", function () {
  this.timeout(30000);
  const sims: SimulatedDevice[] = [];
  useRuntime(async () => {
    for (const s of sims.splice(0)) await s.stop();
  });

  it("send a device no command in the three minutes after a deploy, only reads", async () => {
    const [plug, bulb, roller, thermostat] = await Promise.all(
      ["mss310", "msl120", "mrs100", "mts200b"].map((model) => startDevice({ model })),
    );
    sims.push(plug, bulb, roller, thermostat);
    const commands: string[] = [];
    const reads: string[] = [];
    for (const s of sims) {
      s.on("request", (r: { method: string; namespace: string }) =>
        (r.method === "GET" ? reads : commands).push(`${s.model.name} ${r.method} ${r.namespace}`),
      );
    }
    const realTimeout = setTimeout;
    const fake = sinon.useFakeTimers({
      shouldAdvanceTime: true,
      toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"],
    });
    try {
      const flow = onTab(
        [
          configNode("cp", plug.address),
          configNode("cb", bulb.address),
          configNode("cr", roller.address),
          configNode("ct", thermostat.address),
        ],
        [
          { id: "toggle", type: "meross-toggle", device: "cp", channel: "0", wires: [[]] },
          // One request node per device: a read through each, answered after whatever was queued before it.
          ...["cp", "cb", "cr", "ct"].flatMap((c) => [
            { id: `read-${c}`, type: "meross-request", device: c, wires: [[`out-${c}`]] },
            { id: `out-${c}`, type: "helper" },
          ]),
          { id: "energy", type: "meross-energy", device: "cp", pollInterval: "60", wires: [[]] },
          { id: "schedule", type: "meross-schedule", device: "cp", wires: [[]] },
          { id: "state", type: "meross-state", device: "cp", pollInterval: "30", wires: [[]] },
          { id: "light", type: "meross-light", device: "cb", wires: [[]] },
          { id: "cover", type: "meross-cover", device: "cr", wires: [[]] },
          { id: "climate", type: "meross-climate", device: "ct", wires: [[]] },
          ...CATCH_NODES,
        ],
      );
      const keys = { cp: { key: KEY }, cb: { key: KEY }, cr: { key: KEY }, ct: { key: KEY } };
      await helper.load(MODULES, flow, keys);
      // Every device is read once its node starts; then three minutes go by a second at a time, each
      // followed by a few real milliseconds so that a request a timer started reaches its device
      // (a jump of minutes at once would expire its deadline before the socket carried it).
      await waitFor(() => sims.every((s) => reads.some((r) => r.startsWith(`${s.model.name} `))), 15000, "every device to be read");
      const readsAtStart = reads.length;
      // After each second, real time until every request a timer started has been answered: on a
      // loaded machine a fixed few milliseconds let the next fake second expire it unsent.
      const configs = ["cp", "cb", "cr", "ct"].map((c) => helper.getNode(c) as unknown as MerossConfigNode);
      const idle = async (): Promise<void> => {
        for (let i = 0; i < 400 && configs.some((c) => (c.device?.pending ?? 0) > 0); i++) await new Promise((r) => realTimeout(r, 5));
      };
      for (let second = 0; second < 180; second++) {
        await fake.tickAsync(1000);
        await new Promise((r) => realTimeout(r, 2));
        await idle();
      }
      // The energy poll (every 60 s) is a node's own timer: its reads show the timers ran on the fake clock.
      const energyReads = reads.slice(readsAtStart).filter((r) => r.endsWith("Electricity")).length;
      assert.ok(energyReads >= 2, `the nodes' own timers ran on the fake clock (energy polls read the plug ${energyReads} times)`);
      // Whatever a timer set off is queued before these reads, so it has reached its device when they are answered.
      for (const c of ["cp", "cb", "cr", "ct"]) {
        const answered = nextMessage(helper.getNode(`out-${c}`));
        helper.getNode(`read-${c}`).receive({ topic: "Appliance.System.All", payload: {} });
        await answered;
      }
      assert.deepEqual(commands, [], `nodes sent commands nobody asked for: ${commands.join(", ")}`);
    } finally {
      fake.restore();
    }
  });
});
