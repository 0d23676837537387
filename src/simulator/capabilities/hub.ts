/**
 * A hub like the msh300 with its sub-devices (docs/protocol-devices.md §14): temperature/humidity
 * sensors (ms100), leak sensors (ms400), door/window contacts (ms200), smoke alarms (gs559) and
 * radiator valves (mts100v3), addressed by id. Answers `[]` with every sub-device and `[{id}]` with
 * those asked for; pushes partial lists on change. Batteries drain and valves warm their room in
 * simulated time; a leak, a door, a smoke alarm or a smoke test are triggered from outside.
 */
import { isObject, toInt, type Json } from "../../core/protocol/rules";
import type { DeviceSnapshot, SimSubDeviceSnapshot } from "../types";
import { NS_DOOR, NS_SMOKE, SMOKE, SMOKE_TEST_MS, type SensorFields, type SubType } from "./hub-sensors";
import { doorGetItem, doorItem, latestItem, leakItem, listOf, noteDoor, sensorAllItem, sensorDigest } from "./hub-sensors";
import { isValve, smokeItem, smokeName, smokeRequest, tempHumItem } from "./hub-sensors";
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

const NS = {
  digest: "Appliance.Digest.Hub",
  online: "Appliance.Hub.Online",
  battery: "Appliance.Hub.Battery",
  togglex: "Appliance.Hub.ToggleX",
  sensorAll: "Appliance.Hub.Sensor.All",
  tempHum: "Appliance.Hub.Sensor.TempHum",
  latest: "Appliance.Hub.Sensor.Latest",
  leak: "Appliance.Hub.Sensor.WaterLeak",
  door: NS_DOOR,
  smoke: NS_SMOKE,
  valveAll: "Appliance.Hub.Mts100.All",
  mode: "Appliance.Hub.Mts100.Mode",
  temperature: "Appliance.Hub.Mts100.Temperature",
  adjust: "Appliance.Hub.Mts100.Adjust",
} as const;

export type { SubType };

export interface HubSettings {
  subs: Array<{ id: string; type: SubType; battery?: number }>;
  /** Bytes of HTTP reply the hub's buffer holds: longer replies are cut, not valid JSON (§14.5, docs/protocol.md §2.2). */
  replyLimit?: number;
}

interface Sub extends SensorFields {
  onoff: number;
  mode: number;
  presets: { custom: number; comfort: number; economy: number; away: number };
  /** Bumped to cancel a running smoke test's return to normal. */
  testRun: number;
}

/** Battery percent lost per simulated day: a sensor lasts about a year, a valve's AA cells longer ⚠ (no capture). */
const DRAIN_PER_DAY: Record<SubType, number> = { ms100: 0.3, ms130: 0.3, ms400: 0.25, ms200: 0.25, gs559: 0.1, mts100v3: 0.2, mts150: 0.2 };
const VALVE_PRESETS = ["custom", "comfort", "economy", undefined, "away"] as const;
const VALVE_MODES = ["manual", "heat", "eco", "auto", "away"];
const HEAT_RATE = 10 / 900;

export class HubCapability implements Capability {
  private readonly subs: Sub[];
  private lastSec = 0;
  private reported = new Map<string, string>();

  constructor(
    private readonly ctx: SimContext,
    private readonly settings: HubSettings,
  ) {
    this.subs = settings.subs.map((s) => ({
      id: s.id,
      type: s.type,
      battery: s.battery ?? 100,
      lastActive: 0,
      temp: isValve(s.type) ? 170 : s.type === "ms130" ? 213 : 205,
      hum: 480,
      leak: 0,
      onoff: 1,
      mode: 0,
      presets: { custom: 210, comfort: 220, economy: 170, away: 120 },
      alarm: { id: s.id, status: s.type === "gs559" ? SMOKE.normal : 0, lmTime: 0, history: [] },
      testRun: 0,
    }));
  }

  boot(): void {
    this.lastSec = this.ctx.clock.seconds();
    for (const s of this.subs) s.lastActive = s.alarm.lmTime = this.lastSec;
    for (const s of this.subs) this.reported.set(s.id, JSON.stringify(this.view(s)));
  }

