/**
 * meross-onboard: takes a factory-fresh device (its own access point, 10.10.10.1) onto
 * the user's Wi-Fi and MQTT broker with a key of the user's choosing, step by step
 * (docs/protocol.md §3.1), and lists the networks the device sees ("scan"). In "rebind" mode it
 * moves a device already on the network (Meross app, another broker) to the broker instead,
 * keeping its Wi-Fi (§3.2). With a meross-broker it also waits for the device to arrive there
 * (§3.9, src/core/fleet/arrival.ts), because only that proves the settings were right.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from "node-red";
import { OnboardingError } from "../core/onboarding";
import { RebindError } from "../core/onboarding/rebind";
import { ArrivalWatcher } from "../core/fleet/arrival";
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
  function MerossOnboard(this: Node, def: OnboardDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const creds: { wifiPassword?: unknown; key?: unknown; currentKey?: unknown } =
      (node as Node & { credentials?: object }).credentials ?? {};
    const text = (v: unknown): string => (typeof v === "string" ? v : "");
    const [key, wifiPassword, currentKey] = [text(creds.key), text(creds.wifiPassword), text(creds.currentKey)];
    const secrets = [key, wifiPassword, currentKey];
    let busy = false;
    const brokerNode = typeof def.broker === "string" && def.broker ? RED.nodes.getNode(def.broker) : null;
    const broker = isMerossBroker(brokerNode) ? brokerNode : undefined;
    // The broker must accept the new key before the device first dials in with it.
    let onboarded = ""; // the uuid, once known: the new key is then bound to it and replaces an older binding
    const dropKeys = broker?.useKeys(
      node.id,
      () => [key],
      () => onboarded,
    );
    node.on("close", (_removed: boolean, done: () => void) => {
      dropKeys?.();
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
            const nets = await input.scanAt(address);
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
          const arrival = await confirmArrival(watcher, out, waitMs, rebinding ? undefined : address, secrets, logins.warning);
          if ("payload" in arrival) {
            node.status({ fill: "green", shape: "dot", text: `arrived at ${arrival.payload.device.ip || "broker"}` });
            return reply(arrival.payload);
          }
          m.meross = arrival.meross;
          failMessage(node, arrival.error, done, secrets);
          node.status({ fill: "red", shape: "ring", text: arrival.inAp ? "still in AP mode" : "did not arrive" });
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

  registerOnboardAdmin(RED);
};
