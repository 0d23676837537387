/**
 * meross-state: one message per state change of a device (on/off, light, doors, shutters,
 * thermostat, energy, diffuser, hub sensors, presence, online), as it happens; a light fade is one message.
 * Devices on a broker PUSH every change (docs/protocol.md §5.1); devices reached only over HTTP
 * never push, so an optional poll (src/core/fleet/polling.ts) reads them.
 */
import type { NodeAPI, Node, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from "node-red";
import { watchPresence, type MerossError, deviceDisplayName } from "../core";
import { SHORT_REASON, failMessage, toMerossError } from "./shared/errors";
import { isBlank } from "./shared/inputs";
import { linkToConfig } from "./shared/user-node";
import { isMerossBroker, type MerossBrokerNode } from "./shared/broker-types";
import { configNames, watchBroker } from "./shared/state-broker";
import { Tracker, answerWith, describe, fromEvent, itemKey, known, pollSeconds, withModel, type Source } from "./shared/state-output";
import { holdFades, refreshExtras, stateMessage, topicWithSub, type StatePayload } from "./shared/state-output";
import { afterFade } from "./shared/light-run";
import { pollerFor } from "./shared/poller";

interface StateDef extends NodeDef {
  device?: string;
  broker?: string;
  pollInterval?: string | number;
}

export = function (RED: NodeAPI): void {
  function MerossState(this: Node, def: StateDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const tracker = new Tracker();
    const offs: Array<() => void> = [];
    let closed = false;
    let interval = 0;
    let setupError: MerossError | undefined;
    try {
      interval = pollSeconds(def.pollInterval);
    } catch (err) {
      setupError = toMerossError(err);
    }
    const brokerNode = typeof def.broker === "string" && def.broker ? RED.nodes.getNode(def.broker) : null;
    const useBroker = isBlank(def.device) && isMerossBroker(brokerNode);

    // msg.topic names the device the way every node does (core/naming.ts): its Meross device node's name first.
    const configName = configNames(RED);
    const nameOf = (p: StatePayload): string => configName(p.uuid) ?? deviceDisplayName({ model: p.model, uuid: p.uuid });
    let topicFor: (p: StatePayload) => string = (p) => topicWithSub(nameOf(p), p);
    let show: (st: NodeStatus) => void = (st) => node.status(st);
    const emit = (p: StatePayload, prefix = ""): void => {
      if (closed || !tracker.note(p)) return;
      show(describe(p, prefix));
      node.send(stateMessage(p, topicFor(p)));
    };
    const sendKnown = (msg: NodeMessageInFlow, send: (m: NodeMessage[][]) => void, items: StatePayload[]): void => {
      if (items.length > 0) send([answerWith(msg, (m) => RED.util.cloneMessage(m), items, topicFor)]);
    };

    if (useBroker) {
      const watch = watchBroker(brokerNode as MerossBrokerNode, emit, (st) => node.status(st), configName);
      offs.push(() => watch.close());
      node.on("input", (msg: NodeMessageInFlow, send, done) => {
        // What this node already sent wins over the followers' view: the answer matches the messages.
        const tracked = new Map(tracker.all().map((t) => [itemKey(t), t]));
        sendKnown(
          msg,
          send,
          watch.items().map((i) => tracked.get(itemKey(i)) ?? i),
        );
        done();
      });
    } else {
      let lastOnline: boolean | undefined;
      let polling = (): boolean => false;
      // A fade's steps are held back: the light state it ends in goes out once, when it ends.
      const pass = holdFades(emit, (then) => !!link.config && afterFade(link.config, then));
      const link = linkToConfig(RED, node, def.device, (ev) => {
        const d = link.config?.device;
        if (!link.config || !d || ev.type === "info") return;
        const source: Source = ev.source === "push" || ev.source === "broker" ? "push" : polling() ? "poll" : "command";
        const p = fromEvent(link.config.uuid() || d.info?.uuid || "", d.info?.model, ev, source, d.lightCapacity);
        if (p) pass(p);
      });
      const config = link.config;
      show = (st) => link.show(st);
      topicFor = (p) => topicWithSub(config ? config.displayName() : p.uuid, p);
      const onlineChange = (online: boolean, source: Source): void => {
        if (!config || lastOnline === online) return;
        lastOnline = online;
        const d = config.device;
        emit({ ...withModel(config.uuid() || d?.info?.uuid || "", d?.info?.model), kind: "online", online, source });
      };
      const broker = config?.broker;
      // This device's presence only (by uuid once known), not every device's on the broker.
      const onPresence = (p?: { listening: boolean }): void => void ((!p || p.listening) && onlineChange(!!p, "push"));
      const seen = config && broker ? watchPresence(broker, () => config.uuid(), onPresence) : undefined;
      if (seen) offs.push(seen.close);
      if (config && !setupError) {
        // Seed the baseline once the session has read the device, so the first poll reports only changes.
        config.getDevice().then(
          async (d) => {
            // When polling, read doors, thermostat… once too, so the first poll reports only changes.
            if (interval > 0) await refreshExtras(d).catch(() => undefined);
            for (const p of known(d, config.uuid() || d.info?.uuid || "", d.info?.model, "poll")) tracker.note(p);
            // The uuid may only now be known (read from the device): catch up with the broker's view.
            if (broker && config.uuid() && broker.isListening(config.uuid())) onlineChange(true, "push");
          },
          () => undefined,
        );
        if (interval > 0) {
          // The config's one Poller: a meross-energy on the same device shares its timer and its reads.
          const p = pollerFor(config);
          polling = () => p.polling;
          const off = p.subscribe({
            intervalMs: interval * 1000,
            // Energy is meross-energy's to read (its own interval); toggles and light come with the rest.
            which: (c) => c.name !== "electricity",
            skip: () => !!broker && !!config.uuid() && broker.isListening(config.uuid()),
            online: (on) => onlineChange(on, "poll"),
            failed: (err) =>
              link.show({ fill: "red", shape: "ring", text: `poll: ${SHORT_REASON[toMerossError(err, config.secrets()).code]}` }),
          });
          offs.push(off);
        }
      }
      node.on("input", (msg: NodeMessageInFlow, send, done) => {
        const run = async (): Promise<void> => {
          if (setupError) throw setupError;
          const d = await link.device();
          await refreshExtras(d);
          const uuid = link.config?.uuid() || d.info?.uuid || "";
          for (const p of known(d, uuid, d.info?.model, "poll")) tracker.note(p);
          const items = tracker.all();
          if (lastOnline !== undefined && !items.some((i) => i.kind === "online"))
            items.push({ ...withModel(uuid, d.info?.model), kind: "online", online: lastOnline, source: "push" });
          sendKnown(msg, send, items);
          done();
        };
        run().catch((err: unknown) => failMessage(node, err, done, link.secrets()));
      });
    }
    if (setupError) node.status({ fill: "red", shape: "ring", text: SHORT_REASON[setupError.code] });
    if (!useBroker && isBlank(def.device) && !isBlank(def.broker)) node.status({ fill: "red", shape: "ring", text: "broker not found" });
    node.on("close", (_removed: boolean, done: () => void) => {
      closed = true;
      for (const off of offs.splice(0)) off();
      done();
    });
  }

  RED.nodes.registerType("meross-state", MerossState);
};
