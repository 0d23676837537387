/**
 * The contract between the devices-on-a-broker side (the fleet: embedded broker or an
 * existing one, presence, identity bindings, the cloud-like session) and the device
 * sessions that use it. The meross-broker node is a thin adapter around one Fleet; a
 * meross-config session, meross-state and meross-onboard only see this interface.
 */
import type { Unsubscribe, TypedEvents } from "../events";
import type { Envelope } from "../protocol/message";
import type { MqttConnection } from "../transport/mqtt";

/** One device the broker knows about right now. */
export interface BrokerPresence {
  uuid: string;
  mac?: string;
  /** The address the device connected from (embedded) or reported in a signed Bind (existing). */
  ip?: string;
  model?: string;
  firmware?: string;
  /** Subscribed to its request topic: MQTT requests reach it now. */
  listening: boolean;
  /** Epoch ms of its (re)connection, or of the first signed message seen on an existing broker. */
  since: number;
  /**
   * Its login (or signature) used a key proven to be this device's own (named for its uuid, its
   * onboarding, or a reply it signed over HTTP); false: some accepted key, which another device may hold.
   */
  proven?: boolean;
}

/** Where devices are told to connect during onboarding. */
export interface BrokerEndpoint {
  host: string;
  port: number;
}

export interface FleetEvents {
  /** A device logged in, subscribed, bound, or was seen at a new IP (only after its identity was checked). */
  device: BrokerPresence;
  /** A device disconnected (or went silent on an existing broker). */
  gone: { uuid: string };
  /** The shared connection is up (first start, or again after the broker restarted). */
  running: { connection: MqttConnection };
  /** The broker stopped or the connection was lost for good. */
  stopped: { reason: string };
  /** A PUSH from a device whose signature verified with a known key. */
  push: { uuid: string; envelope: Envelope };
  /** The embedded broker refused a login (wrong key, unknown user); never carries the password. */
  refused: BrokerRefusal;
}

/** A login the embedded broker turned down (or a message an existing broker carried that was not believed), and why. */
export interface BrokerRefusal {
  /** The device the client or message claimed to be, when it named one. */
  uuid?: string;
  clientId: string;
  /** The MQTT user name: a device's MAC address. */
  username: string;
  ip: string;
  reason: string;
}

export interface Fleet {
  readonly mode: "embedded" | "existing";
  readonly events: TypedEvents<FleetEvents>;
  /** The shared connection, once the broker runs (rejects when it could not start). */
  connection(): Promise<MqttConnection>;
  /** The shared connection now, or undefined while starting or after close. */
  currentConnection(): MqttConnection | undefined;
  devices(): BrokerPresence[];
  device(uuid: string): BrokerPresence | undefined;
  /**
   * The "device" and "gone" reports of one uuid only (undefined: gone), by a map lookup: a
   * thousand devices starting do not each hear the thousand others' logins.
   */
  watchDevice(uuid: string, listener: (p: BrokerPresence | undefined) => void): Unsubscribe;
  /** True while requests over MQTT reach this device. */
  isListening(uuid: string): boolean;
  endpoint(): Promise<BrokerEndpoint>;
  /**
   * Adds the device keys a user knows (checked at each device login and for signatures);
   * `owner` is the user's id; `uuid`, when the user names its device, binds these keys to that
   * uuid (no other key opens it). The returned function withdraws them.
   */
  useKeys(owner: string, keys: () => readonly string[], uuid?: () => string): Unsubscribe;
  /** Texts that must never be shown: the broker password. */
  secrets(): string[];
  /**
   * True when the device's live session (embedded: its login; existing broker: its latest
   * believed message) was made with `key`: only then is its address followed for that key's user.
   */
  provenWith(uuid: string, key: string): boolean;
  /**
   * The device answered with a reply signed by `key` naming `uuid` (and `mac`): proof that the
   * key is its own. Recorded in the identity book; a live session made with another key is closed.
   */
  prove(uuid: string, mac: string | undefined, key: string): void;
}
