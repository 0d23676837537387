/**
 * meross-toggle: switches a plug (or one outlet of a strip) on, off or over, or reads
 * it. ToggleX vs legacy Toggle is decided by the device's ability list in the core.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow, NodeStatus } from "node-red";
import { parseOnOffInput } from "../core/capabilities/toggle";
import { failMessage } from "./shared/errors";
import { resolveChannel, isBlank } from "./shared/inputs";
import { linkToConfig } from "./shared/user-node";

interface ToggleDef extends NodeDef {
  device?: string;
  channel?: string | number;
}

function stateStatus(channel: number, on: boolean): NodeStatus {
  const text = channel === 0 ? (on ? "on" : "off") : `ch ${channel} ${on ? "on" : "off"}`;
  return { fill: on ? "green" : "grey", shape: "dot", text };
}

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

    const link = linkToConfig(RED, node, def.device, (ev) => {
      if (ev.type === "toggle" && ev.channel === shownChannel) link.show(stateStatus(ev.channel, ev.on));
    });

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      const run = async (): Promise<void> => {
        const m = msg as NodeMessageInFlow & { channel?: unknown; meross?: unknown };
        const channel = resolveChannel(configured, m.channel);
        const wanted = parseOnOffInput(m.payload);
        const device = await link.device();
        const result = wanted === undefined ? await device.getToggle(channel) : await device.setToggle(channel, wanted);
        shownChannel = channel;
        link.show(stateStatus(channel, result.on));
        m.payload = result.on;
        m.meross = { uuid: device.info?.uuid ?? "", model: device.info?.model ?? "", channel, on: result.on, address: device.address };
        send(m);
        done();
      };
      run().catch((err: unknown) => failMessage(node, err, done, link.secrets()));
    });
  }

  RED.nodes.registerType("meross-toggle", MerossToggle);
};
