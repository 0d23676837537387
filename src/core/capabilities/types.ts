/**
 * The capability contract: what every capability module shares with the device session. A
 * capability (toggle, light, electricity, presence…) owns its codec, its commands (functions
 * taking a session), a reducer for replies and pushes, a digest hook for its part of System.All
 * and, optionally, a poll. The session owns the transport, encryption, queue and the state
 * itself, which only reducers change.
 *
 * This file imports no capability: each module adds its state slot and its events itself, by
 * declaration merging (`declare module "./types"` augmenting `CapabilityState` and
 * `CapabilityEvents`), so a new family is its own module plus one line in registry.ts.
 */
import type { Envelope, Method } from "../protocol/message";

export type Abilities = Record<string, Record<string, unknown>>;

/** Where a state change came from: our own request/reply or the device's PUSH. */
export type ChangeSource = "push" | "reply";

/**
 * Each capability's events by type: `{ light: { light: LightState; source?: ChangeSource } }`.
 * Modules add theirs with `declare module "./types" { interface CapabilityEvents { … } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CapabilityEvents {}

type Flat<T> = { [K in keyof T]: T[K] };

/** What changed: one member per entry of CapabilityEvents, told apart by `type`. */
export type DeviceEvent = { [K in keyof CapabilityEvents]: Flat<{ type: K } & CapabilityEvents[K]> }[keyof CapabilityEvents];

/**
 * The state a session keeps; only reducers (through DeviceSession.commit) write it. Each
 * capability adds its slot with `declare module "./types" { interface MutableDeviceState { … } }`.
 */
export interface MutableDeviceState {
  abilities?: Abilities;
}

type ReadonlyValue<T> =
  T extends Map<infer K, infer V>
    ? ReadonlyMap<K, Readonly<V>>
    : T extends readonly (infer E)[]
      ? readonly Readonly<E>[]
      : T extends object
        ? Readonly<T>
        : T;

/** The same state as seen from outside the session: read-only. */
export type DeviceState = { readonly [K in keyof MutableDeviceState]: ReadonlyValue<MutableDeviceState[K]> };

/** A state change: applied to the session's state, it returns what listeners should hear. */
export type Update = (state: MutableDeviceState) => DeviceEvent[];

export interface RequestOptions {
  /** Longest time for the whole request, waiting in the device queue included (default: twice the session timeout). */
  timeoutMs?: number;
  /** Refuse namespaces missing from the ability list before sending (default true once known). */
  checkAbility?: boolean;
  /** Cancels the request while it waits in the queue (its owner closed). */
  signal?: AbortSignal;
}

/** What a capability's commands may use of a device session. */
export interface DeviceSession {
  /** Human-readable device address for error sentences (never a secret). */
  readonly address: string;
  readonly state: DeviceState;
  request(method: Method, namespace: string, payload?: Record<string, unknown>, opts?: RequestOptions): Promise<Envelope>;
  /**
   * Reads System.All/Ability once and hands the digest to every capability's `digest` hook;
   * commands call it before relying on the ability list or on what the digest told.
   */
  ready(): Promise<unknown>;
  /**
   * After ready(): reads System.All again and hands it to every digest hook, for state a device
   * answers nowhere else (the mts200b's empty Mode reply, the mod100 diffuser). Nothing else re-reads it.
   */
  rereadDigest(): Promise<void>;
  has(namespace: string): boolean;
  /** Applies a state update and tells listeners what changed. */
  commit(update: Update): void;
}

/**
 * The `all` object of one System.All reply (docs/protocol.md §6.2), as handed to every
 * capability's digest hook: `system` (hardware, firmware, time, online), `digest` (current
 * firmware's state lists: togglex, light, thermostat, hub, timerx…) and `control` (legacy
 * MT7688 firmware). Parts a reply lacks are empty objects. Untrusted JSON.
 */
export interface SystemDigest {
  readonly system: Readonly<Record<string, unknown>>;
  readonly digest: Readonly<Record<string, unknown>>;
  readonly control: Readonly<Record<string, unknown>>;
}

/**
 * What a flow sees of one event (meross-state): the item's `kind` ("presence"…), its channel, the
 * fields that go into msg.payload, and a short status text for the node.
 */
export interface FlowItem {
  kind: string;
  channel?: number;
  fields: Record<string, unknown>;
  status: string;
}

/** One namespace family, as the registry composes devices from them. */
export interface Capability {
  readonly name: string;
  /** Namespaces of this family; a device has the capability when its ability list names one. */
  readonly namespaces: readonly string[];
  /**
   * The state update a device PUSH (or a GET reply in the same shape) of one of these
   * namespaces means, or undefined when the message is not understood.
   */
  reduce?(env: Envelope, source: ChangeSource): Update | undefined;
  /**
   * This family's part of System.All, read once per session (in `ready()`): the update it
   * means, or undefined when the digest has nothing of it. A broken part throws BAD_RESPONSE.
   */
  digest?(all: SystemDigest): Update | undefined;
  /**
   * One read of this family's state, for devices nobody pushes for (HTTP only): the fleet's
   * Poller calls it on every capability the device has. Results reach listeners as events.
   */
  poll?(s: DeviceSession): Promise<void>;
  /**
   * For families meross-state has no words of its own for: what a flow sees of one of this
   * family's events, or undefined for events of other families.
   */
  output?(ev: DeviceEvent): FlowItem | undefined;
  /** The events that describe what the state already holds of this family (meross-state's first answer). */
  current?(state: DeviceState): DeviceEvent[];
}

/** The model in error sentences ("this mss310"), or "device" before System.All was read. */
export function modelOf(s: Pick<DeviceSession, "state">): string {
  return s.state.info?.model ?? "device";
}