  handle(req: SimRequest): Outcome | undefined {
    this.integrate();
    const key = Object.keys(req.payload)[0] ?? "";
    const asked = this.wanted(req.payload[key]);
    if (req.method === "SET") return this.set(req.namespace, req.payload);
    if (req.method !== "GET") return undefined;
    const out = this.get(req.namespace, asked);
    return out && this.settings.replyLimit ? { ...out, replyLimit: this.settings.replyLimit } : out;
  }

  private get(namespace: string, asked: Sub[]): Outcome | undefined {
    switch (namespace) {
      case NS.digest:
        return getAck({ hub: this.digest() });
      case NS.online:
        return getAck({ online: asked.map((s) => ({ id: s.id, status: 1, lastActiveTime: s.lastActive })) });
      case NS.battery:
        return getAck({ battery: asked.map((s) => ({ id: s.id, value: Math.round(s.battery) })) });
      case NS.togglex:
        return getAck({ togglex: asked.map((s) => ({ id: s.id, onoff: isValve(s.type) ? s.onoff : 0 })) });
      case NS.sensorAll:
        return getAck({ all: asked.filter((s) => !isValve(s.type)).map((s) => sensorAllItem(s)) });
      case NS.tempHum:
        return getAck({ tempHum: asked.filter((s) => s.type === "ms100").map((s) => tempHumItem(s)) });
      case NS.latest:
        return getAck({ latest: asked.filter((s) => s.type === "ms100").map((s) => latestItem(s)) });
      case NS.leak:
        return getAck({ waterLeak: asked.filter((s) => s.type === "ms400").map((s) => leakItem(s)) });
      case NS.door:
        return getAck({ doorWindow: asked.filter((s) => s.type === "ms200").map((s) => doorGetItem(s.alarm)) });
      case NS.smoke:
        return getAck({ smokeAlarm: asked.filter((s) => s.type === "gs559").map((s) => ({ id: s.id, ...smokeItem(s.alarm) })) });
      case NS.valveAll:
        return getAck({ all: this.valves(asked).map((s) => this.valveAll(s)) });
      case NS.mode:
        return getAck({ mode: this.valves(asked).map((s) => ({ id: s.id, state: s.mode })) });
      case NS.temperature:
        return getAck({ temperature: this.valves(asked).map((s) => ({ id: s.id, ...this.temps(s) })) });
      case NS.adjust:
        return getAck({ adjust: this.valves(asked).map((s) => ({ id: s.id, temperature: 0 })) });
      default:
        return undefined;
    }
  }

  all(): Json {
    this.integrate();
    return { digest: { hub: this.digest() } };
  }

  pushes(): SimPush[] {
    this.integrate();
    const out: SimPush[] = [];
    for (const s of this.subs) {
      const was = JSON.parse(this.reported.get(s.id) ?? "{}") as Record<string, unknown>;
      const now = this.view(s);
      this.reported.set(s.id, JSON.stringify(now));
      if (was.battery !== now.battery) out.push({ namespace: NS.battery, payload: { battery: [{ id: s.id, value: now.battery }] } });
      if (s.type === "ms100" && (was.temperature !== now.temperature || was.humidity !== now.humidity))
        out.push({ namespace: NS.tempHum, payload: { tempHum: [tempHumItem(s)] } });
      if (s.type === "ms400" && was.leak !== now.leak) out.push({ namespace: NS.leak, payload: { waterLeak: [leakItem(s)] } });
      // Contacts and smoke alarms push their own namespace as a list by id, like the leak sensor (§14.2 ⚠ shape not captured).
      if (s.type === "ms200" && was.open !== now.open)
        out.push({ namespace: NS.door, payload: { doorWindow: [{ id: s.id, ...doorItem(s.alarm) }] } });
      if (s.type === "gs559" && was.smoke !== now.smoke)
        out.push({ namespace: NS.smoke, payload: { smokeAlarm: [{ id: s.id, ...smokeItem(s.alarm) }] } });
      if (!isValve(s.type)) continue;
      const v = now.valve!;
      const wv = (was.valve ?? {}) as Record<string, unknown>;
      if (wv.on !== v.on) out.push({ namespace: NS.togglex, payload: { togglex: [{ id: s.id, onoff: s.onoff }] } });
      if (wv.mode !== v.mode) out.push({ namespace: NS.mode, payload: { mode: [{ id: s.id, state: s.mode }] } });
      // Valve pushes are partial (§14.4): only the fields that moved.
      const t: Json = { id: s.id };
      if (wv.target !== v.target) t.currentSet = this.currentSet(s);
      if (wv.current !== v.current) t.room = Math.round(s.temp);
      if (wv.heating !== v.heating) t.heating = this.heating(s) ? 1 : 0;
      if (Object.keys(t).length > 1) out.push({ namespace: NS.temperature, payload: { temperature: [t] } });
    }
    return out;
  }

