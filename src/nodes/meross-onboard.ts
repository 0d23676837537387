/**
 * meross-onboard: takes a factory-fresh device (its own access point, 10.10.10.1) onto
 * the user's Wi-Fi and MQTT broker with a key of the user's choosing, step by step
 * (protocol.md §3.1), and lists the networks the device sees ("scan").
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from "node-red";
import type { Request, Response } from "express";
import { MerossDevice } from "../core/device";
import { AP_ADDRESS, OnboardingError, onboard, scanWifi, type OnboardStep } from "../core/onboarding";
import { MerossError } from "../core/errors";
import { describeNetwork, type WifiNetwork } from "../core/codecs/wifi";
import { failMessage, redact, toMerossError } from "./shared/errors";
import { isScanRequest, resolveMqttPort, resolveWifiTarget } from "./shared/onboard-input";

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
}

interface OnboardCredentials {
  wifiPassword?: string;
  key?: string;
}

/** The order onboard() runs its steps in, to announce the next one in the status. */
const STEP_ORDER: OnboardStep["name"][] = ["read device", "read abilities", "scan wifi", "set key", "set time", "set wifi"];

function addressOf(v: unknown): string {
  return typeof v === "string" && v.trim() ? v.trim() : AP_ADDRESS;
}

/** Scans through a throwaway session: an access-point-mode device accepts any signature. */
async function scanAt(address: string): Promise<WifiNetwork[]> {
  const device = new MerossDevice({ address, key: "" });
  try {
    return await scanWifi(device);
  } finally {
    await device.close().catch(() => undefined);
  }
}

export = function (RED: NodeAPI): void {
  function MerossOnboard(this: Node, def: OnboardDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const creds = ((node as Node & { credentials?: OnboardCredentials }).credentials ?? {}) as OnboardCredentials;
    const key = typeof creds.key === "string" ? creds.key : "";
    const wifiPassword = typeof creds.wifiPassword === "string" ? creds.wifiPassword : "";
    const secrets = [key, wifiPassword];
    let busy = false;

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      const m = msg as NodeMessageInFlow & { meross?: unknown };
      const run = async (): Promise<void> => {
        if (busy) {
          throw new MerossError("BAD_INPUT", "An onboarding or scan is already running on this node. Wait for it to finish, then send again.");
        }
        busy = true;
        try {
          const address = addressOf(def.address);
          if (isScanRequest(m.payload)) {
            node.status({ fill: "blue", shape: "dot", text: "scanning…" });
            const nets = await scanAt(address);
            node.status({ fill: "green", shape: "dot", text: `${nets.length} networks` });
            m.payload = nets;
            send(m);
            done();
            return;
          }
          const wifi = resolveWifiTarget(def as unknown as Record<string, unknown>, m.payload);
          const mqttPort = resolveMqttPort(def.mqttPort);
          const mqttHost = typeof def.mqttHost === "string" ? def.mqttHost.trim() : "";
          node.status({ fill: "blue", shape: "dot", text: `${STEP_ORDER[0]}…` });
          const result = await onboard({
            address,
            mqttHost,
            mqttPort,
            key,
            userId: def.userId === undefined || def.userId === "" ? undefined : String(def.userId),
            wifi: { ...wifi, password: wifiPassword },
            onStep: (s) => {
              if (!s.ok) return;
              const next = STEP_ORDER[STEP_ORDER.indexOf(s.name) + 1];
              if (next) node.status({ fill: "blue", shape: "dot", text: `${next}…` });
            },
          });
          node.status({ fill: "green", shape: "dot", text: `onboarded ${result.device.model}, rebooting` });
          m.payload = {
            steps: result.steps,
            device: result.device,
            mqtt: result.mqtt,
            wifi: result.wifi,
          };
          send(m);
          done();
        } finally {
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
    scanAt(addressOf(body.address)).then(
      (nets) => res.json(nets.map((n) => ({ ...n, description: describeNetwork(n) }))),
      (err: unknown) => {
        const e = toMerossError(err);
        res.status(e.code === "BAD_INPUT" ? 400 : 502).json({ error: { code: e.code, message: e.message } });
      },
    );
  });
};
