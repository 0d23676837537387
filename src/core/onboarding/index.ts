/**
 * Access-point provisioning as explicit, logged steps (docs/protocol.md §3.1):
 * System.All → System.Ability → WifiList → Config.Key → System.Time → Config.Wifi[X].
 * Config.Wifi must be last: the device reboots as soon as it acknowledges it.
 */
import { MerossError, asMerossError, explain } from "../errors";
import { MerossDevice, NS } from "../session/device";
import { WIFI_SCAN_TIMEOUT_MS, type Transport } from "../transport/types";
import { parseAbility, parseSystemAll, type DeviceInfo } from "../capabilities/system";
import { buildWifiPayload, buildWifiXPayload, parseWifiList, type WifiNetwork, type WifiSettings } from "./wifi";
import { buildConfigKeyPayload, mqttUsername } from "./config";
import { buildSystemTimePayload } from "./system-time";
import { fileLogins, loginDetail, loginReport, type AddedMosquittoLogin, type LoginAdder } from "../broker/dynsec";
import { NS_ENCRYPT_ECDHE, requiresEncryption, type EncryptionMode, type EncryptionScheme } from "../crypto/lan";

/** Where a factory-fresh device answers in access-point mode. */
export const AP_ADDRESS = "10.10.10.1";
export const DEFAULT_MQTT_PORT = 8883;

/** The network to join: its name and password, plus what a scan tells (copied when missing). */
export type OnboardWifi = WifiSettings;

export interface OnboardOptions {
  address?: string;
  transport?: Transport;
  mqttHost: string;
  mqttPort?: number;
  secondHost?: string;
  secondPort?: number;
  /** The key the device will sign with from now on. */
  key: string;
  /**
   * Keys an earlier attempt may have left on the device besides `key`. A device that failed to
   * join Wi-Fi comes back in pairing mode signing with the key it was given; replies signed with
   * `key` or one of these are accepted, any other key is someone else's (factory reset needed).
   */
  previousKeys?: readonly string[];
  userId?: string | number;
  wifi: OnboardWifi;
  /** IANA time zone for System.Time; defaults to this machine's. */
  timeZone?: string;
  /** Skip the Wi-Fi scan (the network must then be fully described). */
  skipScan?: boolean;
  timeoutMs?: number;
  onStep?: (step: OnboardStep) => void;
  /** LAN encryption for devices that list Encrypt.ECDHE (default "auto": ECDHE exchange when offered). */
  encryption?: EncryptionMode;
  /**
   * A `meross certs` folder: the device's Mosquitto login and rules are added to its
   * dynamic-security.json before the device is told about the broker.
   */
  mosquittoDir?: string;
  /** Adds the device's broker login instead (live through Mosquitto's control topic, see broker/dynsec.ts). */
  addLogin?: LoginAdder;
  /** Aborted (the node closed): no further step starts, a request waiting is dropped. */
  signal?: AbortSignal;
}

export interface OnboardStep {
  name: "read device" | "read abilities" | "set up encryption" | "scan wifi" | "add broker login" | "set key" | "set time" | "set wifi";
  ok: boolean;
  ms: number;
  error?: string;
  detail?: string;
}

/** The step log callers print: the onboarding steps, plus "device arrived" where a broker confirms it. */
export type StepLogEntry = Omit<OnboardStep, "name"> & { name: OnboardStep["name"] | "device arrived" };

export interface OnboardResult {
  steps: OnboardStep[];
  device: { uuid: string; mac: string; model: string; firmware: string };
  /**
   * The broker login the device will use. Never its password: that is derived from the key
   * (docs/protocol.md §5.2), and the key is a secret that must not reach logs or msg output.
   */
  mqtt: { host: string; port: number; username: string; passwordNote: string };
  /** Where the device's Mosquitto login went: live on a running broker, or a file and how to make Mosquitto read it. */
  mosquitto?: { live?: string; file?: string; reload?: string };
  wifi: { ssid: string; namespace: string };
  /**
   * How the onboarding requests were encrypted, when the device required it. After its reboot
   * the device expects the static key derived from the new key (see MerossDevice).
   */
  encryption?: EncryptionScheme;
}

