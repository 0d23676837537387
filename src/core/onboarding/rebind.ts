/**
 * Re-binding a device that is already on the network (set up by the Meross app or another
 * broker) to a broker of ours: with its current key, one `Appliance.Config.Key` carrying the
 * new key and broker, and nothing else — its Wi-Fi stays as it is (docs/protocol.md §3.2:
 * the LAN accepts Config.Key on a configured device). The device signs the SETACK with the
 * new key (§1.2) and then connects to the new broker; callers confirm that with an
 * ArrivalWatcher (src/core/fleet/arrival.ts), as after onboarding.
 */
import { MerossError, asMerossError, explain } from "../errors";
import { MerossDevice, NS } from "../session/device";
import type { Transport } from "../transport/types";
import { parseSystemAll, type DeviceInfo } from "../capabilities/system";
import type { EncryptionMode, EncryptionScheme } from "../crypto/lan";
import { buildConfigKeyPayload, mqttUsername } from "./config";
import { passwordNote, type OnboardStep } from "./index";
import { loginDetail, loginReport, type LoginAdder } from "../broker/dynsec";

export const DEFAULT_REBIND_PORT = 8883;

/** The broker the device moves to, and the userId it will log in with (docs/protocol.md §5.2). */
export interface RebindBroker {
  host: string;
  port?: number;
  secondHost?: string;
  secondPort?: number;
  userId?: string | number;
}

export interface RebindOptions {
  /** The device's LAN address (optionally with :port). */
  address?: string;
  transport?: Transport;
  /** The key it signs with now: the one the app (Meross account) or the other broker gave it. */
  currentKey: string;
  /** The key it will sign with from now on. */
  newKey: string;
  broker: RebindBroker;
  timeoutMs?: number;
  encryption?: EncryptionMode;
  onStep?: (step: RebindStep) => void;
  /** Adds the device's login to the broker (Mosquitto, broker/dynsec.ts) after "read device", before "set key". */
  addLogin?: LoginAdder;
  /** Aborted (the node closed): no further step starts, a request waiting is dropped. */
  signal?: AbortSignal;
}

/** The same step log as onboarding: "read device" proves the current key, "set key" moves the device. */
export type RebindStep = Omit<OnboardStep, "name"> & { name: "read device" | "set up encryption" | "add broker login" | "set key" };

export interface RebindResult {
  steps: RebindStep[];
  device: { uuid: string; mac: string; model: string; firmware: string };
  /** The broker login the device will use; never its password (derived from the key, §5.2). */
  mqtt: { host: string; port: number; username: string; passwordNote: string };
  /** How the requests were encrypted, when the firmware required it (docs/protocol.md §4). */
  encryption?: EncryptionScheme;
  /** Where the device's Mosquitto login went (with `addLogin`). */
  mosquitto?: ReturnType<typeof loginReport>;
}

/** A failed re-bind still carries the steps that ran. */
export class RebindError extends MerossError {
  readonly steps: RebindStep[];
  constructor(cause: MerossError, steps: RebindStep[]) {
    super(cause.code, cause.message, cause.details);
    this.name = "RebindError";
    this.steps = steps;
  }
}

function validate(opts: RebindOptions): void {
  if (typeof opts !== "object" || opts === null)
    throw new MerossError("BAD_INPUT", "Re-binding needs the device address, its current key, a new key and the broker.");
  if (!opts.transport && (typeof opts.address !== "string" || opts.address.trim() === "")) {
    throw new MerossError(
      "BAD_INPUT",
      "The device address is missing. " + "Enter the IP address the device has on your network (the Meross app or your router shows it).",
    );
  }
  if (typeof opts.currentKey !== "string") {
    throw new MerossError(
      "BAD_INPUT",
      "The current key must be text: the key the device signs with now (for a device set up by the Meross app, " +
        "the key of your Meross account).",
    );
  }
  if (typeof opts.newKey !== "string") {
    throw new MerossError(
      "BAD_INPUT",
      "The new key must be text. Choose a key (any text) and keep it: every later command is signed with it.",
    );
  }
  if (typeof opts.broker !== "object" || opts.broker === null) {
    throw new MerossError(
      "BAD_INPUT",
      "The broker is missing: give the host name or IP address (and port) " + "of the MQTT broker the device should connect to.",
    );
  }
}

/**
 * Sends Config.Key to a configured device. The current key is checked first with System.All (a
 * wrong key is WRONG_KEY before anything changes) and gives the uuid and MAC the arrival needs.
 */
export async function rebind(opts: RebindOptions): Promise<RebindResult> {
  validate(opts);
  const port = opts.broker.port ?? DEFAULT_REBIND_PORT;
  const userId = String(opts.broker.userId ?? "0");
  // Checked before the device is touched: a bad host or port would leave it pointing nowhere.
  const payload = buildConfigKeyPayload({ ...opts.broker, port, key: opts.newKey, userId });
  const device = new MerossDevice({
    address: opts.address,
    transport: opts.transport,
    key: opts.currentKey,
    timeoutMs: opts.timeoutMs,
    encryption: opts.encryption,
  });
  const steps: RebindStep[] = [];
  const log = (s: RebindStep): void => {
    steps.push(s);
    opts.onStep?.(s);
  };
  let t0 = Date.now();
  device.events.on("encryption", (e) =>
    log({
      name: "set up encryption",
      ok: true,
      ms: Date.now() - t0,
      detail: e.scheme === "ecdhe" ? "ECDHE key exchange" : "static key from uuid, key and MAC",
    }),
  );
  const step = async <T>(name: RebindStep["name"], fn: () => Promise<T>, detail: (v: T) => string): Promise<T> => {
    t0 = Date.now();
    try {
      if (opts.signal?.aborted) throw new MerossError("CANCELLED", explain.cancelled(device.address, `The re-bind step "${name}"`));
      const v = await fn();
      log({ name, ok: true, ms: Date.now() - t0, detail: detail(v) });
      return v;
    } catch (err) {
      const e = asMerossError(err);
      log({ name, ok: false, ms: Date.now() - t0, error: e.message });
      throw new RebindError(e, steps);
    }
  };
  try {
    const info: DeviceInfo = await step(
      "read device",
      async () => parseSystemAll((await device.request("GET", NS.ALL, {}, { checkAbility: false, signal: opts.signal })).payload).info,
      (i) => `${i.model} ${i.uuid} firmware ${i.firmwareVersion}`,
    );
    device.learn(info);
    const addLogin = opts.addLogin;
    const added = addLogin
      ? await step("add broker login", async () => addLogin({ uuid: info.uuid, mac: info.mac, key: opts.newKey, userId }), loginDetail)
      : undefined;
    await step(
      "set key",
      // The SETACK comes signed with the new key (§1.2); the session accepts either for this reply.
      async () => device.request("SET", NS.KEY, payload, { checkAbility: false, signal: opts.signal }),
      () => `broker ${payload.key.gateway.host}:${port}`,
    );
    return {
      steps,
      device: { uuid: info.uuid, mac: info.mac, model: info.model, firmware: info.firmwareVersion },
      mqtt: { host: payload.key.gateway.host, port, username: mqttUsername(info.mac), passwordNote: passwordNote(userId) },
      ...(added ? { mosquitto: loginReport(added) } : {}),
      ...(device.encryptionScheme ? { encryption: device.encryptionScheme } : {}),
    };
  } finally {
    await device.close();
  }
}
