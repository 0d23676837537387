/**
 * meross-cover: opens, closes, stops or positions a garage door (msg100/msg200) or roller
 * shutter (mrs100), or reads it. Its output answers its input; what the device reports by itself
 * (a wall button, the end of a move) only sets the status unless "also send changes" is ticked.
 * What a model can do is decided in the core (capabilities/cover-command.ts) from its
 * ability list; a garage "open" the door already obeys is answered without sending.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow, NodeStatus } from "node-red";
import { coverToOutput, parseCoverInput, type CoverState } from "../core";
import { coverCommand } from "../core";
import { isBlank, resolveChannel } from "./shared/inputs";
import type { DeviceSourceDef } from "./shared/device-source";
import { linkToConfig, reportsChanges, type Target } from "./shared/user-node";

interface CoverDef extends NodeDef, DeviceSourceDef {
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
    /** Per device (config id) and channel, "id:channel": a node taking its device from the message drives several. */
    const last = new Map<string, string>();
    const timers = new Set<ReturnType<typeof setTimeout>>();
    /** Channels with a command in flight: its reply carries the latest state, so pushes meanwhile are not repeated. */
    const busy = new Map<string, number>();
    let closed = false;
    const slot = (channel: number): string => `${link.config?.id ?? ""}:${channel}`;
    const sendChanges = reportsChanges(def);

    const meta = (c: CoverState): Record<string, unknown> => {
      const d = link.config?.device;
      const name = link.name();
      return { uuid: link.config?.uuid() || d?.info?.uuid || "", name, model: d?.info?.model ?? "", kind: c.kind, channel: c.channel };
    };
    /** Records what the flow was last told about a channel; true when `c` differs. */
    const remember = (c: CoverState, key = slot(c.channel)): boolean => {
      const text = JSON.stringify(coverToOutput(c));
      if (last.get(key) === text) return false;
      last.set(key, text);
      return true;
    };
    const announce = (c: CoverState): void => {
      if (closed || busy.has(slot(c.channel)) || (fixed !== undefined && c.channel !== fixed) || !remember(c)) return;
      link.show(coverStatus(c));
      // Safety: a door opened by hand must not reach a "close if open" flow unless the user asked for changes.
      if (sendChanges) node.send({ topic: link.name(), payload: coverToOutput(c), meross: meta(c) });
    };

    const link = linkToConfig(RED, node, def, (ev) => {
      if (ev.type === "cover" && ev.source === "push") announce(ev.cover);
    });

    /** Over HTTP nothing is pushed: read the door or shutter again once its move should be over. */
    const follow = (target: Target, channel: number, ms: number): void => {
      const t = setTimeout(
        () => {
          timers.delete(t);
          target
            .session()
            .then((s) => coverCommand(s, channel, { action: "read" }))
            .then(
              (c) => link.within(target, () => announce(c)),
              () => undefined,
            );
        },
        Math.min(ms + FOLLOW_MARGIN_MS, MAX_FOLLOW_MS),
      );
      timers.add(t);
    };

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      link.handle(msg, done, async (t) => {
        const m = msg as CoverMsg;
        const channel = resolveChannel(configured, m.channel);
        const command = parseCoverInput(m.payload);
        const device = await t.device();
        const key = `${t.config.id}:${channel}`;
        busy.set(key, (busy.get(key) ?? 0) + 1);
        const result = await coverCommand(await t.session(), channel, command).finally(() => {
          const n = (busy.get(key) ?? 1) - 1;
          if (n > 0) busy.set(key, n);
          else busy.delete(key);
        });
        remember(result, key);
        t.show(coverStatus(result));
        if (result.settleMs !== undefined) follow(t, channel, result.settleMs);
        m.payload = coverToOutput(result);
        // A topic the flow set is kept; otherwise the device's name says where the state came from.
        if (isBlank(m.topic)) m.topic = t.name();
        const note = result.note ? { note: result.note } : {};
        m.meross = { ...t.identity(device), kind: result.kind, channel: result.channel, sent: result.sent, ...note };
        send(m);
        done();
      });
    });

    node.on("close", () => {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    });
  }

  RED.nodes.registerType("meross-cover", MerossCover);
};
