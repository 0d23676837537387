/**
 * Power metering of plugs (docs/protocol.md §6.9): Electricity (instant reading: mA, dV, mW),
 * ConsumptionX (daily Wh per device-local day, restarting at local midnight), ConsumptionH
 * (hourly) and ConsumptionConfig. Power follows relay 0; energy accumulates in simulated time
 * while it is on (EnergyDays), so advancing the clock by days fills the days in. A deterministic
 * history per uuid keeps charts stable between runs. On MQTT it pushes Electricity when the load
 * changes, as metering plugs do.
 */
import { md5Hex } from "../../core/protocol/message";
import type { Json } from "../../core/protocol/rules";
import type { DeviceSnapshot, SimDeviceState, SimElectricityReading } from "../types";
import { EnergyDays } from "./energy-days";
import { getAck, type Capability, type CapabilitySpec, type Outcome, type SimContext, type SimPush, type SimRequest } from "./types";

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
export function prng(seed: string): () => number {
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
  private loadOn = false;
  private energy?: EnergyDays;
  private reportedOn?: boolean;

  constructor(
    private readonly ctx: SimContext,
    private readonly settings: ElectricitySettings,
  ) {
    this.watts = settings.loadWatts ?? 60;
    ctx.switches.events.on("switch", ({ channel, on }) => {
      if (channel !== 0) return;
      // Energy up to now was used at the old load; integrate before it changes.
      this.energy?.integrate();
      this.loadOn = on;
    });
  }

  /** ~30 days of history ending yesterday, seeded by the uuid. */
  boot(): void {
    const rnd = prng(this.ctx.uuid);
    this.loadOn = this.ctx.switches.get(0)?.on ?? false;
    this.reportedOn = this.loadOn;
    this.energy = new EnergyDays(
      this.ctx.clock,
      () => (this.loadOn ? this.watts : 0),
      () => Math.round(this.watts * (2 + rnd() * 6)),
    );
  }

  handle(req: SimRequest): Outcome | undefined {
    if (req.method !== "GET") return undefined;
    switch (req.namespace) {
      case "Appliance.Control.Electricity":
        return getAck({ electricity: { ...this.read(), config: { ...this.settings.consumptionConfig } } });
      case "Appliance.Control.ConsumptionX":
        return getAck({ consumptionx: this.days().items() });
      case "Appliance.Control.ConsumptionH":
        return getAck({ consumptionH: [{ channel: 0, data: this.consumptionH() }] });
      case "Appliance.Control.ConsumptionConfig":
        return getAck({ config: { ...this.settings.consumptionConfig } });
      default:
        return undefined;
    }
  }

  /** Metering plugs push Electricity on MQTT (docs/protocol.md §6.9); here when the load switches. */
  pushes(): SimPush[] {
    const on = this.ctx.switches.get(0).on;
    if (this.reportedOn === on) return [];
    this.reportedOn = on;
    return [{ namespace: "Appliance.Control.Electricity", payload: { electricity: this.read() } }];
  }

  state(state: SimDeviceState): void {
    state.electricity = this.read();
    state.todayWh = Math.round(this.days().today());
  }

  snapshot(snap: DeviceSnapshot): void {
    const e = this.read();
    snap.electricity = { watts: Math.round(e.power / 100) / 10, volts: Math.round(e.voltage) / 10, amps: Math.round(e.current) / 1000 };
  }

  /** Today's counter restarts, as firmware does after a reboot (ConsumptionX keeps the other days). */
  resetToday(): void {
    this.days().resetToday();
  }

  private days(): EnergyDays {
    if (!this.energy) this.boot();
    return this.energy!;
  }

  /** A plausible mains reading: power follows the relay, voltage wanders around 230 V. */
  private read(): SimElectricityReading {
    const on = this.ctx.switches.get(0).on;
    const voltage = 2300 + Math.round((Math.random() - 0.5) * 40);
    const power = on ? Math.round(this.watts * 1000 * (1 + (Math.random() - 0.5) * 0.04)) : 0;
    const current = on ? Math.round(power / (voltage / 10)) : 0;
    return { channel: 0, current, voltage, power };
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
