/**
 * meross-schedule: lists, adds, changes and deletes the timers and auto-off triggers a plug or
 * bulb keeps itself (docs/protocol-devices.md §18). The device runs them on its own clock, so
 * they keep working while Node-RED is stopped. Every action answers with the resulting list.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow, NodeStatus } from "node-red";
import { addTimer, addTrigger, changeSchedule, deleteSchedule, listSchedules, type ScheduleList } from "../core/capabilities/schedule";
import { isBlank, resolveChannel } from "./shared/inputs";
import { parseScheduleCommand } from "./shared/schedule-input";
import { linkToConfig } from "./shared/user-node";

interface ScheduleDef extends NodeDef {
  device?: string;
  channel?: string | number;
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

    const link = linkToConfig(RED, node, def.device, (ev) => {
      // Changed by the Meross app or by a one-shot timer: the last count may be stale.
      if (ev.type === "schedule") link.show({ fill: "yellow", shape: "dot", text: "changed on device" });
    });

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      const run = async (): Promise<void> => {
        const m = msg as ScheduleMsg;
        const channel = configured === undefined ? undefined : resolveChannel(configured, undefined);
        const command = parseScheduleCommand(m.payload, channel);
        const device = await link.device();
        let id: string | undefined;
        let deleted: boolean | undefined;
        if (command.action === "add") {
          id = (command.kind === "timer" ? await addTimer(device, command.input) : await addTrigger(device, command.input)).id;
        } else if (command.action === "change") {
          id = (await changeSchedule(device, command.id, command.input)).id;
        } else if (command.action === "delete") {
          deleted = (await deleteSchedule(device, command.id)).deleted;
          id = String(command.id);
        }
        const list = await listSchedules(device, channel);
        link.show(countStatus(list));
        m.payload = list;
        // A topic the flow set is kept; otherwise the device's name says whose schedules these are.
        if (isBlank(m.topic)) m.topic = link.name();
        m.meross = {
          uuid: device.info?.uuid ?? "",
          model: device.info?.model ?? "",
          address: device.address,
          action: command.action,
          ...(id !== undefined ? { id } : {}),
          // false: the firmware refused DELETE, so the entry was disabled instead (it is still listed).
          ...(deleted !== undefined ? { deleted } : {}),
        };
        send(m);
        done();
      };
      run().catch((err: unknown) => link.fail(err, done));
    });
  }

  RED.nodes.registerType("meross-schedule", MerossSchedule);
};
