/**
 * meross-toggle: switches a plug (or one outlet of a strip) on, off or over, or reads
 * it. ToggleX vs legacy Toggle is decided by the device's ability list in the core. Its output
 * answers its input; a switch pressed on the device sets the status, and goes out only when
 * "also send changes" is ticked.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow, NodeStatus } from "node-red";
import { outletName } from "../core";
import { parseToggleCommand, resolveChannel, isBlank } from "./shared/inputs";
import type { DeviceSourceDef } from "./shared/device-source";
import { linkToConfig, reportsChanges } from "./shared/user-node";

interface ToggleDef extends NodeDef, DeviceSourceDef {
  channel?: string | number;
  reportChanges?: boolean;
}

/** "on", or "outlet 3 on" when the device has several outlets (numbered from 1 like its label). */
function stateStatus(channel: number, on: boolean, outlets: number): NodeStatus {
  const state = on ? "on" : "off";
  const text = channel === 0 && outlets <= 1 ? state : `${outletName(channel)} ${state}`;
  return { fill: on ? "green" : "grey", shape: "dot", text };
}

type ToggleMsg = NodeMessageInFlow & { channel?: unknown; outlet?: unknown; meross?: unknown };

export = function (RED: NodeAPI): void {
  function MerossToggle(this: Node, def: ToggleDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = isBlank(def.channel) ? undefined : def.channel;
    // With a blank channel the status follows whichever channel the last message used.
    let shownChannel = 0;
    try {
      shownChannel = resolveChannel(configured, undefined);
    } catch {
      shownChannel = 0;
    }
    const outlets = (): number => link.config?.device?.toggles.size ?? 1;

    const sendChanges = reportsChanges(def);
    const link = linkToConfig(RED, node, def, (ev) => {
      if (ev.type !== "toggle" || ev.channel !== shownChannel) return;
      link.show(stateStatus(ev.channel, ev.on, outlets()));
      if (sendChanges && ev.source === "push") {
        const d = link.config?.device;
        const meross = {
          uuid: d?.info?.uuid ?? "",
          name: link.name(),
          model: d?.info?.model ?? "",
          channel: ev.channel,
          on: ev.on,
          address: d?.address ?? "",
        };
        node.send({ topic: link.name(), payload: ev.on, meross });
      }
    });

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      link.handle(msg, done, async (t) => {
        const m = msg as ToggleMsg;
        const channel = resolveChannel(configured, m.channel, m.outlet);
        const command = parseToggleCommand(m.payload);
        const device = await t.device();
        const opts = { signal: link.signal };
        const result = command.read ? await device.getToggle(channel, opts) : await device.setToggle(channel, command.on, opts);
        shownChannel = channel;
        t.show(stateStatus(channel, result.on, device.toggles.size));
        m.payload = result.on;
        // A topic the flow set is kept; otherwise the device's name says where the state came from.
        if (isBlank(m.topic)) m.topic = t.name();
        m.meross = { ...t.identity(device), channel, on: result.on };
        send(m);
        done();
      });
    });
  }

  RED.nodes.registerType("meross-toggle", MerossToggle);
};