  snapshot(snap: DeviceSnapshot): void {
    this.integrate();
    snap.hub = this.subs.map((s) => this.view(s));
  }

  /** The leak sensor gets wet (or dry again): what the status page's "Trigger leak" does. */
  setLeak(id: string, leak: boolean): boolean {
    const s = this.sub(id, "ms400");
    if (!s) return false;
    this.integrate();
    s.leak = leak ? 1 : 0;
    s.lastActive = this.ctx.clock.seconds();
    this.ctx.changed();
    return true;
  }

  /** Ids of the sub-devices of one type, in the hub's order. */
  ofType(type: SubType): string[] {
    return this.subs.filter((s) => s.type === type).map((s) => s.id);
  }

  leakSensors(): string[] {
    return this.ofType("ms400");
  }

  /** The ms200 contact parts (door opened) or meets again: the hub pushes Hub.Sensor.DoorWindow. */
  setDoor(id: string, open: boolean): boolean {
    const s = this.sub(id, "ms200");
    if (!s) return false;
    this.integrate();
    if (noteDoor(s.alarm, open, this.ctx.clock.seconds())) this.ctx.changed();
    return true;
  }

  /** A smoke alarm sounds (25) or goes back to normal (170). */
  setSmoke(id: string, alarm: boolean): boolean {
    const s = this.sub(id, "gs559");
    if (s) this.smokeStatus(s, alarm ? SMOKE.smoke : SMOKE.normal);
    return !!s;
  }

  /** The test button: 23 for `ms`, then back to 170 (§14.5), each pushed. */
  smokeTest(id: string, ms = SMOKE_TEST_MS): boolean {
    const s = this.sub(id, "gs559");
    if (!s) return false;
    this.smokeStatus(s, SMOKE.test);
    const run = s.testRun;
    this.ctx.later(() => {
      if (s.testRun === run && s.alarm.status === SMOKE.test) this.smokeStatus(s, SMOKE.normal);
    }, ms);
    return true;
  }

  private sub(id: unknown, type: SubType): Sub | undefined {
    return this.subs.find((x) => x.id === id && x.type === type);
  }

  private smokeStatus(s: Sub, status: number): void {
    this.integrate();
    s.testRun++;
    if (s.alarm.status === status) return;
    s.alarm.status = status;
    s.alarm.lmTime = this.ctx.clock.seconds();
    this.ctx.changed();
  }

  private set(ns: string, payload: Json): Outcome | undefined {
    const list = (key: string): Json[] => (Array.isArray(payload[key]) ? payload[key] : []).filter(isObject);
    const find = (e: Json): Sub | undefined => this.subs.find((s) => s.id === e.id && isValve(s.type));
    switch (ns) {
      case NS.smoke:
        // Test = SET 23; mute = SET the muted code of what sounds now (§14.3 ⚠); anything else is left alone.
        for (const e of listOf(payload, "smokeAlarm")) {
          const s = this.sub(e.id, "gs559");
          const ask = s && smokeRequest(s.alarm, e);
          if (s && ask === "test") this.smokeTest(s.id);
          else if (s && typeof ask === "number") this.smokeStatus(s, ask);
        }
        return setAck();
      case NS.togglex:
        for (const e of list("togglex")) {
          const s = find(e);
          const on = toInt(e.onoff);
          if (s && (on === 0 || on === 1)) s.onoff = on;
        }
        this.ctx.changed();
        return setAck();
      case NS.mode:
        for (const e of list("mode")) {
          const s = find(e);
          const m = toInt(e.state);
          if (s && m !== undefined && m >= 0 && m < VALVE_PRESETS.length) s.mode = m;
        }
        this.ctx.changed();
        return setAck();
      case NS.temperature: {
        const touched: Sub[] = [];
        for (const e of list("temperature")) {
          const s = find(e);
          if (!s) continue;
          for (const p of ["custom", "comfort", "economy", "away"] as const) {
            const v = toInt(e[p]);
            if (v !== undefined) s.presets[p] = Math.min(350, Math.max(50, v));
          }
          touched.push(s);
        }
        this.ctx.changed();
        // Temperature SET answers with the full list of the valves it touched ([T …16]).
        return { method: "SETACK", payload: { temperature: touched.map((s) => ({ id: s.id, ...this.temps(s) })) } };
      }
      default:
        return undefined;
    }
  }

