/**
 * meross-onboard: takes a factory-fresh device (10.10.10.1) onto the user's Wi-Fi and broker with
 * a key of the user's choosing (docs/protocol.md §3.1), lists the networks it sees ("scan"), or
 * moves a device already on the network to the broker ("rebind", §3.2); with a meross-broker it
 * waits for the device to arrive there (§3.9), because only that proves the settings were right.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from "node-red";
import { OnboardingError } from "../core";
import { RebindError } from "../core";
import { ArrivalWatcher } from "../core";
import { failMessage, redact } from "./shared/errors";
import { isBlank } from "./shared/inputs";
import * as input from "./shared/onboard-input";
import { bind, brokerLogins, confirmArrival, modeOf, rebindAddress } from "./shared/onboard-modes";
import { isMerossBroker } from "./shared/broker-types";
import { registerOnboardAdmin } from "./shared/onboard-admin";

interface OnboardDef extends NodeDef {
  mode?: string;
  address?: string;
  ssid?: string;
  mqttHost?: string;
  mqttPort?: string | number;
  userId?: string | number;
  broker?: string;
  timeout?: string | number;
}

export = function (RED: NodeAPI): void {
  // Per node id, the key its last onboarding set: a device back in pairing mode still signs with it.
  const keysSet = new Map<string, string>();

  function MerossOnboard(this: Node, def: OnboardDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const creds: { wifiPassword?: unknown; key?: unknown; currentKey?: unknown } =
      (node as Node & { credentials?: object }).credentials ?? {};
    const [key, wifiPassword, currentKey] = [creds.key, creds.wifiPassword, creds.currentKey].map((v) => (typeof v === "string" ? v : ""));
    const secrets = [key, wifiPassword, currentKey];
    let busy = false;
    const brokerNode = typeof def.broker === "string" && def.broker ? RED.nodes.getNode(def.broker) : null;
    const broker = isMerossBroker(brokerNode) ? brokerNode : undefined;
    // The broker must accept the new key before the device first dials in with it.
    let onboarded = ""; // the uuid, once known: the new key is then bound to it and replaces an older binding
    const dropKeys = broker?.useKeys(node.id, () => [key], () => onboarded); // prettier-ignore
    node.on("close", (removed: boolean, done: () => void) => {
      dropKeys?.();
      if (removed) keysSet.delete(node.id);
      done();
    });

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      const m = msg as NodeMessageInFlow & { meross?: unknown };
      const reply = (payload: unknown): void => {
        m.payload = payload;
        send(m);
        done();
      };
      const run = async (): Promise<void> => {
        if (busy) throw input.BUSY();
        busy = true;
        let watcher: ArrivalWatcher | undefined;
        try {
          const mode = modeOf(def.mode);
          const rebinding = mode === "rebind";
          const address = rebinding ? rebindAddress(def.address) : input.addressOf(def.address);
          if (!rebinding && input.isScanRequest(m.payload)) {
            node.status({ fill: "blue", shape: "dot", text: "scanning…" });
            const nets = await input.scanAt(address, [key, keysSet.get(node.id) ?? ""]);
            node.status({ fill: "green", shape: "dot", text: `${nets.length} networks` });
            return reply(nets);
          }
          const wifi = rebinding
            ? undefined
            : { ...input.resolveWifiTarget(def as unknown as Record<string, unknown>, m.payload), password: wifiPassword };
          if (!isBlank(def.broker) && !broker) throw input.BROKER_NOT_DEPLOYED();
          const waitMs = input.arrivalTimeoutMs(def.timeout);
          let mqttHost = typeof def.mqttHost === "string" ? def.mqttHost.trim() : "";
          let mqttPort = input.resolveMqttPort(def.mqttPort);
          if (broker) {
            const ep = await broker.endpoint();
            if (!mqttHost) mqttHost = ep.host;
            if (isBlank(def.mqttPort)) mqttPort = ep.port;
            // Started before the device is touched: a device that reconnects quickly must not be missed.
            watcher = new ArrivalWatcher(broker.fleet);
          }
          const userId = def.userId === undefined || def.userId === "" ? undefined : String(def.userId);
          const previousKeys = [keysSet.get(node.id) ?? ""];
          if (!rebinding) keysSet.set(node.id, key);
          const logins = brokerLogins(broker);
          if (logins.warning) node.warn(logins.warning);
          const out = await bind({
            addLogin: logins.addLogin,
            mode,
            address,
            mqttHost,
            mqttPort,
            userId,
            key,
            currentKey,
            previousKeys,
            wifi,
            next: (step) =>
              node.status(
                step
                  ? { fill: "blue", shape: "dot", text: `${step}…` }
                  : broker
                    ? { fill: "blue", shape: "ring", text: "waiting for device…" }
                    : {},
              ),
          });
          if (!watcher) {
            node.status({
              fill: "green",
              shape: "dot",
              text: rebinding ? `re-bound ${out.device.model}` : `onboarded ${out.device.model}, rebooting`,
            });
            return reply(out);
          }
          onboarded = out.device.uuid;
          if (key) broker?.prove(out.device.uuid, out.device.mac, key); // this onboarding set its key: proof kept in the identity book
          const arrival = await confirmArrival(watcher, out, waitMs, rebinding ? undefined : address, secrets, logins.warning);
          if ("payload" in arrival) {
            node.status({ fill: "green", shape: "dot", text: `arrived at ${arrival.payload.device.ip || "broker"}` });
            return reply(arrival.payload);
          }
          m.meross = arrival.meross;
          failMessage(node, arrival.error, done, secrets);
          node.status({ fill: "red", shape: "ring", text: arrival.inAp ? "stayed in AP mode: check Wi-Fi password" : "did not arrive" });
        } finally {
          watcher?.close();
          busy = false;
        }
      };
      run().catch((err: unknown) => {
        if (err instanceof OnboardingError || err instanceof RebindError) {
          // The step log goes with the message so a Catch node can show where it stopped.
          m.meross = { steps: err.steps.map((s) => (s.error ? { ...s, error: redact(s.error, secrets) } : s)) };
        }
        failMessage(node, err, done, secrets);
      });
    });
  }

  RED.nodes.registerType("meross-onboard", MerossOnboard, {
    credentials: { wifiPassword: { type: "password" }, key: { type: "password" }, currentKey: { type: "password" } },
  });

  registerOnboardAdmin(RED, keysSet);
};
