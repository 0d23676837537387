/**
 * `meross schedule`: the timers and auto-off triggers a device keeps and runs itself
 * (docs/protocol-devices.md §18). Every action prints the resulting list as JSON.
 */
import {
  MerossDevice,
  addTimer,
  addTrigger,
  changeSchedule,
  deleteSchedule,
  describeSunRule,
  listSchedules,
  parsePlace,
  retimeSunTimers,
  type Json,
  HTTP_TIMEOUT_MS,
} from "../core";
import { EXIT_OK, KEY_OPTIONS, UsageError, intOption, keyFrom, parse, printJson, reportError, str, timeoutMs, type CliIo } from "./io";

export const SCHEDULE_HELP = `Usage: meross schedule <device[:port]> list [--channel N]
       meross schedule <device[:port]> add timer --time HH:MM (--on | --off) [--days DAYS] [--channel N] [--name TEXT] [--disabled]
       meross schedule <device[:port]> add auto-off --minutes M [--days DAYS] [--channel N] [--name TEXT] [--disabled]
       meross schedule <device[:port]> change <id> [--time HH:MM] [--on | --off] [--minutes M] [--days DAYS] [--enabled | --disabled]
       meross schedule <device[:port]> delete <id>
       meross schedule <device[:port]> retime [--lat DEG --lon DEG]

Reads and programs the schedules a plug or bulb keeps on the device itself: weekly timers
that switch it on or off at a time of day, and auto-off rules that switch it off some
minutes after it was turned on. The device runs them on its own clock, with no computer
involved. Each action prints the device's resulting list as JSON ({timers, triggers}).

Sunrise/sunset timers (--time sunrise, sunrise+30, sunset-15 …) are written as ordinary
timers at today's sun time, with the rule kept in their name ("@sunset-15"): how firmware
stores its own sun timers is not published. "retime" moves them to today's sun time; run it
daily (cron), or let a meross-schedule node in Node-RED do it. The place comes from --lat and
--lon, else from the device (set by the Meross app; a device set up without it does not know).

Arguments:
  device[:port]   IP address or host name of the device, optionally with :port (default port 80)
  id              the id of a timer or trigger, as "list" prints it

Options:
  --time HH:MM    time of day on a 24-hour clock, in the device's local time; or sunrise,
                  sunset, with an offset in minutes: sunrise+30, sunset-15 (at most 360)
  --lat, --lon    where the device is, in degrees (north and east positive), for sun timers
  --on, --off     what the timer does
  --minutes M     auto-off delay in minutes after the device turned on (above 0, at most 1440)
  --days DAYS     comma-separated sun,mon,tue,wed,thu,fri,sat, or weekdays, weekend, everyday
                  (default everyday)
  --channel N     outlet of a power strip, counted from 0 (default 0); with list, only that outlet
  --name TEXT     a label stored with the entry
  --enabled, --disabled  switch an entry on or pause it without deleting it
  --key K         signing key (default: $MEROSS_KEY)
  --key-file F    read the signing key from file F instead (keeps it out of shell history)
  --timeout S     seconds to wait for each reply (default ${HTTP_TIMEOUT_MS / 1000})
  -h, --help      show this help

Exit status: 0 done; 1 the device refused or answered with an unusable reply; 2 bad
arguments (a time like 25:00, an unknown day, an id the device does not hold), timeout
or device unreachable.

Examples:
  meross schedule 192.168.1.148 add timer --time 07:30 --on --days mon,tue --key-file ~/.meross-key
  meross schedule 192.168.1.148 add auto-off --minutes 30
  meross schedule 192.168.1.148 add timer --time sunset-15 --on --lat 51.5 --lon -0.13
  meross schedule 192.168.1.148 delete 3k9x0c1mzq7e2b4a
`;

const OPTIONS = {
  ...KEY_OPTIONS,
  timeout: { type: "string" },
  time: { type: "string" },
  on: { type: "boolean" },
  off: { type: "boolean" },
  minutes: { type: "string" },
  days: { type: "string" },
  channel: { type: "string" },
  name: { type: "string" },
  enabled: { type: "boolean" },
  disabled: { type: "boolean" },
  lat: { type: "string" },
  lon: { type: "string" },
} as const;

type Values = ReturnType<typeof parse>["values"];

function minutesOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--minutes "${v}" is not valid: give the minutes after switching on, above 0, for example --minutes 30.`);
  }
  return n;
}

/** The flags as the core's input object; only the flags given (a change keeps the rest). */
function fields(values: Values): Json {
  if (values.on === true && values.off === true) throw new UsageError("give either --on or --off, not both");
  if (values.enabled === true && values.disabled === true) throw new UsageError("give either --enabled or --disabled, not both");
  const out: Json = {};
  const time = str(values, "time");
  if (time !== undefined) out.time = time;
  if (values.on === true) out.on = true;
  if (values.off === true) out.on = false;
  const days = str(values, "days");
  if (days !== undefined) out.days = days;
  const channel = intOption("channel", str(values, "channel"), 0, 255);
  if (channel !== undefined) out.channel = channel;
  const name = str(values, "name");
  if (name !== undefined) out.name = name;
  if (values.enabled === true) out.enabled = true;
  if (values.disabled === true) out.enabled = false;
  const minutes = minutesOf(str(values, "minutes"));
  if (minutes !== undefined) out.afterOnMinutes = minutes;
  return out;
}

function only(input: Json, allowed: string[], what: string): void {
  const flag: Record<string, string> = { afterOnMinutes: "--minutes", on: "--on/--off", enabled: "--enabled/--disabled" };
  const stray = Object.keys(input).find((k) => !allowed.includes(k));
  if (stray) throw new UsageError(`${flag[stray] ?? `--${stray}`} does not apply to ${what}`);
}

export async function scheduleCommand(argv: string[], io: CliIo): Promise<number> {
  let device: MerossDevice | undefined;
  try {
    const { values, positionals } = parse(argv, OPTIONS);
    if (values.help) {
      io.stdout.write(SCHEDULE_HELP);
      return EXIT_OK;
    }
    const [address, action, arg, ...extra] = positionals;
    if (address === undefined || action === undefined) {
      throw new UsageError("expected a device and an action (list, add, change, delete or retime)");
    }
    const input = fields(values);
    const ms = timeoutMs(str(values, "timeout"), HTTP_TIMEOUT_MS / 1000);
    const place = parsePlace(str(values, "lat"), str(values, "lon"));
    const run = async (d: MerossDevice): Promise<void> => {
      if (action === "list") {
        only(input, ["channel"], "list");
        if (arg !== undefined) throw new UsageError(`list takes no further argument, got "${arg}"`);
        return;
      }
      if (action === "add") {
        if (arg === "timer") {
          only(input, ["time", "on", "days", "channel", "name", "enabled"], "a timer (use auto-off for --minutes)");
          await addTimer(d, input, { place });
        } else if (arg === "auto-off") {
          only(input, ["afterOnMinutes", "days", "channel", "name", "enabled"], "an auto-off rule");
          await addTrigger(d, input);
        } else throw new UsageError(`add what? give "timer" or "auto-off", got ${arg === undefined ? "nothing" : `"${arg}"`}`);
        return;
      }
      if (action === "change" || action === "delete") {
        if (arg === undefined) throw new UsageError(`${action} needs the id of a timer or trigger, as "list" prints it`);
        if (action === "delete") {
          only(input, [], "delete");
          const { deleted } = await deleteSchedule(d, arg);
          // Firmware without DELETE: the entry was paused instead; say so, the list still shows it.
          if (!deleted) io.stderr.write(`meross schedule: this device refused to delete ${arg}, so it was disabled instead\n`);
        } else await changeSchedule(d, arg, input, { place });
        return;
      }
      if (action === "retime") {
        only(input, [], "retime");
        if (arg !== undefined) throw new UsageError(`retime takes no further argument, got "${arg}"`);
        const { moved, skipped } = await retimeSunTimers(d, { place });
        for (const t of moved) io.stderr.write(`meross schedule: ${t.id} moved to ${t.time} (${describeSunRule(t.sun!)})\n`);
        for (const t of skipped) io.stderr.write(`meross schedule: ${t.id} not re-timed: ${t.reason}\n`);
        return;
      }
      throw new UsageError(`"${action}" is not an action: use list, add, change, delete or retime`);
    };
    if (extra.length > 0) throw new UsageError(`too many arguments: "${extra.join(" ")}"`);
    device = new MerossDevice({ address, key: keyFrom(values, io), timeoutMs: ms });
    await run(device);
    printJson(io, await listSchedules(device, action === "list" ? (input.channel as number | undefined) : undefined));
    return EXIT_OK;
  } catch (err) {
    return reportError(io, "schedule", err);
  } finally {
    await device?.close();
  }
}
