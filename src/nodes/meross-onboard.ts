/**
 * meross-onboard: takes a factory-fresh device (10.10.10.1) onto the user's Wi-Fi and broker with
 * a key of the user's choosing (docs/protocol.md §3.1), lists the networks it sees ("scan"), or
 * moves devices already on the network to the broker ("rebind", §3.2: one, or a list at once);
 * with a meross-broker it waits for each device to arrive there (§3.9), because only that proves
 * the settings were right. The run itself is shared/onboard-run.ts; closing the node aborts it.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from "node-red";
import { failMessage } from "./shared/errors";
import * as input from "./shared/onboard-input";
import { runOnboard } from "./shared/onboard-run";
import type { OnboardDef } from "./shared/onboard-modes";
import { isMerossBroker } from "./shared/broker-types";
import { registerOnboardAdmin } from "./shared/onboard-admin";

export = function (RED: NodeAPI): void {
  // Per node id, the key its last onboarding set: a device back in pairing mode still signs with it.
  const keysSet = new Map<string, string>();

  function MerossOnboard(this: Node, def: NodeDef & OnboardDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const creds: { wifiPassword?: unknown; key?: unknown; currentKey?: unknown } =
      (node as Node & { credentials?: object }).credentials ?? {};
    const [key, wifiPassword, currentKey] = [creds.key, creds.wifiPassword, creds.currentKey].map((v) => (typeof v === "string" ? v : ""));
    const secrets = [key, wifiPassword, currentKey];
    const brokerNode = typeof def.broker === "string" && def.broker ? RED.nodes.getNode(def.broker) : null;
    const broker = isMerossBroker(brokerNode) ? brokerNode : undefined;
    // The broker must accept the new key before the device first dials in with it.
    let onboarded = ""; // the uuid, once known: the new key is then bound to it and replaces an older binding
    const dropKeys = broker?.useKeys(node.id, () => [key], () => onboarded); // prettier-ignore
    // The run in flight: closing the node aborts it, and the close completes once it has ended.
    let inFlight: { abort: AbortController; ended: Promise<void> } | undefined;

    node.on("close", (removed: boolean, done: () => void) => {
      const running = inFlight;
      running?.abort.abort();
      void Promise.resolve(running?.ended)
        .catch(() => undefined)
        .then(() => {
          dropKeys?.();
          if (removed) keysSet.delete(node.id);
          done();
        });
    });

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      const m = msg as NodeMessageInFlow & { meross?: unknown };
      if (inFlight) return void failMessage(node, input.BUSY(), done, secrets);
      const abort = new AbortController();
      const live = (): boolean => !abort.signal.aborted;
      const ended = runOnboard(
        {
          def,
          nodeId: node.id,
          key,
          wifiPassword,
          currentKey,
          broker,
          keysSet,
          signal: abort.signal,
          status: (s) => live() && node.status(s),
          warn: (text) => live() && node.warn(text),
          bound: (uuid) => (onboarded = uuid),
        },
        m.payload,
      ).then((result) => {
        inFlight = undefined;
        // A closed node reports nothing: its message ends quietly.
        if (!live()) return done();
        if ("payload" in result) {
          m.payload = result.payload;
          send(m);
          return done();
        }
        if (result.meross) m.meross = result.meross;
        failMessage(node, result.error, done, secrets);
        if (result.status) node.status(result.status);
      });
      inFlight = { abort, ended };
    });
  }

  RED.nodes.registerType("meross-onboard", MerossOnboard, {
    credentials: { wifiPassword: { type: "password" }, key: { type: "password" }, currentKey: { type: "password" } },
  });

  registerOnboardAdmin(RED, keysSet);
};
