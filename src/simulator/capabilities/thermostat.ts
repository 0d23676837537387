/**
 * A wall thermostat like the mts200b (docs/protocol-devices.md §13.1–13.2): Thermostat.Mode in
 * tenths of °C, WindowOpened, the `digest.thermostat` part of System.All, and a room that warms
 * towards the target while the relay heats and cools off towards the ambient temperature while
 * idle, in simulated time (SimClock.advance moves it along).
 */
import { isObject, toInt, type Json } from "../../core/protocol/rules";
import type { DeviceSnapshot } from "../types";
import {
  getAck,
  setAck,
  type Capability,
  type CapabilitySpec,
  type Outcome,
  type SimContext,
  type SimPush,
  type SimRequest,
} from "./types";

const NS_MODE = "Appliance.Control.Thermostat.Mode";
const NS_WINDOW = "Appliance.Control.Thermostat.WindowOpened";
const PRESETS = ["heatTemp", "coolTemp", "ecoTemp", undefined, "manualTemp"] as const;
const MODE_NAMES = ["heat", "cool", "eco", "auto", "manual"];

export interface ThermostatSettings {
  /** mts200b fw 7.6.5/7.6.9 answer Mode GET with `{"mode": []}` (§13.1); state comes from System.All. */
  emptyModeGet?: boolean;
  /** Room temperature at boot and when nothing heats it, tenths of °C. */
  ambient?: number;
}

/** Tenths of °C per second: a radiator warms a room by about 1 °C in 10 minutes, it cools at a third of that. */
const HEAT_RATE = 10 / 600;
const COOL_RATE = 10 / 1800;

export class ThermostatCapability implements Capability {
  private onoff = 1;
  private mode = 4;
  private readonly presets: Record<string, number> = { heatTemp: 200, coolTemp: 190, ecoTemp: 180, manualTemp: 210 };
  private room: number;
  private window = 0;
  private lastSec = 0;
  private lmTime = 0;
  private reported = "";
  private reportedWindow = 0;

  constructor(
    private readonly ctx: SimContext,
    private readonly settings: ThermostatSettings,
  ) {
    this.room = settings.ambient ?? 180;
  }

  boot(): void {
    this.lastSec = this.lmTime = this.ctx.clock.seconds();
    this.reported = this.fingerprint();
  }

  handle(req: SimRequest): Outcome | undefined {
    this.integrate();
    switch (`${req.method} ${req.namespace}`) {
      case `GET ${NS_MODE}`:
        return getAck({ mode: this.settings.emptyModeGet ? [] : [this.entry()] });
      case `SET ${NS_MODE}`: {
        const list = Array.isArray(req.payload.mode) ? req.payload.mode : [req.payload.mode];
        for (const item of list) if (isObject(item)) this.apply(item);
        this.lmTime = this.ctx.clock.seconds();
        this.ctx.changed();
        // SETACK echoes the whole object with the recomputed targetTemp (§10.2, [T …14]).
        return { method: "SETACK", payload: { mode: [this.entry()] } };
      }
      case `GET ${NS_WINDOW}`:
        return getAck({ windowOpened: [this.windowEntry()] });
      default:
        return req.method === "SET" && req.namespace === NS_WINDOW ? setAck() : undefined;
    }
  }

  all(): Json {
    this.integrate();
    return { digest: { thermostat: { mode: [this.entry()], windowOpened: [this.windowEntry()] } } };
  }

  pushes(): SimPush[] {
    this.integrate();
    const out: SimPush[] = [];
    const now = this.fingerprint();
    if (now !== this.reported) out.push({ namespace: NS_MODE, payload: { mode: [this.entry()] } });
    if (this.window !== this.reportedWindow) out.push({ namespace: NS_WINDOW, payload: { windowOpened: [this.windowEntry()] } });
    this.reported = now;
    this.reportedWindow = this.window;
    return out;
  }

  snapshot(snap: DeviceSnapshot): void {
    this.integrate();
    const on = this.onoff === 1;
    snap.climate = {
      on,
      mode: MODE_NAMES[this.mode] ?? String(this.mode),
      target: this.target() / 10,
      current: Math.round(this.room) / 10,
      heating: this.heating(),
      windowOpen: this.window === 1,
    };
  }

  /** The window sensor: an open window stops heating (the firmware's open-window detection). */
  setWindow(open: boolean): void {
    this.integrate();
    this.window = open ? 1 : 0;
    this.ctx.changed();
  }

  private target(): number {
    const preset = PRESETS[this.mode];
    // Auto follows a schedule the simulator does not run: it holds the comfort preset ⚠.
    return this.presets[preset ?? "heatTemp"];
  }

  private heating(): boolean {
    return this.onoff === 1 && this.window === 0 && Math.round(this.room) < this.target();
  }

  private apply(item: Json): void {
    const on = toInt(item.onoff);
    if (on === 0 || on === 1) this.onoff = on;
    const mode = toInt(item.mode);
    if (mode !== undefined && mode >= 0 && mode < PRESETS.length) this.mode = mode;
    for (const p of PRESETS) {
      const v = p ? toInt(item[p]) : undefined;
      // Out-of-range presets are clamped to min..max (⚠ firmware behaviour unverified).
      if (p && v !== undefined) this.presets[p] = Math.min(350, Math.max(50, v));
    }
  }

  /**
   * Moves the room temperature along the simulated time since the last look. Heating stops at the
   * target (the relay then cycles around it); idle, the room cools to the target or the ambient.
   */
  private integrate(): void {
    const now = this.ctx.clock.seconds();
    const dt = Math.max(0, now - this.lastSec);
    this.lastSec = now;
    const ambient = this.settings.ambient ?? 180;
    const active = this.onoff === 1 && this.window === 0;
    const floor = active ? Math.max(ambient, this.target()) : ambient;
    if (active && this.room < this.target()) this.room = Math.min(this.target(), this.room + HEAT_RATE * dt);
    else if (this.room > floor) this.room = Math.max(floor, this.room - COOL_RATE * dt);
  }

  private entry(): Json {
    return {
      channel: 0,
      onoff: this.onoff,
      mode: this.mode,
      state: this.heating() ? 1 : 0,
      currentTemp: Math.round(this.room),
      ...this.presets,
      warning: 0,
      targetTemp: this.target(),
      min: 50,
      max: 350,
      lmTime: this.lmTime,
    };
  }

  private windowEntry(): Json {
    return { channel: 0, status: this.window, detect: 1, lmTime: this.lmTime };
  }

  private fingerprint(): string {
    const { lmTime: _lm, ...rest } = this.entry();
    return JSON.stringify(rest);
  }
}

export function thermostat(settings: ThermostatSettings = {}): CapabilitySpec {
  return { name: "thermostat", namespaces: [NS_MODE, NS_WINDOW], settings, create: (ctx) => new ThermostatCapability(ctx, settings) };
}
