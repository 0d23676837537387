/** The options, events and namespace names of a device session (MerossDevice). */
import type { MerossError } from "../errors";
import type { HttpTransportOptions } from "../transport/http";
import type { Transport } from "../transport/types";
import type { EncryptionMode, EncryptionScheme } from "../crypto/lan";
import type { DeviceEvent } from "../capabilities/types";
import { NS_ABILITY, NS_ALL, NS_TIME } from "../capabilities/system";
import { NS_TOGGLE, NS_TOGGLEX } from "../capabilities/toggle";
import { NS_LIGHT } from "../capabilities/light";
import { NS_CONSUMPTIONX, NS_ELECTRICITY } from "../capabilities/electricity";
import { NS_MULTIPLE } from "../capabilities/multiple";

/** Namespaces by short name, gathered from the capability modules for callers that name one. */
export const NS = {
  ALL: NS_ALL,
  ABILITY: NS_ABILITY,
  TOGGLEX: NS_TOGGLEX,
  TOGGLE: NS_TOGGLE,
  LIGHT: NS_LIGHT,
  ELECTRICITY: NS_ELECTRICITY,
  CONSUMPTIONX: NS_CONSUMPTIONX,
  WIFILIST: "Appliance.Config.WifiList",
  WIFI: "Appliance.Config.Wifi",
  WIFIX: "Appliance.Config.WifiX",
  KEY: "Appliance.Config.Key",
  TIME: NS_TIME,
  MULTIPLE: NS_MULTIPLE,
} as const;

/**
 * A request's deadline (waiting in the queue plus running) when the caller gives none: its
 * own timeout, plus as long again to wait behind the one request ahead of it.
 */
export const DEADLINE_TIMEOUTS = 2;
/**
 * The queue's own deadline is a backstop a little after the transport's: a transport that keeps
 * its timeout reports it first, with its more precise sentence ("did not answer within …").
 */
export const DEADLINE_GRACE_MS = 250;

/** What a command of a node carries: the node's signal drops it while it still waits (node closed). */
export interface CommandOptions {
  signal?: AbortSignal;
}

export interface DeviceOptions {
  /** `host`, `host:port` or a URL; used when no transport is given (the session then owns it). */
  address?: string;
  /** A transport the caller created: the caller closes it, the session never does. */
  transport?: Transport;
  key?: string;
  /** Default per-request timeout. */
  timeoutMs?: number;
  http?: HttpTransportOptions;
  /** `from` header; any non-empty string works over HTTP (docs/protocol.md §1.4). */
  from?: string;
  /**
   * LAN encryption (§4). "auto" (default) sends plaintext until the ability list shows
   * Encrypt.ECDHE / Encrypt.Suite, or a plaintext request is dropped, then encrypts
   * everything; "static" / "ecdhe" force a key scheme; "off" never encrypts.
   */
  encryption?: EncryptionMode;
  /**
   * The device is in access-point (pairing) mode: "auto" then prefers the ECDHE exchange,
   * which is what setup tools do there (§4.3 b); configured devices get the static key (a).
   * Replies may then also be signed with the empty key the device still has.
   */
  accessPoint?: boolean;
  /**
   * Further keys a reply may be signed with. Onboarding passes the key it is about to set: a
   * device that kept it from a failed attempt (wrong Wi-Fi password) answers signed with it.
   */
  acceptKeys?: readonly string[];
  /**
   * Check each push's sign against the device key (default true). Only a session that
   * follows pushes for a broker that already checked the device's login may turn it off.
   */
  verifyPushes?: boolean;
  /**
   * Check every reply's signature (default true). Off only for a probe whose answer changes
   * nothing and whose device key is unknown: "does anything still answer at 10.10.10.1?".
   */
  verifyReplies?: boolean;
}

/** Payload of the "encryption" event: the device session started encrypting. */
export interface EncryptionEvent {
  scheme: EncryptionScheme;
}

export interface DeviceEventMap {
  event: DeviceEvent;
  busy: boolean;
  encryption: EncryptionEvent;
}

export interface DeviceStatus {
  state: "idle" | "busy" | "ok" | "error";
  error?: MerossError;
}

/** Failures that say the device did not answer at all, after which it is not sent one request after another. */
export const NO_ANSWER: ReadonlySet<string> = new Set(["TIMEOUT", "UNREACHABLE"]);

/** The most state changes one push may report (channels, sub-devices, alarms together). */
export const MAX_PUSH_EVENTS = 64;

/** Namespaces every firmware answers even before we know its ability list. */
export const ALWAYS_ALLOWED: ReadonlySet<string> = new Set<string>([NS.ALL, NS.ABILITY]);
