/**
 * Garage door openers (docs/protocol-devices.md §11): GarageDoor.State, .Config and
 * .MultipleConfig with a door that physically travels. The wire carries only a contact
 * reading (`open` 1 = not shut); a SET pulses the relay and the SETACK holds the reading
 * before the pulse plus `execute` (1 moved, 0 already there), as the msg100 capture shows.
 *
 * ⚠ A real contact parts a few seconds into an opening run (§11.4); this door reports
 * `open: 1` only once fully up, so flows can watch a whole opening. Closing is as real:
 * `open: 0` when the door is down.
 */
import { MerossError } from "../../core/errors";
import { isObject, toInt, type Json } from "../../core/protocol/rules";
import type { DeviceSnapshot, SimCoverState, SimDeviceState } from "../types";
import { getAck, setAck, unsupported } from "./types";
import type { Capability, CapabilitySpec, Outcome, SimContext, SimPush, SimRequest } from "./types";

const NS_STATE = "Appliance.GarageDoor.State";
const NS_CONFIG = "Appliance.GarageDoor.Config";
const NS_MULTI = "Appliance.GarageDoor.MultipleConfig";
/** How often a moving door updates the status page. */
const TICK_MS = 250;

export interface GarageSettings {
  /** Door channels: [0] on msg100, [1, 2, 3] on msg200 (§10.2). */
  channels?: number[];
  /** Time a full open or close takes in ms (default 15 s; tests shorten it). */
  travelMs?: number;
  /** GarageDoor.Config as the device reports it (msg100 fw 4.2.1 capture). */
  config?: Record<string, number>;
  /** State GET answers the list form (msg200); msg100 fw 4.2.1 answers one object. */
  listReplies?: boolean;
  /** The door starts open (the msg100 capture opens with `open: 1`). */
  startOpen?: boolean;
}

interface Door {
  channel: number;
  /** 0 down … 100 up. */
  travel: number;
  moving?: "up" | "down";
  lmTime: number;
  reported: number;
  timer: number;
}

export class GarageCapability implements Capability {
  private readonly doors: Door[];
  private readonly config: Record<string, number>;
  private travelMs: number;

  constructor(
    private readonly ctx: SimContext,
    private readonly settings: GarageSettings,
  ) {
    const now = ctx.clock.seconds();
    const start = settings.startOpen ? 100 : 0;
    this.doors = (settings.channels ?? [0]).map((channel) => ({ channel, travel: start, lmTime: now, reported: start ? 1 : 0, timer: 0 }));
    this.travelMs = settings.travelMs ?? 15_000;
    this.config = { ...(settings.config ?? {}) };
  }

  handle(req: SimRequest): Outcome | undefined {
    switch (`${req.method} ${req.namespace}`) {
      case `GET ${NS_STATE}`: {
        const list = this.doors.map((d) => this.entry(d));
        return getAck({ state: this.settings.listReplies ? list : list[0] });
      }
      case `SET ${NS_STATE}`:
        return this.command(req.payload.state);
      case `GET ${NS_CONFIG}`:
        return getAck({ config: { ...this.config } });
      case `SET ${NS_CONFIG}`:
        if (!isObject(req.payload.config)) return unsupported("config must be an object");
        for (const [k, v] of Object.entries(req.payload.config)) if (k in this.config && typeof v === "number") this.config[k] = v;
        return setAck();
      case `GET ${NS_MULTI}`:
        return getAck({ config: this.doors.map((d) => ({ channel: d.channel, doorEnable: 1, ...this.config })) });
      default:
        return undefined;
    }
  }

  all(): Json {
    return { digest: { garageDoor: this.doors.map((d) => this.entry(d)) } };
  }

  pushes(): SimPush[] {
    const changed = this.doors.filter((d) => d.reported !== this.contact(d));
    for (const d of changed) d.reported = this.contact(d);
    if (changed.length === 0) return [];
    // Pushes carry a list even where GET answers an object (§11.2 ⚠ no capture).
    return [{ namespace: NS_STATE, payload: { state: changed.map((d) => this.entry(d)) } }];
  }

