/**
 * meross-onboard's two modes as one call each: "onboard" takes a device in pairing mode onto
 * Wi-Fi and a broker (docs/protocol.md §3.1); "rebind" moves a device already on the network
 * (set up by the Meross app or another broker) to a broker with a new key, keeping its Wi-Fi,
 * with only Config.Key signed with its current key (§3.2). Both end with the same step log,
 * and with a broker node both are confirmed by the device's arrival there.
 */
import {
  MerossError,
  onboard,
  type OnboardStep,
  type StepLogEntry,
  rebind,
  ArrivalError,
  type ArrivalWatcher,
  describeValue,
  type LoginAdder,
} from "../../core";
import { isBlank } from "./inputs";
import type { NodeStatus } from "node-red";
import { STEP_ORDER, resolveMqttPort, type WifiTarget } from "./onboard-input";
import { toMerossError } from "./errors";
import type { MerossBrokerNode } from "./broker-types";

export type OnboardMode = "onboard" | "rebind";

export function modeOf(v: unknown): OnboardMode {
  if (isBlank(v) || v === "onboard") return "onboard";
  if (v === "rebind") return "rebind";
  throw new MerossError(
    "BAD_INPUT",
    `The mode ${describeValue(v)} is not known: choose "onboard" (a device in pairing mode) ` +
      `or "rebind" (a device already on your network).`,
  );
}

/** A re-bind talks to the device where it is on the LAN: there is no default address. */
export function rebindAddress(v: unknown): string {
  if (typeof v === "string" && v.trim()) return v.trim();
  throw new MerossError(
    "BAD_INPUT",
    "The device address is missing. For a re-bind, " +
      "enter the IP address the device has on your network (the Meross app or your router shows it).",
  );
}

const REBIND_ORDER: OnboardStep["name"][] = ["read device", "set up encryption", "add broker login", "set key"];

/**
 * How a device's login reaches the broker: live through the meross-broker's Mosquitto admin
 * login when it has one. An existing broker without one may well be a Mosquitto from
 * `meross certs`, which refuses a device without a login: `warning` says what to fill in.
 */
export function brokerLogins(broker: MerossBrokerNode | undefined): { addLogin?: LoginAdder; warning?: string } {
  if (!broker || broker.mode !== "existing") return {};
  if (broker.addDeviceLogin) return { addLogin: broker.addDeviceLogin };
  return {
    warning:
      'The meross-broker has no Admin user: a Mosquitto set up by "meross certs" refuses this device, because nobody adds its login. ' +
      "Fill in Admin user (meross-admin) and Admin password (the text in meross-admin.password of the meross certs folder) " +
      "in the meross-broker node, deploy, and run this again.",
  };
}

export interface BindRequest {
  mode: OnboardMode;
  address: string;
  mqttHost: string;
  mqttPort: number;
  userId?: string;
  key: string;
  /** Re-bind only: the key the device signs with now. */
  currentKey: string;
  /** Onboard only: keys an earlier attempt of this node set (a device back in pairing mode may still sign with one). */
  previousKeys?: readonly string[];
  /** Onboard only. */
  wifi?: WifiTarget & { password: string };
  /** Adds the device's broker login before it is told about the broker (see brokerLogins). */
  addLogin?: LoginAdder;
  /** The step about to run, for the node status. */
  next(step: string | undefined): void;
  /** Aborted when the node closes: no further step runs. */
  signal?: AbortSignal;
}

export interface BindOutcome {
  steps: StepLogEntry[];
  device: { uuid: string; mac: string; model: string; firmware: string };
  mqtt: { host: string; port: number; username: string; passwordNote: string };
  wifi?: { ssid: string; namespace: string };
}

