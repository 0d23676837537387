/**
 * What a capability is: one family of namespaces (toggle, light, metering…) with the state it
 * owns, the pushes it sends and its firmware quirks. The firmware core (firmware.ts) gives each
 * one a SimContext; see registry.ts for how a model's capabilities are put together.
 */
import type { Envelope, Header } from "../../core/protocol/message";
import type { Json } from "../../core/protocol/rules";
import type { SimCrypto } from "../crypto";
import type { DeviceModel } from "../models";
import type { SimClock, SimSetup, SimSwitches } from "../state";
import type { DeviceSnapshot, SimDeviceState, SimEmit } from "../types";

export type { Json };

/** How long a simulated reboot keeps the device offline (real ones take seconds; tests need it short). */
export const REBOOT_MS = 80;

/** The firmware's answer to one request. */
export interface Outcome {
  /** DELETEACK: the answer to a TimerX/TriggerX DELETE (docs/protocol-devices.md §18.2 ⚠). */
  method: "GETACK" | "SETACK" | "DELETEACK" | "ERROR" | "PUSH";
  payload: Json;
  /** Work the firmware does once the reply is on the wire (reboots). */
  after?: () => void;
  /** Drop the connection instead of answering (Unbind). */
  drop?: boolean;
  /** Bytes of HTTP reply the firmware's buffer holds; longer replies are cut (docs/protocol.md §2.2). */
  replyLimit?: number;
}

export interface SimRequest {
  header: Header;
  method: string;
  namespace: string;
  payload: Json;
  /** Part of a Control.Multiple: not signed on its own, and some namespaces refuse it. */
  inner: boolean;
}

/** A state report the device pushes to its broker (docs/protocol.md §5). */
export interface SimPush {
  namespace: string;
  payload: Json;
}

/** What the firmware core offers every capability. */
export interface SimContext {
  readonly model: DeviceModel;
  readonly host: string;
  readonly uuid: string;
  readonly mac: string;
  readonly setup: SimSetup;
  readonly clock: SimClock;
  readonly switches: SimSwitches;
  readonly crypto: SimCrypto;
  readonly emit: SimEmit;
  /** System.Hardware / System.Firmware objects as the device reports them now. */
  hardware(): Json;
  firmware(): Json;
  /** The `all` object of System.All: every capability's part, merged (docs/protocol.md §6.2). */
  systemAll(): Json;
  /** Something changed: pushes what differs to the broker and emits "change". */
  changed(triggerSrc?: string): void;
  /** Runs `fn` after `ms` unless the device stopped meanwhile. */
  later(fn: () => void, ms: number): void;
  /** The device goes offline for a reboot (forgetting its ECDHE session), then runs `then`. */
  reboot(then: () => void): void;
  /** (Re)dials the broker with the current setup; off without one or in pairing mode. */
  connectBroker(): void;
  /** Back to pairing mode with no key, broker or network (Unbind). */
  factoryReset(): void;
  /** Answers one request as the firmware would (Control.Multiple uses it for its inner requests). */
  process(request: Envelope, inner: boolean): { reply: Envelope; outcome: Outcome };
}

/** One live capability of one device. */
export interface Capability {
  /** Undefined: this method of the namespace is not supported (ERROR 5000). */
  handle(req: SimRequest): Outcome | undefined;
  /** Called once the device has its uuid and MAC. */
  boot?(): void;
  /** Adds this capability's part of the System.All payload (merged deeply with the others). */
  all?(): Json;
  /** Pushes for what changed since the last call. */
  pushes?(): SimPush[];
  snapshot?(snap: DeviceSnapshot): void;
  state?(state: SimDeviceState): void;
  /** A physical button this capability owns (garage button, shutter switch); true when handled. */
  press?(channel: number, action?: string): boolean;
  /** Doors and shutters: full travel time in ms (tests shorten it). */
  setTravelMs?(ms: number): void;
}

/** A capability with its settings, as a model entry names it. */
export interface CapabilitySpec {
  readonly name: string;
  /** Namespaces it answers; the device answers only those that are also in the model's ability list. */
  readonly namespaces: readonly string[];
  /** The settings the model gave it (read-only; shown for listings and tests). */
  readonly settings?: Readonly<object>;
  create(ctx: SimContext): Capability;
}

export function getAck(payload: Json): Outcome {
  return { method: "GETACK", payload };
}

export function setAck(after?: () => void): Outcome {
  return after ? { method: "SETACK", payload: {}, after } : { method: "SETACK", payload: {} };
}

/** ERROR 5000: unknown namespace, method or payload (docs/protocol.md §1.3). */
export function unsupported(detail?: string): Outcome {
  return { method: "ERROR", payload: { error: detail ? { code: 5000, detail } : { code: 5000 } } };
}

/** Firmware-reported epoch seconds → YYYY-MM-DD (UTC). */
export function ymd(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 10);
}
