/**
 * meross-cover: opens, closes, stops or positions a garage door (msg100/msg200) or roller
 * shutter (mrs100), or reads it. Its output answers its input; what the device reports by itself
 * (a wall button, the end of a move) only sets the status unless "also send changes" is ticked.
 * What a model can do is decided in the core (capabilities/cover-command.ts) from its
 * ability list; a garage "open" the door already obeys is answered without sending.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow, NodeStatus } from "node-red";
import { coverToOutput, parseCoverInput, type CoverState } from "../core/capabilities/cover";
import { coverCommand } from "../core/capabilities/cover-command";
import { isBlank, resolveChannel } from "./shared/inputs";
import { linkToConfig, reportsChanges } from "./shared/user-node";

interface CoverDef extends NodeDef {
  device?: string;
  channel?: string | number;
  reportChanges?: boolean;
}

/** A follow-up read never waits longer than this, whatever travel time a device reports. */
const MAX_FOLLOW_MS = 180_000;
/** Read a little after the move should have ended, so the end state is there. */
const FOLLOW_MARGIN_MS = 1000;

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
    const last = new Map<number, string>();
    const timers = new Set<ReturnType<typeof setTimeout>>();
    /** Channels with a command in flight: its reply carries the latest state, so pushes meanwhile are not repeated. */
    const busy = new Map<number, number>();
    let closed = false;
    const sendChanges = reportsChanges(def);

    const meta = (c: CoverState): Record<string, unknown> => {
      const d = link.config?.device;
      return { uuid: link.config?.uuid() || d?.info?.uuid || "", model: d?.info?.model ?? "", kind: c.kind, channel: c.channel };
    };
    /** Records what the flow was last told about a channel; true when `c` differs. */
    const remember = (c: CoverState): boolean => {
      const text = JSON.stringify(coverToOutput(c));
      if (last.get(c.channel) === text) return false;
      last.set(c.channel, text);
      return true;
    };
    const announce = (c: CoverState): void => {
      if (closed || busy.has(c.channel) || (fixed !== undefined && c.channel !== fixed) || !remember(c)) return;
      link.show(coverStatus(c));
      // Safety: a door opened by hand must not reach a "close if open" flow unless the user asked for changes.
      if (sendChanges) node.send({ topic: link.name(), payload: coverToOutput(c), meross: meta(c) });
    };

    const link = linkToConfig(RED, node, def.device, (ev) => {
      if (ev.type === "cover" && ev.source === "push") announce(ev.cover);
    });

    /** Over HTTP nothing is pushed: read the door or shutter again once its move should be over. */
    const follow = (channel: number, ms: number): void => {
      const t = setTimeout(
        () => {
          timers.delete(t);
          link
            .device()
            .then((d) => coverCommand(d, channel, { action: "read" }))
            .then(announce, () => undefined);
        },
        Math.min(ms + FOLLOW_MARGIN_MS, MAX_FOLLOW_MS),
      );
      timers.add(t);
    };

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      const run = async (): Promise<void> => {
        const m = msg as CoverMsg;
        const channel = resolveChannel(configured, m.channel);
        const command = parseCoverInput(m.payload);
        const device = await link.device();
        busy.set(channel, (busy.get(channel) ?? 0) + 1);
        const result = await coverCommand(device, channel, command).finally(() => {
          const n = (busy.get(channel) ?? 1) - 1;
          if (n > 0) busy.set(channel, n);
          else busy.delete(channel);
        });
        remember(result);
        link.show(coverStatus(result));
        if (result.settleMs !== undefined) follow(channel, result.settleMs);
        m.payload = coverToOutput(result);
        // A topic the flow set is kept; otherwise the device's name says where the state came from.
        if (isBlank(m.topic)) m.topic = link.name();
        m.meross = { ...meta(result), address: device.address, sent: result.sent, ...(result.note ? { note: result.note } : {}) };
        send(m);
        done();
      };
      run().catch((err: unknown) => link.fail(err, done));
    });

    node.on("close", () => {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    });
  }

  RED.nodes.registerType("meross-cover", MerossCover);
};