/** Runs the chosen mode; its errors carry the step log (OnboardingError / RebindError). */
export async function bind(r: BindRequest): Promise<BindOutcome> {
  const order = r.mode === "rebind" ? REBIND_ORDER : STEP_ORDER;
  r.next(order[0]);
  const onStep = (s: { name: string; ok: boolean }): void => {
    if (s.ok) r.next(order[order.indexOf(s.name as OnboardStep["name"]) + 1]);
  };
  if (r.mode === "rebind") {
    const broker = { host: r.mqttHost, port: r.mqttPort, userId: r.userId };
    const res = await rebind({
      address: r.address,
      currentKey: r.currentKey,
      newKey: r.key,
      broker,
      onStep,
      addLogin: r.addLogin,
      signal: r.signal,
    });
    return { steps: res.steps, device: res.device, mqtt: res.mqtt };
  }
  const res = await onboard({
    address: r.address,
    mqttHost: r.mqttHost,
    mqttPort: r.mqttPort,
    key: r.key,
    ...(r.previousKeys?.length ? { previousKeys: r.previousKeys } : {}),
    userId: r.userId,
    wifi: r.wifi!,
    onStep,
    addLogin: r.addLogin,
    signal: r.signal,
  });
  return { steps: res.steps, device: res.device, mqtt: res.mqtt, wifi: res.wifi };
}

/**
 * Waits for the device on the broker and adds the "device arrived" step. `apAddress` (onboarding
 * only) lets a no-show be told apart from a device still in pairing mode.
 */
export async function confirmArrival(
  watcher: ArrivalWatcher,
  out: BindOutcome,
  waitMs: number,
  apAddress: string | undefined,
  secrets: string[],
  /** Said after a no-show: why the broker may have refused the device (brokerLogins' warning). */
  hint?: string,
  /** Aborted when the node closes: the wait ends at once. */
  signal?: AbortSignal,
): Promise<
  | { payload: BindOutcome & { device: BindOutcome["device"] & { ip?: string } } }
  | { error: MerossError; meross: Record<string, unknown>; inAp: boolean }
> {
  const steps: StepLogEntry[] = [...out.steps];
  const t0 = Date.now();
  try {
    const { uuid, mac } = out.device;
    const ssid = out.wifi?.ssid;
    const where = { ...(apAddress ? { apAddress } : {}), ...(ssid ? { ssid } : {}) };
    const arrived = await watcher.wait({ uuid, mac, timeoutMs: waitMs, ...where, signal });
    steps.push({
      name: "device arrived",
      ok: true,
      ms: Date.now() - t0,
      detail: `${arrived.uuid} at ${arrived.ip || "an unknown address"}`,
    });
    return { payload: { ...out, steps, device: { ...out.device, ip: arrived.ip } } };
  } catch (err) {
    const base = toMerossError(err, secrets);
    const error = hint ? new MerossError(base.code, `${base.message} ${hint}`, base.details) : base;
    steps.push({ name: "device arrived", ok: false, ms: Date.now() - t0, error: error.message });
    const reason = err instanceof ArrivalError ? err.reason : undefined;
    return { error, meross: { steps, device: out.device, ...(reason ? { reason } : {}) }, inAp: reason === "access-point" };
  }
}

export interface OnboardDef {
  mode?: string;
  address?: string;
  ssid?: string;
  mqttHost?: string;
  mqttPort?: string | number;
  userId?: string | number;
  broker?: string;
  timeout?: string | number;
}

/** What one run of the node needs: its properties, secrets, broker and reporting (silent once `signal` aborts). */
export interface OnboardRun {
  def: OnboardDef;
  nodeId: string;
  key: string;
  wifiPassword: string;
  currentKey: string;
  broker?: MerossBrokerNode;
  /** Per node id, the key its last onboarding set (see meross-onboard.ts). */
  keysSet: Map<string, string>;
  signal: AbortSignal;
  /** The node's status and warn, silent once the signal is aborted. */
  status(s: NodeStatus): void;
  warn(text: string): void;
  /** The uuid this run bound the node's key to. */
  bound(uuid: string): void;
}

/** The broker address the device is told: the node's MQTT host/port, else the meross-broker's endpoint. */
export async function brokerTarget(r: OnboardRun): Promise<{ mqttHost: string; mqttPort: number; userId?: string }> {
  const { def, broker } = r;
  let mqttHost = typeof def.mqttHost === "string" ? def.mqttHost.trim() : "";
  let mqttPort = resolveMqttPort(def.mqttPort);
  if (broker) {
    const ep = await broker.endpoint();
    if (!mqttHost) mqttHost = ep.host;
    if (isBlank(def.mqttPort)) mqttPort = ep.port;
  }
  const userId = def.userId === undefined || def.userId === "" ? undefined : String(def.userId);
  return { mqttHost, mqttPort, userId };
}
