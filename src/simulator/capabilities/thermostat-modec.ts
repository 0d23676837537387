/**
 * An HVAC thermostat like the mts300 (docs/protocol-devices.md §13.5): Thermostat.ModeC, key
 * `control`, a list per channel with temperatures in hundredths of °C and humidity in per mille.
 * ⚠ No ModeC reply is in the mts300 capture (its GET `{"control": []}` went unanswered): the item
 * follows the shape [ML] documents, `{channel, mode, work, targetTemp: {heat, cold}, currentTemp,
 * sensorTemp, fan: {fMode, speed, hTime}, more: {humi, hStatus, cStatus, fStatus, aStatus, hdStatus}}`.
 * A GET must name the channel (`[]` answers an empty list, as the trace's other Thermostat
 * namespaces do); a SET merges a partial item, answers SETACK `{}` and pushes the full item.
 * The room drifts towards the heat target while heating and towards the cold target while cooling.
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

const NS_MODEC = "Appliance.Control.Thermostat.ModeC";
const NS_SCHEDULEB = "Appliance.Control.Thermostat.ScheduleB";
const NS_CALIBRATION = "Appliance.Control.Thermostat.Calibration";
/** `mode`: 0 off, 1 heat, 2 cool, 3 auto (between the heat and cold targets). */
const MODE_NAMES = ["off", "heat", "cool", "auto"];
/** Hundredths of °C per second: 1 °C in 10 minutes. */
const RATE = 100 / 600;

export interface ModeCSettings {
  /** Room temperature at boot, hundredths of °C. */
  ambient?: number;
  /** Relative humidity, per mille. */
  humidity?: number;
}

export class ModeCCapability implements Capability {
  private mode = 1;
  private heat = 2000;
  private cold = 2600;
  private room: number;
  private readonly humi: number;
  private lastSec = 0;
  private reported = "";

  constructor(
    private readonly ctx: SimContext,
    settings: ModeCSettings,
  ) {
    this.room = settings.ambient ?? 1850;
    this.humi = settings.humidity ?? 495;
  }

  boot(): void {
    this.lastSec = this.ctx.clock.seconds();
    this.reported = JSON.stringify(this.item());
  }

  handle(req: SimRequest): Outcome | undefined {
    this.integrate();
    if (req.namespace === NS_SCHEDULEB && req.method === "GET") return getAck({ scheduleB: [] });
    if (req.namespace === NS_CALIBRATION && req.method === "GET")
      return getAck({ calibration: [{ channel: 0, value: 150, min: -450, max: 450, humiValue: -60 }] });
    if (req.namespace !== NS_MODEC) return undefined;
    const list = (Array.isArray(req.payload.control) ? req.payload.control : []).filter(isObject);
    if (req.method === "GET") return getAck({ control: list.some((e) => toInt(e.channel) === 0) ? [this.item()] : [] });
    if (req.method !== "SET") return undefined;
    for (const e of list.filter((x) => toInt(x.channel) === 0)) {
      const m = toInt(e.mode);
      if (m !== undefined && m >= 0 && m < MODE_NAMES.length) this.mode = m;
      if (isObject(e.targetTemp)) {
        const h = toInt(e.targetTemp.heat);
        const c = toInt(e.targetTemp.cold);
        if (h !== undefined) this.heat = Math.min(3200, Math.max(500, h));
        if (c !== undefined) this.cold = Math.min(3700, Math.max(1000, c));
      }
    }
    this.ctx.changed();
    return setAck();
  }

  all(): Json {
    // The mts300 capture's System.All carries an empty digest.
    return { digest: {} };
  }

  pushes(): SimPush[] {
    this.integrate();
    const now = JSON.stringify(this.item());
    if (now === this.reported) return [];
    this.reported = now;
    return [{ namespace: NS_MODEC, payload: { control: [this.item()] } }];
  }

  snapshot(snap: DeviceSnapshot): void {
    this.integrate();
    snap.climate = {
      on: this.mode !== 0,
      mode: MODE_NAMES[this.mode] ?? "off",
      target: this.target() / 100,
      current: Math.round(this.room) / 100,
      heating: this.heating(),
      windowOpen: false,
    };
  }

  private target(): number {
    return this.mode === 2 ? this.cold : this.heat;
  }

  private heating(): boolean {
    return (this.mode === 1 || this.mode === 3) && this.room < this.heat;
  }

  private cooling(): boolean {
    return (this.mode === 2 || this.mode === 3) && this.room > this.cold;
  }

  private integrate(): void {
    const now = this.ctx.clock.seconds();
    const dt = Math.max(0, now - this.lastSec);
    this.lastSec = now;
    if (this.heating()) this.room = Math.min(this.heat, this.room + RATE * dt);
    else if (this.cooling()) this.room = Math.max(this.cold, this.room - RATE * dt);
  }

  private item(): Json {
    const room = Math.round(this.room);
    const h = this.heating() ? 1 : 0;
    const c = this.cooling() ? 1 : 0;
    return {
      channel: 0,
      mode: this.mode,
      work: 1,
      targetTemp: { heat: this.heat, cold: this.cold },
      currentTemp: room,
      sensorTemp: room,
      fan: { fMode: 0, speed: 0, hTime: 99999 },
      more: { humi: this.humi, hStatus: h, cStatus: c, fStatus: h || c, aStatus: 0, hdStatus: 0 },
    };
  }
}

export function thermostatModeC(settings: ModeCSettings = {}): CapabilitySpec {
  return {
    name: "thermostat-modec",
    namespaces: [NS_MODEC, NS_SCHEDULEB, NS_CALIBRATION],
    settings,
    create: (ctx) => new ModeCCapability(ctx, settings),
  };
}