/** A failed onboarding still carries the steps that ran, for the step log. */
export class OnboardingError extends MerossError {
  readonly steps: OnboardStep[];
  constructor(cause: MerossError, steps: OnboardStep[]) {
    super(cause.code, cause.message, cause.details);
    this.name = "OnboardingError";
    this.steps = steps;
  }
}

/** The keys a device in pairing mode may sign with after our own attempts: the factory "", ours, earlier ones. */
export function pairingKeys(key: string, previous: readonly string[] = []): string[] {
  return [...new Set(["", key, ...previous].filter((k) => typeof k === "string"))];
}

/** Reads the networks an access-point-mode device can see (a live scan: up to 30 s). */
export async function scanWifi(device: MerossDevice, timeoutMs = WIFI_SCAN_TIMEOUT_MS): Promise<WifiNetwork[]> {
  try {
    const reply = await device.request("GET", NS.WIFILIST, {}, { timeoutMs, checkAbility: false });
    return parseWifiList(reply.payload);
  } catch (err) {
    throw leftPairingMode(err, device.address);
  }
}

/**
 * A device in access-point mode accepts any signature (docs/protocol.md §1.3); one that checks
 * it (error 5001) has been configured and left pairing mode. "Wrong key" would send a person
 * hunting for a key, when what they need is to put the device back into pairing mode.
 */
export function leftPairingMode(err: unknown, address: string): unknown {
  if (err instanceof MerossError && err.code === "BAD_RESPONSE" && err.details.unsigned) {
    // It answered without checking our signature (pairing mode) but signed with a key we never set.
    return new MerossError("WRONG_KEY", explain.foreignKey(address), err.details);
  }
  if (!(err instanceof MerossError) || err.code !== "WRONG_KEY") return err;
  return new MerossError(
    "WRONG_KEY",
    `The device at ${address} is no longer in access-point (pairing) mode: it checked the request's key, which a device waiting to be set up never does. ` +
      `To set it up again, hold its button for about 5 seconds until the light blinks amber and green in turn, connect this machine to its Meross_… Wi-Fi, and try again. ` +
      `A device already on your network keeps its settings: to give it a new key or broker without a reset, re-bind it with its current key.`,
    err.details,
  );
}

function validate(opts: OnboardOptions): void {
  if (!opts.mqttHost || typeof opts.mqttHost !== "string" || /\s/.test(opts.mqttHost)) {
    throw new MerossError(
      "BAD_INPUT",
      "The MQTT host is missing. Enter the IP address or host name of the broker the device should connect to (this machine's LAN address, for the embedded broker).",
    );
  }
  const port = opts.mqttPort ?? DEFAULT_MQTT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new MerossError(
      "BAD_INPUT",
      `MQTT port ${String(opts.mqttPort)} is not valid. Use a number from 1 to 65535 (8883 is usual for TLS).`,
    );
  }
  if (!opts.wifi || typeof opts.wifi.ssid !== "string" || opts.wifi.ssid.length === 0) {
    throw new MerossError(
      "BAD_INPUT",
      "The Wi-Fi network name (SSID) is missing. Scan for networks or type the SSID of your 2.4 GHz network.",
    );
  }
  if (typeof opts.key !== "string") {
    throw new MerossError(
      "BAD_INPUT",
      "The device key must be text. Choose a key (any text) and keep it: every later command is signed with it.",
    );
  }
}

