/**
 * meross-onboard: takes a factory-fresh device (its own access point, 10.10.10.1) onto
 * the user's Wi-Fi and MQTT broker with a key of the user's choosing, step by step
 * (protocol.md §3.1), and lists the networks the device sees ("scan"). With a
 * meross-broker it also waits for the device to log in there (§3.9), because only that
 * proves the Wi-Fi and broker settings were right.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from "node-red";
import type { Request, Response } from "express";
import { MerossDevice } from "../core/session/device";
import { AP_ADDRESS, OnboardingError, onboard, scanWifi, type OnboardStep, type StepLogEntry } from "../core/onboarding";
import { MerossError } from "../core/errors";
import { describeNetwork, type WifiNetwork } from "../core/onboarding/wifi";
import { ARRIVAL_TIMEOUT_MS, ArrivalError, ArrivalWatcher, answersInApMode } from "../core/arrival";
import { describeValue } from "../core/capabilities/util";
import { failMessage, redact, toMerossError } from "./shared/errors";
import { isBlank } from "./shared/inputs";
import { isScanRequest, resolveMqttPort, resolveWifiTarget } from "./shared/onboard-input";
import { isMerossBroker, type BrokerPresence, type MerossBrokerNode } from "./shared/broker-types";

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


interface Arrived {
  uuid: string;
  ip: string;
}

/** The device's first broker connection must get its Bind answered before we stop caring (protocol.md §3.9). */
function arrivalTimeoutMs(v: unknown): number {
  if (isBlank(v)) return ARRIVAL_TIMEOUT_MS;
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : NaN;
  if (!Number.isFinite(n) || n < 1 || n > 3600) {
    throw new MerossError("BAD_INPUT", `The arrival timeout ${describeValue(v)} is not valid: use a number of seconds from 1 to 3600 (90 is usual).`);
  }
  return n * 1000;
}

/**
 * An existing broker shows no logins, only messages: the device has arrived when its
 * Bind (the first thing firmware publishes, §5.4) is seen after the watch started.
 */
function watchPresence(broker: MerossBrokerNode): { wait(uuid: string, mac: string, timeoutMs: number, apAddress: string): Promise<Arrived>; close(): void } {
  const seen = new Map<string, BrokerPresence>();
  const listeners = new Set<() => void>();
  const onDevice = (p: BrokerPresence): void => {
    seen.set(p.uuid.toLowerCase(), p);
    for (const fn of [...listeners]) fn();
  };
  broker.events.on("device", onDevice);
  return {
    wait: (uuid, mac, timeoutMs, apAddress) =>
      new Promise<Arrived>((resolve, reject) => {
        const check = (): void => {
          const p = seen.get(uuid.toLowerCase());
          if (!p) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve({ uuid: p.uuid, ip: p.ip ?? "" });
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          const s = Math.round(timeoutMs / 100) / 10;
          const head = `The device ${uuid} did not show up on the MQTT broker within ${s} s`;
          answersInApMode(apAddress, mac).then(
            (ap) =>
              reject(
                ap
                  ? new ArrivalError("access-point", `${head}: it is still in access-point mode at ${apAddress}: the Wi-Fi password or SSID was probably wrong, or the network is 5 GHz; the device only joins 2.4 GHz networks. Check them and onboard again.`)
                  : new ArrivalError("no-connection", `${head}: it left access-point mode but never reached the broker, or the broker refused it: check the broker host and port the device was given (this broker's LAN address, not 127.0.0.1, for a real device), that the port is open and speaks TLS, and that the broker accepts the device's login.`),
              ),
            () => reject(new ArrivalError("no-connection", `${head}.`)),
          );
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    close: () => {
      broker.events.off("device", onDevice);
      listeners.clear();
    },
  };
}

interface OnboardCredentials {
  wifiPassword?: string;
  key?: string;
}

/** The order onboard() runs its steps in, to announce the next one in the status. */
const STEP_ORDER: OnboardStep["name"][] = ["read device", "read abilities", "set up encryption", "scan wifi", "set key", "set time", "set wifi"];

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
    const brokerNode = typeof def.broker === "string" && def.broker ? RED.nodes.getNode(def.broker) : null;
    const broker = isMerossBroker(brokerNode) ? brokerNode : undefined;
    // The broker must accept the new key before the device first dials in with it.
    broker?.useKeys(node.id, () => [key]);
    node.on("close", (_removed: boolean, done: () => void) => {
      broker?.dropKeys(node.id);
      done();
    });

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
          if (!isBlank(def.broker) && !broker) {
            throw new MerossError("BAD_INPUT", "The MQTT broker chosen in this meross-onboard node is not deployed. Open the node and pick a meross-broker again, then deploy.");
          }
          const waitMs = arrivalTimeoutMs(def.timeout);
          let mqttHost = typeof def.mqttHost === "string" ? def.mqttHost.trim() : "";
          let mqttPort = resolveMqttPort(def.mqttPort);
          if (broker) {
            const ep = await broker.endpoint();
            if (!mqttHost) mqttHost = ep.host;
            if (isBlank(def.mqttPort)) mqttPort = ep.port;
          }
          // Started before the device is touched: a device that rejoins quickly must not be missed.
          const embedded = broker ? await broker.embedded() : undefined;
          const watcher = embedded ? new ArrivalWatcher(embedded) : undefined;
          const presence = broker && !embedded ? watchPresence(broker) : undefined;
          try {
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
                else if (broker) node.status({ fill: "blue", shape: "ring", text: "waiting for device…" });
              },
            });
            const payload: Record<string, unknown> = { steps: result.steps as StepLogEntry[], device: { ...result.device }, mqtt: result.mqtt, wifi: result.wifi };
            if (!broker) {
              node.status({ fill: "green", shape: "dot", text: `onboarded ${result.device.model}, rebooting` });
              m.payload = payload;
              send(m);
              done();
              return;
            }
            const steps: StepLogEntry[] = [...result.steps];
            const t0 = Date.now();
            try {
              const arrived: Arrived = watcher
                ? await watcher.wait({ uuid: result.device.uuid, mac: result.device.mac, timeoutMs: waitMs, apAddress: address })
                : await (presence as ReturnType<typeof watchPresence>).wait(result.device.uuid, result.device.mac, waitMs, address);
              steps.push({ name: "device arrived", ok: true, ms: Date.now() - t0, detail: `${arrived.uuid} at ${arrived.ip || "an unknown address"}` });
              node.status({ fill: "green", shape: "dot", text: `arrived at ${arrived.ip || "broker"}` });
              m.payload = { ...payload, steps, device: { ...result.device, ip: arrived.ip } };
              send(m);
              done();
            } catch (err) {
              const e = toMerossError(err, secrets);
              steps.push({ name: "device arrived", ok: false, ms: Date.now() - t0, error: e.message });
              m.meross = { steps, device: result.device, ...(err instanceof ArrivalError ? { reason: err.reason } : {}) };
              failMessage(node, e, done, secrets);
              node.status({ fill: "red", shape: "ring", text: err instanceof ArrivalError && err.reason === "access-point" ? "still in AP mode" : "did not arrive" });
            }
          } finally {
            watcher?.close();
            presence?.close();
          }
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
