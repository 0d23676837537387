/**
 * The simulator's public shapes: how to start a device, the faults it can inject, the events it
 * emits and the state it exposes. Types only, so every part (server, MQTT session, capabilities)
 * can share them without importing one another.
 */
import type { WifiNetwork } from "../core/onboarding/wifi";
import type { MqttState } from "./mqttlink";

export type { WifiNetwork };
export type { MqttState };

export interface SimulatorQuirks {
  /** Terminate HTTP header lines with a bare LF like most firmware (default true). */
  lfOnly?: boolean;
  /** Close the TCP connection after each reply (default true). */
  closeAfterReply?: boolean;
  /** Serve one request at a time; later connections wait their turn (default true). */
  oneAtATime?: boolean;
  /** Time the firmware spends on each request, in ms (default 0). */
  processingMs?: number;
  /**
   * Encrypted models: how a refused plaintext request is answered (default: the model's way, else
   * "drop"): the connection closed, HTTP 500 with an empty body, or an ERROR reply (docs/protocol.md §4.2).
   */
  refusePlaintext?: PlaintextRefusal;
}

export type PlaintextRefusal = "drop" | "http500" | "error";

/** How to start one simulated device; every field is optional. */
export interface SimulatorOptions {
  /** A key of MODELS (default "msl120"). */
  model?: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Key of a configured device (default ""); ignored when `unconfigured`. */
  key?: string;
  /** Start in access-point (pairing) mode, as out of the box. */
  unconfigured?: boolean;
  /**
   * Set up by the Meross app: configured with `key` and an account userId, pointing at a Meross
   * cloud broker that the simulator never dials (it stays on this machine). A re-bind
   * (Config.Key from the LAN, docs/protocol.md §3.2) moves it to a broker of ours.
   */
  appPaired?: boolean;
  uuid?: string;
  mac?: string;
  userId?: string;
  /** Seed for a deterministic uuid/mac when neither is given (default: model + port). */
  seed?: string;
  /** Display name (status page, fleet); defaults to the model name. */
  name?: string;
  quirks?: SimulatorQuirks;
  /**
   * MQTT broker of a device that is already configured (as if Config.Key had set it): it
   * connects on start. Ignored when `unconfigured`, where Config.Key provides it.
   */
  gateway?: { host: string; port: number };
  /** Delay between MQTT reconnect attempts in ms (default 5000). */
  mqttReconnectMs?: number;
  /**
   * The local address the MQTT connection comes from (e.g. 127.0.0.42): many simulated devices
   * on one machine then look like devices on a LAN, each from its own address, to the broker's
   * per-address limits. Default: whatever the system picks.
   */
  mqttLocalAddress?: string;
  /**
   * Encrypted models only: also encrypt MQTT pushes (default false). ⚠ docs/protocol.md does not
   * say whether encrypted firmware encrypts MQTT; the integrations that reach it over MQTT
   * exchange plain JSON, so that is the default. Encrypted MQTT requests are accepted and
   * answered encrypted either way; Bind and Clock stay plain so the broker can bind the device.
   */
  mqttEncryption?: boolean;
}

export type Fault =
  { kind: "delay"; ms: number } | { kind: "drop" } | { kind: "truncate" } | { kind: "invalid-json" } | { kind: "http500" };

/** What a client configured with Config.Wifi / Config.WifiX, password already decrypted. */
export interface WifiConfigEvent {
  namespace: "Appliance.Config.Wifi" | "Appliance.Config.WifiX";
  ssid: string;
  /** undefined when the WifiX ciphertext could not be decrypted. */
  password: string | undefined;
  bssid?: string;
  channel?: number;
  encryption?: number;
  cipher?: number;
}

export interface RebootEvent {
  mode: "ap" | "normal";
  reason: "wifi-joined" | "wifi-failed" | "unbind";
}

export interface RequestEvent {
  method: string;
  namespace: string;
  messageId: string;
  /** Which transport the request came in on. */
  via: "http" | "mqtt";
  /** It arrived encrypted (docs/protocol.md §4.2). */
  encrypted?: boolean;
}

export interface ReplyEvent extends RequestEvent {
  replyMethod: string;
}

/** Payload of the "mqtt" event, emitted on every change of `mqttState`. */
export interface MqttStateEvent {
  state: MqttState;
}

/** Payload of the "bind" event: the broker acknowledged the Bind sent at connect. */
export interface BindAckEvent {
  messageId: string;
  method: string;
}