export async function onboard(opts: OnboardOptions): Promise<OnboardResult> {
  validate(opts);
  const device = new MerossDevice({
    address: opts.address ?? (opts.transport ? undefined : AP_ADDRESS),
    transport: opts.transport,
    key: "",
    timeoutMs: opts.timeoutMs,
    encryption: opts.encryption,
    // Pairing mode: "auto" runs the ECDHE exchange when the device offers it (§4.3 b).
    accessPoint: true,
    // A retry after a failed Wi-Fi join: the device came back in pairing mode with our key.
    acceptKeys: pairingKeys(opts.key, opts.previousKeys),
  });
  const steps: OnboardStep[] = [];
  // Encrypted firmware drops the plaintext System.All; the session then reads the ability
  // list and sets up encryption by itself (docs/protocol.md §4.2). Logged as its own step.
  let encryptionStarted = Date.now();
  device.events.on("encryption", (e: { scheme: EncryptionScheme }) => {
    const s: OnboardStep = { name: "set up encryption", ok: true, ms: Date.now() - encryptionStarted, detail: describeScheme(e.scheme) };
    steps.push(s);
    opts.onStep?.(s);
  });
  const step = async <T>(name: OnboardStep["name"], fn: () => Promise<T>, detail?: (v: T) => string): Promise<T> => {
    const t0 = Date.now();
    try {
      if (opts.signal?.aborted) throw new MerossError("CANCELLED", explain.cancelled(device.address, `The onboarding step "${name}"`));
      const v = await fn();
      const s: OnboardStep = { name, ok: true, ms: Date.now() - t0 };
      if (detail) s.detail = detail(v);
      steps.push(s);
      opts.onStep?.(s);
      return v;
    } catch (err) {
      const e = asMerossError(err);
      const s: OnboardStep = { name, ok: false, ms: Date.now() - t0, error: e.message };
      steps.push(s);
      opts.onStep?.(s);
      throw new OnboardingError(e, steps);
    }
  };

  try {
    const info: DeviceInfo = await step(
      "read device",
      async () => {
        try {
          return parseSystemAll((await device.request("GET", NS.ALL, {}, { checkAbility: false, signal: opts.signal })).payload).info;
        } catch (err) {
          throw leftPairingMode(err, device.address);
        }
      },
      (i) => `${i.model} ${i.uuid} firmware ${i.firmwareVersion}`,
    );
    device.learn(info);
    await step(
      "read abilities",
      async () => {
        const abilities = parseAbility((await device.request("GET", NS.ABILITY, {}, { checkAbility: false, signal: opts.signal })).payload);
        device.learn(undefined, abilities);
        return Object.keys(abilities).length;
      },
      (n) => `${n} namespaces`,
    );

    const mode = opts.encryption ?? "auto";
    if (!device.encryptionScheme && mode !== "off" && (mode !== "auto" || requiresEncryption(device.abilities))) {
      // The device answered System.All in plaintext but lists encryption: encrypt the rest.
      const scheme: EncryptionScheme = mode === "static" || mode === "ecdhe" ? mode : device.has(NS_ENCRYPT_ECDHE) ? "ecdhe" : "static";
      encryptionStarted = Date.now();
      try {
        await device.useEncryption(scheme);
      } catch (err) {
        const e = asMerossError(err);
        const s: OnboardStep = { name: "set up encryption", ok: false, ms: Date.now() - encryptionStarted, error: e.message };
        steps.push(s);
        opts.onStep?.(s);
        throw new OnboardingError(e, steps);
      }
    }

    let wifi: OnboardWifi = { ...opts.wifi };
    if (!opts.skipScan) {
      await step(
        "scan wifi",
        async () => {
          const nets = await scanWifi(device);
          const match =
            nets.find((n) => n.ssid === wifi.ssid && (!wifi.bssid || sameBssid(n.bssid, wifi.bssid))) ??
            nets.find((n) => n.ssid === wifi.ssid);
          if (!match) {
            const seen = nets.map((n) => n.ssid).filter(Boolean);
            throw new MerossError(
              "BAD_INPUT",
              `The device does not see the Wi-Fi network "${wifi.ssid}". It only joins 2.4 GHz networks; it sees: ${seen.length ? seen.join(", ") : "none"}. Check the name, or move the device closer to the access point.`,
            );
          }
          wifi = {
            ...wifi,
            bssid: wifi.bssid ?? match.bssid,
            channel: wifi.channel ?? match.channel,
            encryption: wifi.encryption ?? match.encryption,
            cipher: wifi.cipher ?? match.cipher,
          };
          return match;
        },
        (m) => `${m.ssid} on channel ${m.channel}, signal ${m.signal}%`,
      );
    }

    const port = opts.mqttPort ?? DEFAULT_MQTT_PORT;
    const userId = String(opts.userId ?? "0");
    let added: AddedMosquittoLogin | undefined;
    const addLogin = opts.addLogin ?? (opts.mosquittoDir !== undefined ? fileLogins(opts.mosquittoDir) : undefined);
    if (addLogin) {
      // Before "set key": a login that cannot be added must fail while the device is still untouched.
      added = await step("add broker login", async () => addLogin({ uuid: info.uuid, mac: info.mac, key: opts.key, userId }), loginDetail);
    }
    await step(
      "set key",
      async () => {
        const payload = buildConfigKeyPayload({
          host: opts.mqttHost,
          port,
          secondHost: opts.secondHost,
          secondPort: opts.secondPort,
          key: opts.key,
          userId,
        });
        await device.request("SET", NS.KEY, payload, { checkAbility: false, signal: opts.signal });
        // The device signs everything after this with the new key (docs/protocol.md §1.2).
        device.setKey(opts.key);
      },
      () => `broker ${opts.mqttHost}:${port}`,
    );

    if (device.has(NS.TIME)) {
      await step(
        "set time",
        async () => {
          const payload = buildSystemTimePayload(Math.floor(Date.now() / 1000), opts.timeZone);
          await device.request("SET", NS.TIME, payload, { signal: opts.signal });
          return payload.time.timezone;
        },
        (tz) => tz || "UTC",
      );
    }

    const useWifiX = device.has(NS.WIFIX);
    await step(
      "set wifi",
      async () => {
        const payload = useWifiX
          ? buildWifiXPayload(wifi, wifi.password, { type: info.model, uuid: info.uuid, mac: info.mac })
          : buildWifiPayload(wifi, wifi.password);
        await device.request("SET", useWifiX ? NS.WIFIX : NS.WIFI, payload, { checkAbility: false, signal: opts.signal });
      },
      () => `${useWifiX ? "Config.WifiX" : "Config.Wifi"} ${wifi.ssid}`,
    );

    return {
      steps,
      device: { uuid: info.uuid, mac: info.mac, model: info.model, firmware: info.firmwareVersion },
      mqtt: { host: opts.mqttHost, port, username: mqttUsername(info.mac), passwordNote: passwordNote(userId) },
      ...(added ? { mosquitto: loginReport(added) } : {}),
      wifi: { ssid: wifi.ssid, namespace: useWifiX ? NS.WIFIX : NS.WIFI },
      ...(device.encryptionScheme ? { encryption: device.encryptionScheme } : {}),
    };
  } finally {
    await device.close();
  }
}

/** Says how the password is made without giving it (docs/protocol.md §5.2). */
export function passwordNote(userId: string): string {
  return `derived from the device key: ${userId}_md5(<MAC> + <key>)`;
}

/**
 * After Config.Wifi[X] the device reboots into normal mode, where [ML] talks to real mss110
 * fw 7.3.37 with the static key (a) derived from uuid, the new key and MAC (docs/protocol.md §4.3);
 * MerossDevice "auto" does the same, so nothing from this session's key needs to be kept.
 */
function describeScheme(scheme: EncryptionScheme): string {
  return scheme === "ecdhe" ? "ECDHE key exchange (session key)" : "static key from uuid, key and MAC";
}

function sameBssid(a: string, b: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/[-:]/g, "");
  return norm(a) === norm(b);
}
