/**
 * A presence sensor like the ms600 (Appliance.Control.Sensor.LatestX, meross_lan's ms600 trace):
 * a GET names the sensor keys it wants (`{latest: [{channel, data: ["presence", "light"]}]}`) and
 * gets one list per key; `{latest: []}` answers `{latest: []}` as the trace shows. Presence `value`
 * is 2 while someone is there and 1 when nobody is, `distance` in mm. A change is pushed as LatestX
 * with the presence list only (as the traced push). `press(0, "enter")` / `press(0, "leave")` is a
 * person walking in or out; `press(0, "light 120")` sets the light level.
 */
import { isObject, toInt, type Json } from "../../core/protocol/rules";
import type { DeviceSnapshot } from "../types";
import { getAck, type Capability, type CapabilitySpec, type Outcome, type SimContext, type SimPush, type SimRequest } from "./types";

const NS_LATESTX = "Appliance.Control.Sensor.LatestX";

declare module "../types" {
  interface DeviceSnapshot {
    /** Presence sensors: someone there, distance (m) and light level. */
    presence?: { present: boolean; distance: number; lightLevel: number };
  }
}

export interface PresenceSettings {
  /** Distance reported while someone is there, in mm (the trace shows 760 and 5760). */
  distanceMm: number;
  /** Light level at start. */
  lightLevel: number;
}

export class PresenceCapability implements Capability {
  private present = false;
  private distance: number;
  private level: number;
  private at = { presence: 0, light: 0 };
  private reported = "";

  constructor(
    private readonly ctx: SimContext,
    private readonly settings: PresenceSettings,
  ) {
    this.distance = settings.distanceMm;
    this.level = settings.lightLevel;
  }

  boot(): void {
    this.at.presence = this.at.light = this.ctx.clock.seconds();
    this.reported = this.fingerprint();
  }

  handle(req: SimRequest): Outcome | undefined {
    if (req.method !== "GET") return undefined;
    const asked = Array.isArray(req.payload.latest) ? req.payload.latest : [];
    const latest = asked.filter(isObject).map((e) => {
      const keys = Array.isArray(e.data) ? e.data : [];
      const data: Json = {};
      if (keys.includes("presence")) data.presence = [this.presenceEntry()];
      if (keys.includes("light")) data.light = [{ timestamp: this.at.light, value: this.level }];
      return { channel: toInt(e.channel) ?? 0, data };
    });
    return getAck({ latest });
  }

  press(channel: number, action?: string): boolean {
    if (channel !== 0 || action === undefined) return false;
    const light = /^light (\d+)$/.exec(action);
    if (light) {
      this.level = Number(light[1]);
      this.at.light = this.ctx.clock.seconds();
    } else if (action === "enter" || action === "leave") {
      this.present = action === "enter";
      this.distance = this.present ? this.settings.distanceMm : 0;
      this.at.presence = this.ctx.clock.seconds();
    } else return false;
    this.ctx.changed();
    return true;
  }

  pushes(): SimPush[] {
    const now = this.fingerprint();
    if (now === this.reported) return [];
    this.reported = now;
    return [{ namespace: NS_LATESTX, payload: { latest: [{ channel: 0, data: { presence: [this.presenceEntry()] } }] } }];
  }

  snapshot(snap: DeviceSnapshot): void {
    snap.presence = { present: this.present, distance: this.distance / 1000, lightLevel: this.level };
  }

  private presenceEntry(): Json {
    return { distance: this.distance, value: this.present ? 2 : 1, timestamp: this.at.presence, times: 0 };
  }

  private fingerprint(): string {
    return JSON.stringify([this.present, this.distance]);
  }
}

export function presence(settings: PresenceSettings = { distanceMm: 760, lightLevel: 24 }): CapabilitySpec {
  return { name: "presence", namespaces: [NS_LATESTX], settings, create: (ctx) => new PresenceCapability(ctx, settings) };
}
