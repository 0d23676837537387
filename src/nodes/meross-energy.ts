/**
 * meross-energy: power, voltage, current and energy of a metering plug or one channel of an
 * energy meter, for a dashboard gauge or a time-series database. It reads on input, on its own
 * poll interval (0 = off; through the device's one Poller, shared with meross-state) and, when
 * "also send changes" is ticked, when the device pushes a reading (otherwise a push only updates
 * the status). The total kWh only rises: the
 * counting rule is the core's (capabilities/energy-counter.ts); its state stays in this node's
 * context, so restarts with persistent context keep it.
 */
import type { NodeAPI, Node, NodeDef, NodeMessage, NodeMessageInFlow } from "node-red";
import {
  countReading,
  energyFromState,
  energyReport,
  readEnergy,
  type EnergyRead,
  restoreCounter,
  type EnergyCounterState,
  asMerossError,
} from "../core";
import { energyStatus, resolveEnergyChannel, resolveInterval, resolveShow, shownValue, type Show } from "./shared/energy-input";
import { isBlank } from "./shared/inputs";
import type { DeviceSourceDef } from "./shared/device-source";
import { linkToConfig, reportsChanges, type Target } from "./shared/user-node";
import { pollerFor } from "./shared/poller";

interface EnergyDef extends NodeDef, DeviceSourceDef {
  channel?: string | number;
  show?: string;
  pollInterval?: string | number;
  reportChanges?: boolean;
}

type EnergyMsg = NodeMessageInFlow & { channel?: unknown; show?: unknown; energy?: unknown };

export = function (RED: NodeAPI): void {
  function MerossEnergy(this: Node, def: EnergyDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let show: Show = "power";
    let interval = 0;
    try {
      show = resolveShow(def.show);
      interval = resolveInterval(def.pollInterval);
      resolveEnergyChannel(def.channel, undefined);
    } catch (err) {
      node.error(asMerossError(err).message);
    }
    /** The last reading per device and channel ("config id:channel"), so a push of one half (power or days) completes the other. */
    const last = new Map<string, EnergyRead>();
    const slot = (channel: number, t?: Target): string => `${(t?.config ?? link.config)?.id ?? ""}:${channel}`;
    /** The channel this node reports: its own, else the one the last read chose (pushes follow it). */
    let shown: number | undefined = isBlank(def.channel) ? undefined : Number(def.channel);
    const sendChanges = reportsChanges(def);

    const counterKey = (uuid: string, channel: number): string => `energy-total:${uuid || "device"}:${channel}`;
    const count = (read: EnergyRead, t?: Target): EnergyCounterState | undefined => {
      const uuid = (t?.config ?? link.config)?.device?.info?.uuid ?? "";
      const key = counterKey(uuid, read.reading.channel);
      const ctx = node.context();
      const next = countReading(restoreCounter(ctx.get(key)), read);
      if (next) ctx.set(key, next);
      return next;
    };

    /** Fills msg with the reading: payload the chosen number, energy the details, topic the device. */
    const fill = (msg: NodeMessage & { energy?: unknown }, read: EnergyRead, pick: Show, t?: Target): void => {
      const report = energyReport(read, count(read, t));
      last.set(slot(read.reading.channel, t), read);
      if (isBlank(def.channel)) shown = read.reading.channel;
      msg.payload = shownValue(report, pick);
      msg.energy = report;
      if (isBlank(msg.topic)) msg.topic = (t ?? link).name();
      (t ?? link).show(energyStatus(report));
    };

    const link = linkToConfig(RED, node, def, (ev) => {
      if (ev.type === "info" || ev.source !== "push") return;
      if (ev.type === "electricity" && ev.reading.channel === (shown ?? 0)) {
        const before = last.get(slot(ev.reading.channel));
        const msg: NodeMessage = {};
        fill(msg, before?.days ? { reading: ev.reading, days: before.days } : { reading: ev.reading }, show);
        if (sendChanges) node.send(msg);
      } else if (ev.type === "consumption") {
        const before = last.get(slot(shown ?? 0));
        if (!before) return;
        const msg: NodeMessage = {};
        fill(msg, { reading: before.reading, days: ev.days }, show);
        if (sendChanges) node.send(msg);
      }
    });

    const read = async (msg: EnergyMsg, t?: Target): Promise<EnergyMsg> => {
      const channel = resolveEnergyChannel(def.channel, msg.channel);
      const pick = resolveShow(def.show, msg.show);
      const device = await (t ?? link).device();
      fill(msg, await readEnergy(await (t ?? link).session(), channel), pick, t);
      if (t && link.fromMessage) (msg as EnergyMsg & { meross?: unknown }).meross = t.identity(device);
      return msg;
    };

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      link.handle(msg, done, async (t) => {
        send(await read(msg as EnergyMsg, t));
        done();
      });
    });

    if (interval > 0 && link.config) {
      // The config's one Poller reads the energy (the electricity capability's poll()) on this node's interval;
      // a meross-state polling the same device shares its timer, and a tick due for both is one read.
      const off = pollerFor(link.config).subscribe({
        intervalMs: interval * 1000,
        which: (c) => c.name === "electricity",
        more: (d) => {
          const msg = { _msgid: RED.util.generateId() } as EnergyMsg;
          fill(msg, energyFromState(d, resolveEnergyChannel(def.channel, undefined)), show);
          if (!link.signal.aborted) node.send(msg);
        },
        failed: (err) => link.signal.aborted || link.fail(err, (e) => node.error(e, {})),
      });
      node.on("close", off);
    }
  }

  RED.nodes.registerType("meross-energy", MerossEnergy);
};