/** Payload of the "clock" event: the broker's reply to the Clock push set the device clock. */
export interface ClockEvent {
  timestamp: number;
}

/** Payload of the "dropped" event: a plaintext request an encrypted model closed the connection on. */
export interface DroppedEvent {
  method: string;
  namespace: string;
  via: "http" | "mqtt";
  /** How the refusal was answered over HTTP (absent: the connection was closed). */
  answer?: PlaintextRefusal;
}

/** Payload of the "ecdhe" event: a key exchange set a session key (docs/protocol.md §4.3 b). */
export interface EcdheEvent {
  mode: "ap" | "normal";
}

/** Every event a SimulatedDevice emits, by name. */
export interface SimEventMap {
  change: DeviceSnapshot;
  request: RequestEvent;
  reply: ReplyEvent;
  wifi: WifiConfigEvent;
  reboot: RebootEvent;
  mqtt: MqttStateEvent;
  bind: BindAckEvent;
  clock: ClockEvent;
  dropped: DroppedEvent;
  ecdhe: EcdheEvent;
}

export type SimEmit = <K extends keyof SimEventMap>(name: K, payload: SimEventMap[K]) => void;

export interface Gateway {
  host: string;
  port: number;
  secondHost: string;
  secondPort: number;
}

export interface SimChannelState {
  channel: number;
  on: boolean;
  /** Device-clock epoch seconds of the last change. */
  lmTime: number;
}

/** Native Meross light fields: rgb int, temperature/luminance 1..100, capacity = current mode. */
export interface SimLightState {
  rgb: number;
  temperature: number;
  luminance: number;
  capacity: number;
  /** Position of the playing Light.Effect entry, when one plays. */
  effect?: number;
}

/** Units as on the wire: mA, decivolts, mW. */
export interface SimElectricityReading {
  channel: number;
  current: number;
  voltage: number;
  power: number;
}

/** A garage door or roller shutter as a person sees it; position 0 closed … 100 open (physical, not reported). */
export interface SimCoverState {
  kind: "garage" | "roller";
  channel: number;
  state: "open" | "closed" | "opening" | "closing" | "stopped";
  position: number;
}

export interface SimDeviceState {
  channels: SimChannelState[];
  covers?: SimCoverState[];
  light?: SimLightState;
  /** Control.Fan speeds per channel (ceiling fans). */
  fans?: Array<{ channel: number; speed: number; maxSpeed: number }>;
  electricity?: SimElectricityReading;
  /** Metering plugs: today's ConsumptionX value in Wh. */
  todayWh?: number;
  /** Energy meters: one reading per channel (ElectricityX units: mA, mV, mW). */
  meter?: SimElectricityReading[];
  /** System.DNDMode: 1 = status LED off. */
  dndMode: number;
}

/** JSON-safe view for the status page and the CLI. */
export interface DeviceSnapshot {
  uuid: string;
  name: string;
  model: string;
  type: string;
  description: string;
  mode: "ap" | "normal";
  ip: string;
  port: number;
  address: string;
  channels: { channel: number; on: boolean }[];
  light?: {
    on: boolean;
    rgb: string;
    /** Approximate Kelvin (1..100 mapped linearly onto 2700..6500 K, docs/protocol.md §6.7). */
    temperature: number;
    brightness: number;
    mode: "colour" | "white";
    /** What the bulb looks like: the rgb colour, or a warm-to-cool white. */
    display: string;
  };
  electricity?: { watts: number; volts: number; amps: number };
  covers?: SimCoverState[];
  /** Thermostats: what the display shows (°C). */
  climate?: { on: boolean; mode: string; target: number; current: number; heating: boolean; windowOpen: boolean };
  /** Hubs: one line per sub-device (°C, %RH, battery %). */
  hub?: SimSubDeviceSnapshot[];
  /** Diffusers: spray mode and light. */
  diffuser?: { spray: string; light: { on: boolean; rgb: string; luminance: number } };
  wifi?: string;
  mqtt: MqttState;
}

export interface SimSubDeviceSnapshot {
  id: string;
  type: string;
  online: boolean;
  battery: number;
  temperature?: number;
  humidity?: number;
  leak?: boolean;
  /** ms200 door/window contact: true = open. */
  open?: boolean;
  /** gs559 smoke alarm: "normal", "test", "smoke alarm", "smoke alarm muted", … */
  smoke?: string;
  valve?: { on: boolean; mode: string; target: number; current: number; heating: boolean };
}

export interface LightChange {
  rgb?: number | string;
  temperature?: number;
  luminance?: number;
  on?: boolean;
}
