/**
 * Roller shutters (docs/protocol-devices.md §12): RollerShutter.State, .Position and .Config
 * with a motor that moves the shutter over time. SET Position 100 opens, 0 closes, -1 stops,
 * 1–99 goes there; SETACK is `{}` on every captured firmware. Full travel takes `signalOpen`
 * / `signalClose` ms from the Config (50 s in the fw 2.1.2 capture).
 *
 * Captures show the reported position unchanged while the motor runs (fw 2.1.2 polls, and
 * fw 7.6.10 still read 0 three seconds into a run, §12.3), so by default Position changes at
 * the stop; `livePosition` reports it as it moves. ⚠ fw 2.1.2 never asked for 1–99 in its
 * capture; the simulator honours them as fw ≥ 6.6.6 does.
 */
import { MerossError } from "../../core/errors";
import { isObject, toInt, type Json } from "../../core/protocol/rules";
import type { DeviceSnapshot, SimCoverState, SimDeviceState } from "../types";
import { getAck, setAck, unsupported } from "./types";
import type { Capability, CapabilitySpec, Outcome, SimContext, SimPush, SimRequest } from "./types";

const NS_STATE = "Appliance.RollerShutter.State";
const NS_POSITION = "Appliance.RollerShutter.Position";
const NS_CONFIG = "Appliance.RollerShutter.Config";
const TICK_MS = 250;

export interface RollerSettings {
  channels?: number[];
  /** Full travel times in ms (Config signalOpen / signalClose). */
  signalOpen?: number;
  signalClose?: number;
  /** Report Position while moving (default false: at the stop, as the captures show). */
  livePosition?: boolean;
  /** State entries carry `stoppedBy` (fw ≥ 6.6.6; not fw 2.1.2). */
  stoppedBy?: boolean;
}

interface Shutter {
  channel: number;
  /** Where the shutter physically is, 0 closed … 100 open. */
  at: number;
  target: number;
  /** 0 idle, 1 opening, 2 closing. */
  motion: number;
  stoppedBy: number;
  position: number;
  signalOpen: number;
  signalClose: number;
  reported: string;
  timer: number;
}

export class RollerCapability implements Capability {
  private readonly shutters: Shutter[];

  constructor(
    private readonly ctx: SimContext,
    private readonly settings: RollerSettings,
  ) {
    this.shutters = (settings.channels ?? [0]).map((channel) => ({
      channel,
      at: 0,
      target: 0,
      motion: 0,
      stoppedBy: 0,
      position: 0,
      signalOpen: settings.signalOpen ?? 50_000,
      signalClose: settings.signalClose ?? 50_000,
      reported: "",
      timer: 0,
    }));
    for (const s of this.shutters) s.reported = this.mark(s);
  }

  handle(req: SimRequest): Outcome | undefined {
    switch (`${req.method} ${req.namespace}`) {
      case `GET ${NS_STATE}`:
        return getAck({ state: this.shutters.map((s) => this.stateEntry(s)) });
      case `GET ${NS_POSITION}`:
        return getAck({ position: this.shutters.map((s) => ({ channel: s.channel, position: s.position })) });
      case `SET ${NS_POSITION}`: {
        const item = Array.isArray(req.payload.position) ? req.payload.position[0] : req.payload.position;
        if (!isObject(item)) return unsupported("position must be an object");
        const s = this.shutters.find((x) => x.channel === (toInt(item.channel) ?? 0));
        const p = toInt(item.position);
        if (!s || p === undefined || p < -1 || p > 100) return unsupported("unknown channel or position");
        this.go(s, p);
        return setAck();
      }
      case `GET ${NS_CONFIG}`:
        return getAck({ config: this.shutters.map((s) => ({ channel: s.channel, signalOpen: s.signalOpen, signalClose: s.signalClose })) });
      case `SET ${NS_CONFIG}`: {
        const items = Array.isArray(req.payload.config) ? req.payload.config : [req.payload.config];
        for (const item of items) {
          const s = isObject(item) ? this.shutters.find((x) => x.channel === (toInt(item.channel) ?? 0)) : undefined;
          if (!s || !isObject(item)) continue;
          const open = toInt(item.signalOpen);
          const close = toInt(item.signalClose);
          if (open !== undefined && open > 0) s.signalOpen = open;
          if (close !== undefined && close > 0) s.signalClose = close;
        }
        return setAck();
      }
      default:
        return undefined;
    }
  }

