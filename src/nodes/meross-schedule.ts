/**
 * meross-schedule: lists, adds, changes and deletes the timers and auto-off triggers a plug or
 * bulb keeps itself (docs/protocol-devices.md §18). The device runs them on its own clock, so
 * they keep working while Node-RED is stopped. Every action answers with the resulting list.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow, NodeStatus } from "node-red";
import { parsePlace, retimeSunTimers, type Place, type RetimeResult, type ScheduleList } from "../core";
import { isBlank, resolveChannel } from "./shared/inputs";
import { parseScheduleCommand } from "./shared/schedule-input";
import { keepRetimed, runSchedule } from "./shared/schedule-run";
import type { DeviceSourceDef } from "./shared/device-source";
import { linkToConfig, type Target } from "./shared/user-node";

interface ScheduleDef extends NodeDef, DeviceSourceDef {
  channel?: string | number;
  /** Where the device is, for sunrise/sunset timers when it does not know itself. */
  latitude?: string;
  longitude?: string;
  /** Keep sunrise/sunset timers on today's sun time (default true). */
  retime?: boolean;
}

function retimeStatus(r: RetimeResult): NodeStatus | undefined {
  if (r.skipped.length > 0) return { fill: "yellow", shape: "ring", text: `${r.skipped.length} sun timer(s) not re-timed` };
  const n = r.moved.length;
  return n > 0 ? { fill: "green", shape: "dot", text: `${n} sun timer${n === 1 ? "" : "s"} moved to today` } : undefined;
}

function countStatus(list: ScheduleList): NodeStatus {
  const t = list.timers.length;
  const a = list.triggers.length;
  return { fill: "green", shape: "dot", text: `${t} timer${t === 1 ? "" : "s"}, ${a} auto-off` };
}

type ScheduleMsg = NodeMessageInFlow & { meross?: unknown };

export = function (RED: NodeAPI): void {
  function MerossSchedule(this: Node, def: ScheduleDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = isBlank(def.channel) ? undefined : def.channel;

    const link = linkToConfig(RED, node, def, (ev) => {
      // Changed by the Meross app or by a one-shot timer: the last count may be stale.
      if (ev.type === "schedule") link.show({ fill: "yellow", shape: "dot", text: "changed on device" });
    });
    let place: Place | undefined;
    let placeError: unknown;
    try {
      place = parsePlace(def.latitude, def.longitude);
    } catch (err) {
      placeError = err;
      link.show({ fill: "red", shape: "ring", text: "latitude/longitude not valid" });
    }

    // Sunrise/sunset timers are plain timers the device runs; moving them as the days change is ours.
    // With the device from the message, only an explicit "retime" message re-times (that device's timers).
    const retime = async (t?: Target): Promise<RetimeResult> => {
      // Scoped: a redeploy drops what this node still had waiting for the device.
      const r = await retimeSunTimers((await (t ?? link).device()).scoped(link.signal), { place });
      for (const s of r.skipped) node.warn(`${(t ?? link).name()}: sun timer "${s.alias}" not re-timed: ${s.reason}`);
      return r;
    };
    if (def.retime !== false && !placeError && link.config) {
      // First as soon as the device answers after a deploy (it may have drifted while Node-RED was down).
      const stop = keepRetimed(retime, (r) => {
        const status = retimeStatus(r);
        if (status) link.show(status);
      });
      node.on("close", stop);
    }

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      link.handle(msg, done, async (t) => {
        const m = msg as ScheduleMsg;
        if (placeError) throw placeError;
        const channel = configured === undefined ? undefined : resolveChannel(configured, undefined);
        const command = parseScheduleCommand(m.payload, channel);
        const device = await t.device();
        const { list, id, deleted, moved } = await runSchedule(device, command, { place, channel, retime: () => retime(t) });
        t.show(countStatus(list));
        m.payload = list;
        // A topic the flow set is kept; otherwise the device's name says whose schedules these are.
        if (isBlank(m.topic)) m.topic = t.name();
        m.meross = {
          ...t.identity(device),
          action: command.action,
          ...(id !== undefined ? { id } : {}),
          ...(deleted !== undefined ? { deleted } : {}),
          ...(moved !== undefined ? { moved } : {}),
        };
        send(m);
        done();
      });
    });
  }

  RED.nodes.registerType("meross-schedule", MerossSchedule);
};
