/**
 * msg.payload of meross-schedule: which action on the device's timers and auto-off triggers.
 * Field checks (times, days, minutes) are the core's (core/capabilities/schedule-fields.ts);
 * this only sorts the message into one action, or a BAD_INPUT sentence saying what to send.
 */
import { MerossError, describeValue, isObject, type Json } from "../../core";

export type ScheduleCommand =
  | { action: "list" }
  | { action: "add"; kind: "timer" | "trigger"; input: Json }
  | { action: "change"; id: unknown; input: Json }
  | { action: "delete"; id: unknown }
  | { action: "retime" };

const ACCEPTED =
  'Send {"action":"list"}, {"action":"add","timer":{"days":["mon"],"time":"07:30","on":true}}, ' +
  '{"action":"add","timer":{"time":"sunset-15","on":true}}, {"action":"add","trigger":{"afterOnMinutes":30}}, ' +
  '{"action":"change","id":"…","time":"08:00"}, {"action":"delete","id":"…"} or {"action":"retime"}.';

function bad(text: string): MerossError {
  return new MerossError("BAD_INPUT", `${text} ${ACCEPTED}`);
}

/** `channel`: the node's Outlet setting, used by an add that names none. */
export function parseScheduleCommand(payload: unknown, channel: number | undefined): ScheduleCommand {
  if (typeof payload === "string" && payload.trim().toLowerCase() === "list") return { action: "list" };
  if (!isObject(payload)) throw bad(`msg.payload ${describeValue(payload)} is not a schedule command.`);
  const action = payload.action;
  switch (action) {
    case "list":
      return { action: "list" };
    case "add": {
      const kind = isObject(payload.timer) ? "timer" : isObject(payload.trigger) ? "trigger" : undefined;
      if (!kind || (payload.timer !== undefined && payload.trigger !== undefined)) {
        throw bad('An "add" needs either a "timer" object or a "trigger" object.');
      }
      const input = { ...(payload[kind] as Json) };
      if (input.channel === undefined && channel !== undefined) input.channel = channel;
      return { action: "add", kind, input };
    }
    case "change": {
      const { action: _a, id, timer, trigger, ...rest } = payload;
      const input = isObject(timer) ? timer : isObject(trigger) ? trigger : rest;
      return { action: "change", id, input };
    }
    case "delete":
      return { action: "delete", id: payload.id };
    case "retime":
      return { action: "retime" };
    default:
      throw bad(`The action ${describeValue(action)} is not one meross-schedule knows.`);
  }
}