  /** System.All has nothing roller-specific (§12.1). */
  all(): Json {
    return {};
  }

  /** Position before State, so a client that hears "idle" already knows where the shutter stopped. */
  pushes(): SimPush[] {
    const out: SimPush[] = [];
    const moved = this.shutters.filter((s) => s.reported !== this.mark(s));
    if (moved.length === 0) return out;
    const positions = moved.filter((s) => !s.reported.startsWith(`${s.position}|`));
    if (positions.length > 0) {
      out.push({ namespace: NS_POSITION, payload: { position: positions.map((s) => ({ channel: s.channel, position: s.position })) } });
    }
    const states = moved.filter((s) => !s.reported.endsWith(`|${s.motion}|${s.stoppedBy}`));
    if (states.length > 0) out.push({ namespace: NS_STATE, payload: { state: states.map((s) => this.stateEntry(s)) } });
    for (const s of moved) s.reported = this.mark(s);
    return out;
  }

  state(state: SimDeviceState): void {
    state.covers = this.shutters.map((s) => this.view(s));
  }

  snapshot(snap: DeviceSnapshot): void {
    snap.covers = this.shutters.map((s) => this.view(s));
  }

  /** The wall switch: "open", "close" or "stop" (a bare press stops a moving shutter, else reverses it). */
  press(channel: number, action?: string): boolean {
    const s = this.shutters.find((x) => x.channel === channel);
    if (!s) throw new MerossError("BAD_INPUT", `Shutter ${channel} does not exist on the simulated ${this.ctx.model.name}.`);
    const target = action === "open" ? 100 : action === "close" ? 0 : action === "stop" || s.motion !== 0 ? -1 : s.at > 0 ? 0 : 100;
    this.go(s, target);
    return true;
  }

  setTravelMs(ms: number): void {
    for (const s of this.shutters) s.signalOpen = s.signalClose = ms;
  }

  private go(s: Shutter, target: number): void {
    s.timer++;
    if (target === -1) {
      this.stop(s, s.motion === 0 ? s.stoppedBy : 1);
      return;
    }
    if (Math.round(s.at) === target && s.motion === 0) return;
    s.target = target;
    s.motion = target > s.at ? 1 : 2;
    const timer = s.timer;
    const tick = (): void => {
      if (s.timer !== timer) return;
      const step = (100 * TICK_MS) / Math.max(1, s.motion === 1 ? s.signalOpen : s.signalClose);
      s.at = s.motion === 1 ? Math.min(s.target, s.at + step) : Math.max(s.target, s.at - step);
      if (s.at === s.target) return this.stop(s, 0);
      if (this.settings.livePosition) s.position = Math.round(s.at);
      this.ctx.changed();
      this.ctx.later(tick, TICK_MS);
    };
    this.ctx.changed();
    this.ctx.later(tick, TICK_MS);
  }

  private stop(s: Shutter, stoppedBy: number): void {
    s.timer++;
    s.motion = 0;
    s.stoppedBy = stoppedBy;
    s.position = Math.round(s.at);
    this.ctx.changed();
  }

  private mark(s: Shutter): string {
    return `${s.position}|${s.motion}|${s.stoppedBy}`;
  }

  private stateEntry(s: Shutter): Json {
    const entry: Json = { channel: s.channel, state: s.motion };
    if (this.settings.stoppedBy) entry.stoppedBy = s.stoppedBy;
    return entry;
  }

  private view(s: Shutter): SimCoverState {
    const at = Math.round(s.at);
    const state = s.motion === 1 ? "opening" : s.motion === 2 ? "closing" : at === 100 ? "open" : at === 0 ? "closed" : "stopped";
    return { kind: "roller", channel: s.channel, state, position: at };
  }
}

export function roller(settings: RollerSettings = {}): CapabilitySpec {
  return { name: "roller", namespaces: [NS_STATE, NS_POSITION, NS_CONFIG], settings, create: (ctx) => new RollerCapability(ctx, settings) };
}
