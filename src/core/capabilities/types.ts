/**
 * What every capability module shares with the device session. A capability (toggle,
 * light, electricity, system, multiple) owns its codec, its commands (functions taking a
 * session) and a reducer that turns replies and pushes into state updates; the session
 * owns the transport, encryption, queue and the state itself, which only reducers change.
 */
import type { Envelope, Method } from "../protocol/message";
import type { DeviceInfo } from "./system";
import type { LightState } from "./light";
import type { ElectricityReading } from "./electricity";
import type { DailyConsumption } from "./consumption";
import type { CoverState } from "./cover";
import type { ThermostatState } from "./thermostat";
import type { AlarmType, SubDeviceState } from "./hub";
import type { DiffuserState } from "./diffuser";

export type Abilities = Record<string, Record<string, unknown>>;

/** Where a state change came from: our own request/reply or the device's PUSH. */
export type ChangeSource = "push" | "reply";

/** What changed; `source` says whether it came from our own command or the device's PUSH. */
export type DeviceEvent =
  | { type: "toggle"; channel: number; on: boolean; source?: ChangeSource }
  | { type: "light"; light: LightState; source?: ChangeSource }
  | { type: "electricity"; reading: ElectricityReading; source?: ChangeSource }
  | { type: "consumption"; days: DailyConsumption[]; source?: ChangeSource }
  | { type: "thermostat"; thermostat: ThermostatState; source?: ChangeSource }
  | { type: "subdevice"; sub: SubDeviceState; source?: ChangeSource }
  | { type: "alarm"; subId: string; alarm: AlarmType; active: boolean; source?: ChangeSource }
  | { type: "diffuser"; diffuser: DiffuserState; source?: ChangeSource }
  | { type: "info"; info: DeviceInfo }
  | { type: "online"; online: boolean; source?: "push" | "broker" }
  /** The device's timers or auto-off triggers changed (schedule.ts); nothing is cached, re-read them. */
  | { type: "schedule"; kind: "timer" | "trigger"; source?: ChangeSource }
  | { type: "cover"; cover: CoverState; source?: ChangeSource };

/** The state a session keeps; only reducers (through DeviceSession.commit) write it. */
export interface MutableDeviceState {
  info?: DeviceInfo;
  abilities?: Abilities;
  /** Last known on/off per channel. */
  toggles: Map<number, boolean>;
  light?: LightState;
  /** Last metering reading per channel (Electricity / ElectricityX, read or pushed). */
  electricity?: Map<number, ElectricityReading>;
  /** Last daily energy list (ConsumptionX). */
  consumption?: DailyConsumption[];
  /** Garage doors and roller shutters per channel (created by the first cover reading). */
  covers?: Map<number, CoverState>;
  /** Thermostat state per channel (Thermostat.Mode / ModeB). */
  thermostats?: Map<number, ThermostatState>;
  /** Hub sub-devices by id (Appliance.Hub.*), merged from partial pushes. */
  subdevices?: Map<string, SubDeviceState>;
  /** Diffuser spray and light (Diffuser.Spray / Light). */
  diffuser?: DiffuserState;
}

/** The same state as seen from outside the session: read-only. */
export interface DeviceState {
  readonly info?: Readonly<DeviceInfo>;
  readonly abilities?: Readonly<Abilities>;
  readonly toggles: ReadonlyMap<number, boolean>;
  readonly light?: Readonly<LightState>;
  readonly electricity?: ReadonlyMap<number, Readonly<ElectricityReading>>;
  readonly consumption?: readonly Readonly<DailyConsumption>[];
  readonly covers?: ReadonlyMap<number, Readonly<CoverState>>;
  readonly thermostats?: ReadonlyMap<number, Readonly<ThermostatState>>;
  readonly subdevices?: ReadonlyMap<string, Readonly<SubDeviceState>>;
  readonly diffuser?: Readonly<DiffuserState>;
}

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
  /** Reads System.All/Ability once; commands call it before relying on the ability list. */
  ready(): Promise<DeviceInfo>;
  has(namespace: string): boolean;
  /** Applies a state update and tells listeners what changed. */
  commit(update: Update): void;
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
}

/** The model in error sentences ("this mss310"), or "device" before System.All was read. */
export function modelOf(s: DeviceSession): string {
  return s.state.info?.model ?? "device";
}
