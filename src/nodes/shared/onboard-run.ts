/**
 * One run of meross-onboard, as the node starts it for each message: a Wi-Fi scan, an
 * onboarding, a re-bind of one device, or (re-bind mode with a list) a move of several devices
 * (onboard-many.ts). The run ends in a payload or an error; it reports nothing itself once its
 * signal is aborted (the node closed), and every device step and arrival wait honours it.
 */
import type { NodeStatus } from "node-red";
import { OnboardingError, RebindError, ArrivalWatcher, type MerossError } from "../../core";
import { toMerossError, redact } from "./errors";
import { isBlank } from "./inputs";
import * as input from "./onboard-input";
import { bind, brokerLogins, brokerTarget, confirmArrival, modeOf, rebindAddress, type OnboardRun } from "./onboard-modes";
import { isDeviceList, moveDevices } from "./onboard-many";

/** An error, its step log for msg.meross, and the status to show after the error's own. */
export type RunResult = { payload: unknown } | { error: MerossError; meross?: Record<string, unknown>; status?: NodeStatus };

export async function runOnboard(r: OnboardRun, payload: unknown): Promise<RunResult> {
  const secrets = [r.key, r.wifiPassword, r.currentKey];
  try {
    return await run(r, payload);
  } catch (err) {
    // The step log goes with the message so a Catch node can show where it stopped.
    const steps = err instanceof OnboardingError || err instanceof RebindError ? err.steps : undefined;
    const meross = steps ? { steps: steps.map((s) => (s.error ? { ...s, error: redact(s.error, secrets) } : s)) } : undefined;
    return { error: toMerossError(err, secrets), ...(meross ? { meross } : {}) };
  }
}

async function run(r: OnboardRun, payload: unknown): Promise<RunResult> {
  const { def, broker } = r;
  const secrets = [r.key, r.wifiPassword, r.currentKey];
  const mode = modeOf(def.mode);
  const rebinding = mode === "rebind";
  if (rebinding && isDeviceList(payload, def.address)) {
    if (!isBlank(def.broker) && !broker) throw input.BROKER_NOT_DEPLOYED();
    return { payload: await moveDevices(r, payload) };
  }
  const address = rebinding ? rebindAddress(def.address) : input.addressOf(def.address);
  if (!rebinding && input.isScanRequest(payload)) {
    r.status({ fill: "blue", shape: "dot", text: "scanning…" });
    const nets = await input.scanAt(address, [r.key, r.keysSet.get(r.nodeId) ?? ""]);
    r.status({ fill: "green", shape: "dot", text: `${nets.length} networks` });
    return { payload: nets };
  }
  const wifi = rebinding
    ? undefined
    : { ...input.resolveWifiTarget(def as unknown as Record<string, unknown>, payload), password: r.wifiPassword };
  if (!isBlank(def.broker) && !broker) throw input.BROKER_NOT_DEPLOYED();
  const waitMs = input.arrivalTimeoutMs(def.timeout);
  const { mqttHost, mqttPort, userId } = await brokerTarget(r);
  // Started before the device is touched: a device that reconnects quickly must not be missed.
  const watcher = broker ? new ArrivalWatcher(broker.fleet) : undefined;
  try {
    const previousKeys = [r.keysSet.get(r.nodeId) ?? ""];
    if (!rebinding) r.keysSet.set(r.nodeId, r.key);
    const logins = brokerLogins(broker);
    if (logins.warning) r.warn(logins.warning);
    const out = await bind({
      ...{ addLogin: logins.addLogin, mode, address, mqttHost, mqttPort, userId, key: r.key, currentKey: r.currentKey },
      ...{ previousKeys, wifi, signal: r.signal },
      next: (step) =>
        r.status(
          step
            ? { fill: "blue", shape: "dot", text: `${step}…` }
            : broker
              ? { fill: "blue", shape: "ring", text: "waiting for device…" }
              : {},
        ),
    });
    if (!watcher) {
      const text = rebinding ? `re-bound ${out.device.model}` : `onboarded ${out.device.model}, rebooting`;
      r.status({ fill: "green", shape: "dot", text });
      return { payload: out };
    }
    r.bound(out.device.uuid);
    if (r.key) broker?.prove(out.device.uuid, out.device.mac, r.key); // this onboarding set its key: proof kept in the identity book
    const arrival = await confirmArrival(watcher, out, waitMs, rebinding ? undefined : address, secrets, logins.warning, r.signal);
    if ("payload" in arrival) {
      r.status({ fill: "green", shape: "dot", text: `arrived at ${arrival.payload.device.ip || "broker"}` });
      return { payload: arrival.payload };
    }
    const text = arrival.inAp ? "stayed in AP mode: check Wi-Fi password" : "did not arrive";
    return { error: arrival.error, meross: arrival.meross, status: { fill: "red", shape: "ring", text } };
  } finally {
    watcher?.close();
  }
}
