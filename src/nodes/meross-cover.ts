/**
 * meross-cover: opens, closes, stops or positions a garage door (msg100/msg200) or roller
 * shutter (mrs100), or reads it. Its output answers its input; what the device reports by itself
 * (a wall button, the end of a move) only sets the status unless "also send changes" is ticked.
 * What a model can do is decided in the core (capabilities/cover-command.ts) from its
 * ability list; a garage "open" the door already obeys is answered without sending.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow, NodeStatus } from "node-red";
import { coverToOutput, parseCoverInput, type CoverState } from "../core";
import { CoverRun } from "./shared/cover-run";
import { isBlank, resolveChannel } from "./shared/inputs";
import type { DeviceSourceDef } from "./shared/device-source";
import { linkToConfig, reportsChanges } from "./shared/user-node";

interface CoverDef extends NodeDef, DeviceSourceDef {
  channel?: string | number;
  reportChanges?: boolean;
}

function coverStatus(c: CoverState): NodeStatus {
  const where = c.position === undefined || c.state === "open" || c.state === "closed" ? "" : ` ${c.position} %`;
  const ch = c.channel > 0 ? `door ${c.channel} ` : "";
  const moving = c.state === "opening" || c.state === "closing";
  const fill = moving ? "blue" : c.state === "open" ? "green" : c.state === "closed" ? "grey" : "yellow";
  return { fill, shape: moving ? "ring" : "dot", text: `${ch}${c.state}${where}` };
}

type CoverMsg = NodeMessageInFlow & { channel?: unknown; meross?: unknown };

export = function (RED: NodeAPI): void {
  function MerossCover(this: Node, def: CoverDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = isBlank(def.channel) ? undefined : def.channel;
    let fixed: number | undefined;
    try {
      fixed = configured === undefined ? undefined : resolveChannel(configured, undefined);
    } catch {
      fixed = undefined;
    }
    /** Last reports, commands in flight and follow-up reads (shared/cover-run.ts). */
    const run = new CoverRun(fixed);
    const slot = (channel: number): string => `${link.config?.id ?? ""}:${channel}`;
    const sendChanges = reportsChanges(def);

    const meta = (c: CoverState): Record<string, unknown> => {
      const d = link.config?.device;
      const name = link.name();
      return { uuid: link.config?.uuid() || d?.info?.uuid || "", name, model: d?.info?.model ?? "", kind: c.kind, channel: c.channel };
    };
    const announce = (c: CoverState): void => {
      if (!run.reported(c, slot(c.channel))) return;
      link.show(coverStatus(c));
      // Safety: a door opened by hand must not reach a "close if open" flow unless the user asked for changes.
      if (sendChanges) node.send({ topic: link.name(), payload: coverToOutput(c), meross: meta(c) });
    };

    const link = linkToConfig(RED, node, def, (ev) => {
      if (ev.type === "cover" && ev.source === "push") announce(ev.cover);
    });

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      link.handle(msg, done, async (t) => {
        const m = msg as CoverMsg;
        const channel = resolveChannel(configured, m.channel);
        const command = parseCoverInput(m.payload);
        const device = await t.device();
        const key = `${t.config.id}:${channel}`;
        const result = await run.run(await t.session(), key, channel, command);
        t.show(coverStatus(result));
        // Over HTTP nothing is pushed: read again once the move should be over.
        if (result.settleMs !== undefined)
          run.follow(
            () => t.session(),
            channel,
            result.settleMs,
            (c) => link.within(t, () => announce(c)),
          );
        m.payload = coverToOutput(result);
        // A topic the flow set is kept; otherwise the device's name says where the state came from.
        if (isBlank(m.topic)) m.topic = t.name();
        const note = result.note ? { note: result.note } : {};
        m.meross = { ...t.identity(device), kind: result.kind, channel: result.channel, sent: result.sent, ...note };
        send(m);
        done();
      });
    });

    node.on("close", () => run.close());
  }

  RED.nodes.registerType("meross-cover", MerossCover);
};
