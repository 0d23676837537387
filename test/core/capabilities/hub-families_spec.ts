import assert from "node:assert/strict";
import { MerossDevice } from "../../../src/core/session/device";
import { hubFromAll, noteSubDevices, parseHubPayload, readByIds, subDeviceType, SUBDEVICE_TYPES } from "../../../src/core/capabilities";
import type { MutableDeviceState } from "../../../src/core/capabilities";
import { MerossError } from "../../../src/core/errors";
import { parseEnvelopeText } from "../../../src/core/protocol/message";
import { SimulatedDevice } from "../../../src/simulator/device";

const KEY = "hub-families-key";

function fresh(): MutableDeviceState {
  return { toggles: new Map() };
}

describe("hub families (issue 20): digest seeding, types and scales, cut replies", () => {
  it("has one table entry per sub-device type of §14, each with its read namespace and scale", () => {
    const rows = SUBDEVICE_TYPES.map((t) => [t.key, t.model, t.kind, t.tempScale]);
    assert.deepEqual(rows, [
      ["ms100", "ms100", "sensor", 10],
      ["tempHumi", "ms130", "sensor", 100],
      ["mts100", "mts100", "valve", 10],
      ["mts100v3", "mts100v3", "valve", 10],
      ["mts150", "mts150", "valve", 10],
      ["doorWindow", "ms200", "contact", 10],
      ["smokeAlarm", "gs559", "smoke", 10],
      ["waterLeak", "ms400", "leak", 10],
    ]);
    assert.equal(subDeviceType("ms130")?.key, "tempHumi");
  });

  it("seeds sub-devices from System.All's digest.hub; an id listed twice (once offline and empty) is one device", () => {
    const all = {
      all: {
        digest: {
          hub: {
            hubId: 1,
            subdevice: [
              { id: "03004404", status: 0, onoff: 0, lastActiveTime: 0 },
              { id: "03004404", status: 1, onoff: 1, lastActiveTime: 5, mts150: { mode: 1, currentSet: 205 } },
              { id: "4B00C8A2E1F0", status: 1, onoff: 0, tempHumi: { latestTime: 5, temp: 2134, humi: 480 } },
            ],
          },
        },
      },
    };
    const state = fresh();
    noteSubDevices(state, hubFromAll(all), "reply");
    const subs = [...state.subdevices!.values()];
    assert.equal(subs.length, 2);
    assert.deepEqual([subs[0].type, subs[0].online, subs[0].valve?.currentSet], ["mts150", true, 20.5]);
    assert.deepEqual([subs[1].type, subs[1].temperature, subs[1].humidity], ["ms130", 21.34, 48]);
  });

  it("scales a Sensor.All temperature by the sub-device's type: ms130 hundredths, ms100 tenths", () => {
    const state = fresh();
    noteSubDevices(
      state,
      [
        { id: "A", type: "ms130" },
        { id: "B", type: "ms100" },
      ],
      "reply",
    );
    const payload = {
      all: [
        { id: "A", temperature: { latest: 2134, max: 600, min: -200 }, humidity: { latest: 480 } },
        { id: "B", temperature: { latest: 152, max: 500, min: -100 }, humidity: { latest: 710 } },
      ],
    };
    noteSubDevices(state, parseHubPayload("Appliance.Hub.Sensor.All", payload), "reply");
    assert.equal(state.subdevices!.get("A")!.temperature, 21.34);
    assert.equal(state.subdevices!.get("B")!.temperature, 15.2);
  });

  it("recognises a reply cut at the buffer as truncated; garbage, or a few bytes, is a plain bad reply", () => {
    const all = Array.from({ length: 40 }, (_, i) => ({ id: `0100${i}`, online: { status: 1 }, temperature: { room: 170, away: true } }));
    const whole = JSON.stringify({ header: { messageId: "m", method: "GETACK", namespace: "n" }, payload: { all } });
    for (let cut = 1024; cut < whole.length; cut += 7) {
      const err = (() => {
        try {
          parseEnvelopeText(whole.slice(0, cut), "h");
        } catch (e) {
          return e as MerossError;
        }
        return undefined;
      })();
      assert.equal(err?.details.truncated, true, `cut at ${cut}`);
      assert.match(err!.message, /truncated reply, cut off after \d+ bytes/);
    }
    const garbage = `${whole.slice(0, 2000)}<html>oops</html>`;
    const short = '{"half":';
    for (const text of [garbage, short])
      assert.throws(
        () => parseEnvelopeText(text, "h"),
        (e: MerossError) => e.code === "BAD_RESPONSE" && e.details.truncated === undefined,
      );
  });

  it("reads 16 valves asked all at once: the cut reply is answered by smaller batches, none lost", async () => {
    const sim = await SimulatedDevice.start({ model: "msh300hk-16", key: KEY, port: 0 });
    const device = new MerossDevice({ address: sim.address, key: KEY });
    try {
      await device.ready();
      const ids = [...device.state.subdevices!.keys()];
      assert.equal(ids.length, 16, "all 16 seeded from System.All");
      const replies: number[] = [];
      sim.on("request", (r: { namespace: string }) => void (r.namespace === "Appliance.Hub.Mts100.All" && replies.push(1)));
      await readByIds(device, "Appliance.Hub.Mts100.All", "all", ids, 16);
      assert.ok(replies.length >= 3, `one cut reply, then halves (${replies.length} requests)`);
      for (const id of ids) assert.equal(device.state.subdevices!.get(id)!.valve?.room, 17, id);
    } finally {
      await device.close();
      await sim.stop();
    }
  });
});