  state(state: SimDeviceState): void {
    state.covers = this.doors.map((d) => this.view(d));
  }

  snapshot(snap: DeviceSnapshot): void {
    snap.covers = this.doors.map((d) => this.view(d));
  }

  /** The wall button: starts the door the other way, or stops it while it moves. */
  press(channel: number): boolean {
    const d = this.door(channel);
    if (d.moving) this.halt(d);
    else this.start(d, d.travel > 0 ? "down" : "up");
    return true;
  }

  /** Full travel time in ms; the reported door durations follow so clients pace themselves. */
  setTravelMs(ms: number): void {
    this.travelMs = ms;
    if ("doorOpenDuration" in this.config) this.config.doorOpenDuration = ms;
    if ("doorCloseDuration" in this.config) this.config.doorCloseDuration = ms;
  }

  private door(channel: number): Door {
    const d = this.doors.find((x) => x.channel === channel);
    if (!d) {
      const list = this.doors.map((x) => x.channel).join(", ");
      throw new MerossError("BAD_INPUT", `Door ${channel} does not exist on the simulated ${this.ctx.model.name}: use ${list}.`);
    }
    return d;
  }

  private command(raw: unknown): Outcome {
    const item = Array.isArray(raw) ? raw[0] : raw;
    if (!isObject(item)) return unsupported("state must be an object");
    const d = this.doors.find((x) => x.channel === (toInt(item.channel) ?? 0));
    const open = toInt(item.open);
    if (!d || (open !== 0 && open !== 1)) return unsupported("unknown channel or open value");
    const before = { ...this.entry(d) };
    const dir = open === 1 ? "up" : "down";
    const there = d.moving === dir || (!d.moving && d.travel === (open === 1 ? 100 : 0));
    if (!there) this.start(d, dir);
    return { method: "SETACK", payload: { state: { ...before, execute: there ? 0 : 1 } } };
  }

  private start(d: Door, dir: "up" | "down"): void {
    d.moving = dir;
    const timer = ++d.timer;
    const step = (100 * TICK_MS) / Math.max(1, this.travelMs);
    const tick = (): void => {
      if (d.timer !== timer || !d.moving) return;
      d.travel = Math.max(0, Math.min(100, d.travel + (dir === "up" ? step : -step)));
      if (d.travel === 0 || d.travel === 100) {
        this.halt(d);
        return;
      }
      this.ctx.changed();
      this.ctx.later(tick, TICK_MS);
    };
    this.ctx.changed();
    this.ctx.later(tick, Math.min(TICK_MS, this.travelMs));
  }

  private halt(d: Door): void {
    d.moving = undefined;
    d.timer++;
    if (d.reported !== this.contact(d)) d.lmTime = this.ctx.clock.seconds();
    this.ctx.changed();
  }

  /** The magnetic contact: apart unless the door is down, and (⚠ see header) still shut while opening. */
  private contact(d: Door): number {
    if (d.travel === 0) return 0;
    return d.moving === "up" ? 0 : 1;
  }

  private entry(d: Door): Json {
    return { channel: d.channel, open: this.contact(d), lmTime: d.lmTime };
  }

  private view(d: Door): SimCoverState {
    const resting = d.travel === 0 ? "closed" : d.travel === 100 ? "open" : "stopped";
    const state = d.moving === "up" ? "opening" : d.moving === "down" ? "closing" : resting;
    return { kind: "garage", channel: d.channel, state, position: Math.round(d.travel) };
  }
}

export function garage(settings: GarageSettings = {}): CapabilitySpec {
  return {
    name: "garage",
    namespaces: [NS_STATE, NS_CONFIG, NS_MULTI],
    settings,
    create: (ctx) => new GarageCapability(ctx, settings),
  };
}
