/**
 * Power metering (docs/protocol.md §6.9): Electricity (instant reading), ConsumptionX (daily Wh),
 * ConsumptionH (hourly) and ConsumptionConfig. Power follows relay 0; energy accumulates while it
 * is on, and a deterministic history per uuid keeps charts stable between runs.
 */
import { md5Hex } from "../../core/protocol/message";
import type { Json } from "../../core/protocol/rules";
import type { DeviceSnapshot, SimDeviceState, SimElectricityReading } from "../types";
import { getAck, ymd, type Capability, type CapabilitySpec, type Outcome, type SimContext, type SimRequest } from "./types";

const NAMESPACES = [
  "Appliance.Control.Electricity",
  "Appliance.Control.ConsumptionX",
  "Appliance.Control.ConsumptionH",
  "Appliance.Control.ConsumptionConfig",
] as const;

export interface ElectricitySettings {
  /** Calibration block of Electricity / ConsumptionConfig, as the trace shows it. */
  consumptionConfig: Record<string, number>;
  /** Watts drawn by the simulated load while the relay is on (default 60). */
  loadWatts?: number;
}

/** Small deterministic PRNG so a given uuid always shows the same consumption history. */
function prng(seed: string): () => number {
  let s = parseInt(md5Hex(seed).slice(0, 8), 16) || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) % 10_000) / 10_000;
  };
}

export class ElectricityCapability implements Capability {
  private readonly watts: number;
  private onSinceMs?: number;
  private energyMs = 0;
  private history: { date: string; time: number; value: number }[] = [];

  constructor(
    private readonly ctx: SimContext,
    private readonly settings: ElectricitySettings,
  ) {
    this.watts = settings.loadWatts ?? 60;
    ctx.switches.events.on("switch", ({ channel, on }) => {
      if (channel !== 0) return;
      if (on) this.onSinceMs = Date.now();
      else if (this.onSinceMs !== undefined) {
        this.energyMs += Date.now() - this.onSinceMs;
        this.onSinceMs = undefined;
      }
    });
  }

  /** ~30 days of history ending yesterday, seeded by the uuid. */
  boot(): void {
    const rnd = prng(this.ctx.uuid);
    const now = this.ctx.clock.seconds();
    const days: { date: string; time: number; value: number }[] = [];
    for (let d = 29; d >= 1; d--) {
      const t = now - d * 86400 + Math.floor(rnd() * 600);
      days.push({ date: ymd(t), time: t, value: Math.round(this.watts * (2 + rnd() * 6)) });
    }
    this.history = days;
  }

  handle(req: SimRequest): Outcome | undefined {
    if (req.method !== "GET") return undefined;
    switch (req.namespace) {
      case "Appliance.Control.Electricity":
        return getAck({ electricity: { ...this.read(), config: { ...this.settings.consumptionConfig } } });
      case "Appliance.Control.ConsumptionX":
        return getAck({ consumptionx: this.consumptionX() });
      case "Appliance.Control.ConsumptionH":
        return getAck({ consumptionH: [{ channel: 0, data: this.consumptionH() }] });
      case "Appliance.Control.ConsumptionConfig":
        return getAck({ config: { ...this.settings.consumptionConfig } });
      default:
        return undefined;
    }
  }

  state(state: SimDeviceState): void {
    state.electricity = this.read();
  }

  snapshot(snap: DeviceSnapshot): void {
    const e = this.read();
    snap.electricity = { watts: Math.round(e.power / 100) / 10, volts: Math.round(e.voltage) / 10, amps: Math.round(e.current) / 1000 };
  }

  /** A plausible mains reading: power follows the relay, voltage wanders around 230 V. */
  private read(): SimElectricityReading {
    const on = this.ctx.switches.get(0).on;
    const voltage = 2300 + Math.round((Math.random() - 0.5) * 40);
    const power = on ? Math.round(this.watts * 1000 * (1 + (Math.random() - 0.5) * 0.04)) : 0;
    const current = on ? Math.round(power / (voltage / 10)) : 0;
    return { channel: 0, current, voltage, power };
  }

  private energyTodayWh(): number {
    const on = this.onSinceMs !== undefined ? Date.now() - this.onSinceMs : 0;
    return Math.round(((this.energyMs + on) / 3_600_000) * this.watts);
  }

  /** ~30 daily entries, today's first and the rest oldest-first: unsorted like the mss310r trace. */
  private consumptionX(): Json[] {
    const now = this.ctx.clock.seconds();
    const today = { date: ymd(now), time: now, value: this.energyTodayWh() };
    return [today, ...this.history.filter((d) => d.date !== today.date).map((d) => ({ ...d }))];
  }

  private consumptionH(): Json[] {
    const rnd = prng(`${this.ctx.uuid}:h`);
    const now = this.ctx.clock.seconds();
    return Array.from({ length: 24 }, (_, i) => ({ timestamp: now - (24 - i) * 3600, value: Math.round(this.watts * rnd() * 0.5) }));
  }
}

export function electricity(settings: ElectricitySettings): CapabilitySpec {
  return { name: "electricity", namespaces: NAMESPACES, settings, create: (ctx) => new ElectricityCapability(ctx, settings) };
}
