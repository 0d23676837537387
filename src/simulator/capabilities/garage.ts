/**
 * Garage door openers (docs/protocol-devices.md §11): GarageDoor.State, .Config and
 * .MultipleConfig with a door that physically travels. The wire carries only a contact
 * reading (`open` 1 = not shut); a SET pulses the relay and the SETACK holds the reading
 * before the pulse plus `execute` (1 moved, 0 already there), as the msg100 capture shows.
 *
 * ⚠ A real contact parts a few seconds into an opening run (§11.4); this door reports
 * `open: 1` only once fully up, so flows can watch a whole opening. Closing is as real:
 * `open: 0` when the door is down.
 *
 * Multi-door openers (msg200 fw 4.2.8, §11.2–§11.3) number doors 1..3, answer State as a list
 * with `doorEnable`, and keep timing per door in MultipleConfig instead of Config.
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
  /** State items carry `doorEnable` and MultipleConfig keeps each door's own settings (msg200 fw 4.2.8). */
  perDoor?: boolean;
  /**
   * Opt-in msg200 quirk (ML#428): every this many ms a push carries a bogus channel-0 item with a
   * `reason.online` member. Off by default.
   */
  channel0GlitchMs?: number;
}

interface Door {
  channel: number;
  /** 0 = disabled in the app (msg200 `doorEnable`, §11.2). */
  enable: number;
  /** MultipleConfig of this door (perDoor models). */
  config: Record<string, number>;
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
  private glitchMs = 0;
  private glitchTimer = 0;
  private glitchDue = false;

  constructor(
    private readonly ctx: SimContext,
    private readonly settings: GarageSettings,
  ) {
    const now = ctx.clock.seconds();
    const start = settings.startOpen ? 100 : 0;
    this.config = { ...(settings.config ?? {}) };
    this.doors = (settings.channels ?? [0]).map((channel) => ({
      channel,
      enable: 1,
      config: { ...this.config },
      travel: start,
      lmTime: now,
      reported: start ? 1 : 0,
      timer: 0,
    }));
    this.travelMs = settings.travelMs ?? 15_000;
  }

  boot(): void {
    if (this.settings.channel0GlitchMs) this.setGlitch(this.settings.channel0GlitchMs);
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
        return getAck({ config: this.asked(req.payload.config).map((d) => this.multiConfig(d)) });
      case `SET ${NS_MULTI}`:
        return this.configure(req.payload.config);
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
    const out: SimPush[] = [];
    // Pushes carry a list even where GET answers an object (§11.2 ⚠ no capture).
    if (changed.length > 0) out.push({ namespace: NS_STATE, payload: { state: changed.map((d) => this.entry(d)) } });
    if (this.glitchDue) {
      this.glitchDue = false;
      // ML#428 shows the extra `reason`; the open value of the bogus item is not reported ⚠, so it reads shut.
      const t = this.ctx.clock.seconds();
      out.push({ namespace: NS_STATE, payload: { state: [{ channel: 0, open: 0, lmTime: t, reason: { online: { timestamp: t } } }] } });
    }
    return out;
  }

  /** Starts (ms > 0) or stops (0) the periodic bogus channel-0 push of msg200 (ML#428). */
  setGlitch(ms: number): void {
    this.glitchMs = ms > 0 ? ms : 0;
    const timer = ++this.glitchTimer;
    const fire = (): void => {
      if (timer !== this.glitchTimer || this.glitchMs === 0) return;
      this.glitchDue = true;
      this.ctx.changed();
      this.ctx.later(fire, this.glitchMs);
    };
    if (this.glitchMs > 0) this.ctx.later(fire, this.glitchMs);
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
    for (const c of [this.config, ...this.doors.map((d) => d.config)]) {
      if ("doorOpenDuration" in c) c.doorOpenDuration = ms;
      if ("doorCloseDuration" in c) c.doorCloseDuration = ms;
    }
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
    // ⚠ A door disabled in the app is assumed to ignore commands like one already there (not captured).
    const there = d.enable === 0 || d.moving === dir || (!d.moving && d.travel === (open === 1 ? 100 : 0));
    if (!there) this.start(d, dir);
    const ack = { ...before, execute: there ? 0 : 1 };
    // ⚠ The msg200 SETACK shape is not captured; list-answering firmware sends a one-item list (ML#361).
    return { method: "SETACK", payload: { state: this.settings.listReplies ? [ack] : ack } };
  }

  /** `[]`/`{}` = every door, else the channels listed (§10.2). */
  private asked(raw: unknown): Door[] {
    const wanted = (Array.isArray(raw) ? raw : []).map((e) => (isObject(e) ? toInt(e.channel) : undefined));
    const list = this.doors.filter((d) => wanted.includes(d.channel));
    return list.length > 0 ? list : this.doors;
  }

  private multiConfig(d: Door): Json {
    const cfg = this.settings.perDoor ? d.config : this.config;
    // ⚠ What `timestamp`/`timestampMs` stamp is not known (§11.3): the device clock here.
    const stamps = this.settings.perDoor ? { timestamp: this.ctx.clock.seconds(), timestampMs: 0 } : {};
    return { channel: d.channel, doorEnable: d.enable, ...stamps, ...cfg };
  }

  /** MultipleConfig SET `{"config": [{"channel": 3, "doorEnable": 0, …}]}` (§11.3): known keys per door. */
  private configure(raw: unknown): Outcome {
    if (!Array.isArray(raw)) return unsupported("config must be a list");
    for (const e of raw) {
      const d = isObject(e) ? this.doors.find((x) => x.channel === toInt(e.channel)) : undefined;
      if (!d || !isObject(e)) return unsupported("unknown channel");
      const enable = toInt(e.doorEnable);
      if (enable === 0 || enable === 1) d.enable = enable;
      for (const [k, v] of Object.entries(e)) if (k in d.config && typeof v === "number") d.config[k] = v;
    }
    this.ctx.changed();
    return setAck();
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
    // Key order of the msg200 capture: channel, doorEnable, open, lmTime (§11.2).
    if (this.settings.perDoor) return { channel: d.channel, doorEnable: d.enable, open: this.contact(d), lmTime: d.lmTime };
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