  private wanted(v: unknown): Sub[] {
    const ids = (Array.isArray(v) ? v : []).map((e) => (isObject(e) && typeof e.id === "string" ? e.id : "")).filter((id) => id);
    return ids.length === 0 ? this.subs : this.subs.filter((s) => ids.includes(s.id));
  }

  private valves(list: Sub[]): Sub[] {
    return list.filter((s) => isValve(s.type));
  }

  private currentSet(s: Sub): number {
    return s.presets[VALVE_PRESETS[s.mode] ?? "comfort"];
  }

  private heating(s: Sub): boolean {
    return s.onoff === 1 && Math.round(s.temp) < this.currentSet(s);
  }

  /** Batteries drain, valves warm their room (1 °C in 15 minutes) and it cools back to 17 °C when idle. */
  private integrate(): void {
    const now = this.ctx.clock.seconds();
    const dt = Math.max(0, now - this.lastSec);
    this.lastSec = now;
    if (dt === 0) return;
    for (const s of this.subs) {
      s.battery = Math.max(0, s.battery - (DRAIN_PER_DAY[s.type] * dt) / 86_400);
      s.lastActive = now;
      if (!isValve(s.type)) continue;
      if (this.heating(s)) s.temp = Math.min(this.currentSet(s), s.temp + HEAT_RATE * dt);
      else if (s.temp > 170) s.temp = Math.max(s.onoff === 1 ? Math.max(170, this.currentSet(s)) : 170, s.temp - (HEAT_RATE / 3) * dt);
    }
  }

  private view(s: Sub): SimSubDeviceSnapshot {
    const v: SimSubDeviceSnapshot = { id: s.id, type: s.type, online: true, battery: Math.round(s.battery) };
    if (s.type === "ms100" || s.type === "ms130") Object.assign(v, { temperature: s.temp / 10, humidity: s.hum / 10 });
    if (s.type === "ms400") v.leak = s.leak === 1;
    if (s.type === "ms200") v.open = s.alarm.status === 1;
    if (s.type === "gs559") v.smoke = smokeName(s.alarm.status);
    if (isValve(s.type)) {
      v.valve = {
        on: s.onoff === 1,
        mode: VALVE_MODES[s.mode],
        target: this.currentSet(s) / 10,
        current: Math.round(s.temp) / 10,
        heating: this.heating(s),
      };
    }
    return v;
  }

  private digest(): Json {
    const subdevice = this.subs.map((s) => {
      const base = { id: s.id, status: 1, onoff: isValve(s.type) ? s.onoff : 0, lastActiveTime: s.lastActive };
      if (!isValve(s.type)) return { ...base, ...sensorDigest(s) };
      const typed = s.type === "mts150" ? { mode: s.mode, currentSet: this.currentSet(s), updateMode: 1 } : { mode: s.mode };
      return { ...base, scheduleBMode: 6, [s.type]: typed };
    });
    return { hubId: -381895630, mode: 0, subdevice };
  }

  private temps(s: Sub): Json {
    const { custom, comfort, economy, away } = s.presets;
    const heating = this.heating(s) ? 1 : 0;
    return {
      room: Math.round(s.temp),
      currentSet: this.currentSet(s),
      custom,
      comfort,
      economy,
      max: 350,
      min: 50,
      heating,
      away,
      openWindow: 0,
    };
  }

  private valveAll(s: Sub): Json {
    const online = { status: 1, lastActiveTime: s.lastActive };
    return {
      id: s.id,
      scheduleBMode: 6,
      online,
      togglex: { onoff: s.onoff },
      timeSync: { state: 1 },
      mode: { state: s.mode },
      temperature: this.temps(s),
    };
  }
}

export function hub(settings: HubSettings): CapabilitySpec {
  return { name: "hub", namespaces: Object.values(NS), settings, create: (ctx) => new HubCapability(ctx, settings) };
}
