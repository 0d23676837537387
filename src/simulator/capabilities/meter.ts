/**
 * A multi-channel energy meter like the em06 (docs/protocol-devices.md §17.2–17.3): ElectricityX
 * per channel (mA, **mV**, mW; power negative when a channel feeds energy back, e.g. solar),
 * `mConsume` Wh counted since the start of the local month, ConsumptionH hourly slots and
 * CircuitFactor. No capture shows a successful ElectricityX reply, so the shape follows [ML]'s
 * description ⚠; channels are numbered from 1 as the em06's CircuitFactor list is.
 */
import type { Json } from "../../core/protocol/rules";
import { isObject, toInt } from "../../core/protocol/rules";
import { localDate } from "../../core/capabilities/consumption";
import type { DeviceSnapshot, SimDeviceState, SimElectricityReading } from "../types";
import { prng } from "./electricity";
import { getAck, type Capability, type CapabilitySpec, type Outcome, type SimContext, type SimRequest } from "./types";

const NAMESPACES = ["Appliance.Control.ElectricityX", "Appliance.Control.ConsumptionH", "Appliance.Control.CircuitFactor"] as const;

export interface MeterSettings {
  /** Watts per channel (channel 1 first); negative = feeding back. */
  loads: number[];
}

export class MeterCapability implements Capability {
  private readonly monthWh: number[];
  private month = "";
  private lastSec = 0;

  constructor(
    private readonly ctx: SimContext,
    private readonly settings: MeterSettings,
  ) {
    this.monthWh = settings.loads.map(() => 0);
  }

  boot(): void {
    this.lastSec = this.ctx.clock.seconds();
    this.month = this.monthOf(this.lastSec);
    const rnd = prng(`${this.ctx.uuid}:m`);
    // Some energy already this month, so a first reading is not all zeros.
    this.settings.loads.forEach((w, i) => (this.monthWh[i] = Math.max(0, Math.round(w * 24 * (1 + rnd() * 5)))));
  }

  handle(req: SimRequest): Outcome | undefined {
    if (req.method !== "GET") return undefined;
    switch (req.namespace) {
      case "Appliance.Control.ElectricityX":
        return getAck({ electricity: this.wanted(req.payload).map((ch) => this.entry(ch)) });
      case "Appliance.Control.ConsumptionH":
        return getAck({ consumptionH: this.channels().map((ch) => this.hourly(ch)) });
      case "Appliance.Control.CircuitFactor":
        return getAck({ circuitFactor: this.channels().map((channel) => ({ channel, factor: 1 })) });
      default:
        return undefined;
    }
  }

  state(state: SimDeviceState): void {
    state.meter = this.channels().map((ch) => this.reading(ch));
  }

  snapshot(snap: DeviceSnapshot): void {
    const all = this.channels().map((ch) => this.reading(ch));
    const watts = all.reduce((a, r) => a + r.power, 0) / 1000;
    const amps = all.reduce((a, r) => a + r.current, 0) / 1000;
    const volts = Math.round(all[0]?.voltage ?? 0) / 1000;
    snap.electricity = { watts: Math.round(watts * 10) / 10, volts, amps: Math.round(amps * 1000) / 1000 };
  }

  private channels(): number[] {
    return this.settings.loads.map((_, i) => i + 1);
  }

  /** `{electricity: [{channel}]}` asks for those channels; anything else (or none) means all. */
  private wanted(payload: Json): number[] {
    const list = Array.isArray(payload.electricity) ? payload.electricity : [];
    const asked = list
      .map((e) => toInt(isObject(e) ? e.channel : undefined))
      .filter((c): c is number => c !== undefined && this.channels().includes(c));
    return asked.length > 0 ? asked : this.channels();
  }

  private monthOf(sec: number): string {
    return localDate(sec, this.ctx.clock.timeRule).slice(0, 7);
  }

  /** Month counters in simulated time; a new local month restarts them. */
  private integrate(): void {
    const now = this.ctx.clock.seconds();
    const month = this.monthOf(now);
    if (month !== this.month) {
      this.month = month;
      this.monthWh.fill(0);
    } else if (now > this.lastSec) {
      const dt = now - this.lastSec;
      this.settings.loads.forEach((w, i) => (this.monthWh[i] += (Math.max(0, w) * dt) / 3600));
    }
    this.lastSec = now;
  }

  private reading(channel: number): SimElectricityReading {
    const w = this.settings.loads[channel - 1] ?? 0;
    const voltage = 230_000 + Math.round((Math.random() - 0.5) * 4000);
    const power = Math.round(w * 1000 * (1 + (Math.random() - 0.5) * 0.02));
    return { channel, current: Math.round(Math.abs(power) / (voltage / 1000)), voltage, power };
  }

  private entry(channel: number): Json {
    this.integrate();
    return { ...this.reading(channel), mConsume: Math.round(this.monthWh[channel - 1] ?? 0), factor: 0.95 };
  }

  private hourly(channel: number): Json {
    const w = Math.max(0, this.settings.loads[channel - 1] ?? 0);
    const now = this.ctx.clock.seconds();
    const data = Array.from({ length: 12 }, (_, i) => ({ timestamp: now - (12 - i) * 3600, value: Math.round(w) }));
    return { channel, total: data.reduce((a, d) => a + d.value, 0), data };
  }
}

export function meter(settings: MeterSettings): CapabilitySpec {
  return { name: "meter", namespaces: NAMESPACES, settings, create: (ctx) => new MeterCapability(ctx, settings) };
}
