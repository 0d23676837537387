import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { run } from "../../src/cli/index";
import { SimulatedDevice } from "../../src/simulator/device";
import { MerossDevice } from "../../src/core/session/device";
import { memIo } from "./helpers";

interface Listed {
  timers: Array<{ id: string; time: string; days: string[]; on: boolean; enabled: boolean; channel: number }>;
  triggers: Array<{ id: string; afterOnMinutes: number }>;
}

/** 2024-01-01 was a Monday; 06:00 in the simulator's local time. */
const KEY = "sched-key-0077";
const MONDAY_0600 = Date.UTC(2024, 0, 1, 6, 0) / 1000;

describe("meross schedule", () => {
  let dev: SimulatedDevice;
  beforeEach(async () => {
    dev = await SimulatedDevice.start({ model: "mss310", key: KEY, host: "127.0.0.1", port: 0 });
    dev.setClock(MONDAY_0600);
  });
  afterEach(async () => {
    await dev.stop();
  });

  type Result = { code: number; out: string; err: string };
  async function cli(args: string[], env: Record<string, string> = { MEROSS_KEY: KEY }): Promise<Result> {
    const m = memIo(env);
    const code = await run(["schedule", ...args], m.io);
    return { code, out: m.out(), err: m.err() };
  }

  it("--help explains every action on stdout and exits 0", async () => {
    const r = await cli(["--help"]);
    assert.equal(r.code, 0);
    for (const word of ["list", "add timer", "add auto-off", "change <id>", "delete <id>", "--key-file"]) {
      assert.ok(r.out.includes(word), word);
    }
  });

  it("adds, lists, changes and deletes, printing the resulting list each time", async () => {
    let r = await cli([dev.address, "add", "timer", "--time", "07:30", "--on", "--days", "mon,tue", "--name", "wake"]);
    assert.equal(r.code, 0, r.err);
    let listed = JSON.parse(r.out) as Listed;
    assert.deepEqual(
      listed.timers.map((t) => [t.time, t.days, t.on]),
      [["07:30", ["mon", "tue"], true]],
    );
    const id = listed.timers[0].id;

    r = await cli([dev.address, "add", "auto-off", "--minutes", "30"]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      (JSON.parse(r.out) as Listed).triggers.map((t) => t.afterOnMinutes),
      [30],
    );

    r = await cli([dev.address, "change", id, "--time", "06:45", "--disabled"]);
    assert.equal(r.code, 0, r.err);
    listed = JSON.parse(r.out) as Listed;
    assert.deepEqual(
      listed.timers.map((t) => [t.time, t.enabled]),
      [["06:45", false]],
    );

    r = await cli([dev.address, "delete", id]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual((JSON.parse(r.out) as Listed).timers, []);

    r = await cli([dev.address, "list"]);
    assert.equal(r.code, 0, r.err);
    assert.equal((JSON.parse(r.out) as Listed).triggers.length, 1);
  });

  it("reads the key from --key-file and the auto-off rule it sets runs on the device", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "meross-sched-"));
    const file = path.join(dir, "key");
    await fs.writeFile(file, `${KEY}\n`);
    try {
      const r = await cli([dev.address, "add", "auto-off", "--minutes", "15", "--key-file", file], {});
      assert.equal(r.code, 0, r.err);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    dev.setOnOff(true);
    dev.advanceClock(15 * 60);
    assert.equal(dev.state.channels[0].on, false);
  });

  it("bad input exits 2 with one line naming the value; the key never shows", async () => {
    const cases: Array<[string[], RegExp]> = [
      [[dev.address, "add", "timer", "--time", "25:00", "--on"], /"25:00" is not a time of day/],
      [[dev.address, "add", "timer", "--time", "07:00", "--on", "--days", "mon,funday"], /"funday" is not a day of the week/],
      [[dev.address, "add", "auto-off", "--minutes=-5"], /--minutes "-5" is not valid/],
      [[dev.address, "add", "auto-off", "--minutes", "5000"], /"afterOnMinutes" 5000 must be a number of minutes above 0 and at most 1440/],
      [[dev.address, "add", "timer", "--time", "07:00", "--on", "--off"], /either --on or --off/],
      [[dev.address, "add", "timer", "--minutes", "5"], /--minutes does not apply to a timer/],
      [[dev.address, "add", "lamp"], /give "timer" or "auto-off", got "lamp"/],
      [[dev.address, "purge"], /"purge" is not an action/],
      [[dev.address, "delete"], /delete needs the id/],
      [[dev.address, "delete", "nosuchid00000000"], /no timer or trigger with id "nosuchid00000000"/],
      [[dev.address], /expected a device and an action/],
      [[dev.address, "add", "timer", "--time", "sunset-15", "--on"], /does not know where it is.*--lat and --lon/],
      [[dev.address, "add", "timer", "--time", "sunset", "--on", "--lat", "91", "--lon", "0"], /latitude "91" must be degrees/],
      [[dev.address, "retime", "--on"], /--on\/--off does not apply to retime/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
      assert.match(r.err, re);
      assert.match(r.err, /^meross schedule: /);
      assert.equal(r.err.trimEnd().split("\n").length, 1);
      assert.ok(!r.err.includes(KEY), r.err);
    }
    assert.deepEqual(dev.schedules, { timers: [], triggers: [] });
  });

  it("a wrong key exits 1 and says the key is wrong", async () => {
    const r = await cli([dev.address, "list", "--key", "wrongkey"], {});
    assert.equal(r.code, 1);
    assert.match(r.err, /the key is wrong/);
    assert.ok(!r.err.includes("wrongkey"));
  });

  it("a sunset timer from --time sunset-15 --lat --lon, moved by retime after it drifted", async () => {
    const place = ["--lat", "51.5074", "--lon", "-0.1278"];
    let r = await cli([dev.address, "add", "timer", "--time", "sunset-15", "--on", "--name", "Porch", ...place]);
    assert.equal(r.code, 0, r.err);
    const [t] = (JSON.parse(r.out) as { timers: Array<{ id: string; alias: string; time: string; minutes: number }> }).timers;
    assert.equal(t.alias, "Porch @sunset-15");

    r = await cli([dev.address, "retime", ...place]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, "", "nothing moved: it is already on time");

    // The device still has an old time (say, last month's).
    const d = new MerossDevice({ address: dev.address, key: KEY });
    await d.request("SET", "Appliance.Control.TimerX", { timerx: { ...dev.schedules.timers[0], time: 0 } });
    await d.close();
    r = await cli([dev.address, "retime", ...place]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`moved to ${t.time} \\(15 min before sunset\\)`));
    assert.equal(dev.schedules.timers[0].time, t.minutes);
  });
});
