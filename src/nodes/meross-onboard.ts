/**
 * meross-onboard: takes a factory-fresh device (its own access point, 10.10.10.1) onto
 * the user's Wi-Fi and MQTT broker with a key of the user's choosing, step by step
 * (docs/protocol.md §3.1), and lists the networks the device sees ("scan"). With a
 * meross-broker it also waits for the device to arrive there (§3.9, src/core/fleet/arrival.ts),
 * because only that proves the Wi-Fi and broker settings were right.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from "node-red";
import type { Request, Response } from "express";
import { OnboardingError, onboard, type StepLogEntry } from "../core/onboarding";
import { describeNetwork } from "../core/onboarding/wifi";
import { ArrivalError, ArrivalWatcher } from "../core/fleet/arrival";
import { failMessage, redact, toMerossError } from "./shared/errors";
import { isBlank } from "./shared/inputs";
import * as input from "./shared/onboard-input";
import { isMerossBroker } from "./shared/broker-types";

interface OnboardDef extends NodeDef {
  address?: string;
  ssid?: string;
  bssid?: string;
  channel?: string | number;
  encryption?: string | number;
  cipher?: string | number;
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
    const creds: { wifiPassword?: unknown; key?: unknown } = (node as Node & { credentials?: object }).credentials ?? {};
    const key = typeof creds.key === "string" ? creds.key : "";
    const wifiPassword = typeof creds.wifiPassword === "string" ? creds.wifiPassword : "";
    const secrets = [key, wifiPassword];
    let busy = false;
    const brokerNode = typeof def.broker === "string" && def.broker ? RED.nodes.getNode(def.broker) : null;
    const broker = isMerossBroker(brokerNode) ? brokerNode : undefined;
    // The broker must accept the new key before the device first dials in with it.
    let onboarded = ""; // the uuid, once known: the new key is then bound to it and replaces an older binding
    const dropKeys = broker?.useKeys(node.id, () => [key], () => onboarded);
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
          const address = input.addressOf(def.address);
          if (input.isScanRequest(m.payload)) {
            node.status({ fill: "blue", shape: "dot", text: "scanning…" });
            const nets = await input.scanAt(address);
            node.status({ fill: "green", shape: "dot", text: `${nets.length} networks` });
            return reply(nets);
          }
          const wifi = input.resolveWifiTarget(def as unknown as Record<string, unknown>, m.payload);
          if (!isBlank(def.broker) && !broker) throw input.BROKER_NOT_DEPLOYED();
          const waitMs = input.arrivalTimeoutMs(def.timeout);
          let mqttHost = typeof def.mqttHost === "string" ? def.mqttHost.trim() : "";
          let mqttPort = input.resolveMqttPort(def.mqttPort);
          if (broker) {
            const ep = await broker.endpoint();
            if (!mqttHost) mqttHost = ep.host;
            if (isBlank(def.mqttPort)) mqttPort = ep.port;
            // Started before the device is touched: a device that rejoins quickly must not be missed.
            watcher = new ArrivalWatcher(broker.fleet);
          }
          node.status({ fill: "blue", shape: "dot", text: `${input.STEP_ORDER[0]}…` });
          const result = await onboard({
            address,
            mqttHost,
            mqttPort,
            key,
            userId: def.userId === undefined || def.userId === "" ? undefined : String(def.userId),
            wifi: { ...wifi, password: wifiPassword },
            onStep: (s) => {
              if (!s.ok) return;
              const next = input.STEP_ORDER[input.STEP_ORDER.indexOf(s.name) + 1];
              if (next) node.status({ fill: "blue", shape: "dot", text: `${next}…` });
              else if (broker) node.status({ fill: "blue", shape: "ring", text: "waiting for device…" });
            },
          });
          const payload = { steps: result.steps as StepLogEntry[], device: { ...result.device }, mqtt: result.mqtt, wifi: result.wifi };
          if (!watcher) {
            node.status({ fill: "green", shape: "dot", text: `onboarded ${result.device.model}, rebooting` });
            return reply(payload);
          }
          const steps: StepLogEntry[] = [...result.steps];
          const t0 = Date.now();
          try {
            const { uuid, mac } = result.device;
            onboarded = uuid;
            const arrived = await watcher.wait({ uuid, mac, timeoutMs: waitMs, apAddress: address });
            const detail = `${arrived.uuid} at ${arrived.ip || "an unknown address"}`;
            steps.push({ name: "device arrived", ok: true, ms: Date.now() - t0, detail });
            node.status({ fill: "green", shape: "dot", text: `arrived at ${arrived.ip || "broker"}` });
            reply({ ...payload, steps, device: { ...result.device, ip: arrived.ip } });
          } catch (err) {
            const e = toMerossError(err, secrets);
            steps.push({ name: "device arrived", ok: false, ms: Date.now() - t0, error: e.message });
            m.meross = { steps, device: result.device, ...(err instanceof ArrivalError ? { reason: err.reason } : {}) };
            failMessage(node, e, done, secrets);
            const inAp = err instanceof ArrivalError && err.reason === "access-point";
            node.status({ fill: "red", shape: "ring", text: inAp ? "still in AP mode" : "did not arrive" });
          }
        } finally {
          watcher?.close();
          busy = false;
        }
      };
      run().catch((err: unknown) => {
        if (err instanceof OnboardingError) {
          // The step log goes with the message so a Catch node can show where it stopped.
          m.meross = { steps: err.steps.map((s) => (s.error ? { ...s, error: redact(s.error, secrets) } : s)) };
        }
        failMessage(node, err, done, secrets);
      });
    });
  }

  RED.nodes.registerType("meross-onboard", MerossOnboard, {
    credentials: { wifiPassword: { type: "password" }, key: { type: "password" } },
  });

  // The Scan button: a live scan on the device (up to 30 s), answered as a pickable list.
  RED.httpAdmin.post("/meross-onboard/scan", RED.auth.needsPermission("meross-onboard.write"), (req: Request, res: Response) => {
    const body: Record<string, unknown> = req.body && typeof req.body === "object" ? (req.body as Record<string, unknown>) : {};
    input.scanAt(input.addressOf(body.address)).then(
      (nets) => res.json(nets.map((n) => ({ ...n, description: describeNetwork(n) }))),
      (err: unknown) => {
        const e = toMerossError(err);
        res.status(e.code === "BAD_INPUT" ? 400 : 502).json({ error: { code: e.code, message: e.message } });
      },
    );
  });
};
