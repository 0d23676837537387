/**
 * meross-schedule's controller: runs one parsed command on the device and reads the resulting
 * list, and keeps sunrise/sunset timers on today's sun time (a re-time as soon as the device
 * answers after a deploy, then every SUN_RETIME_INTERVAL_MS) until the node closes. The node keeps
 * its properties, status and msg.
 */
import {
  SUN_RETIME_INTERVAL_MS,
  addTimer,
  addTrigger,
  changeSchedule,
  deleteSchedule,
  listSchedules,
  type MerossDevice,
  type Place,
  type RetimeResult,
  type ScheduleList,
} from "../../core";
import type { ScheduleCommand } from "./schedule-input";

export interface ScheduleOutcome {
  list: ScheduleList;
  /** The entry added, changed or deleted. */
  id?: string;
  /** false: the firmware refused DELETE, so the entry was disabled instead (it is still listed). */
  deleted?: boolean;
  /** Ids of the sunrise/sunset timers a "retime" moved to today's sun time. */
  moved?: string[];
}

/** One command, then the device's list (of `channel`, or all). `retime` re-times this device's sun timers. */
export async function runSchedule(
  device: MerossDevice,
  command: ScheduleCommand,
  opts: { place?: Place; channel?: number; retime: () => Promise<RetimeResult> },
): Promise<ScheduleOutcome> {
  const { place } = opts;
  const out: Omit<ScheduleOutcome, "list"> = {};
  if (command.action === "add") {
    out.id = (command.kind === "timer" ? await addTimer(device, command.input, { place }) : await addTrigger(device, command.input)).id;
  } else if (command.action === "change") {
    out.id = (await changeSchedule(device, command.id, command.input, { place })).id;
  } else if (command.action === "retime") {
    out.moved = (await opts.retime()).moved.map((t) => t.id);
  } else if (command.action === "delete") {
    out.deleted = (await deleteSchedule(device, command.id)).deleted;
    out.id = String(command.id);
  }
  return { list: await listSchedules(device, opts.channel), ...out };
}

/** Re-times now and then on every interval; each result goes to `done` (failures wait for the next tick). Returns the stop. */
export function keepRetimed(retime: () => Promise<RetimeResult>, done: (r: RetimeResult) => void): () => void {
  // Unreachable now: the session's status says so, and the next tick tries again.
  const tick = (): void => void retime().then(done, () => undefined);
  tick();
  const every = setInterval(tick, SUN_RETIME_INTERVAL_MS);
  return () => clearInterval(every);
}
