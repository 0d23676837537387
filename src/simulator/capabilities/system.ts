/**
 * System namespaces every model has (docs/protocol.md §6.2–6.4): All, Ability, Hardware,
 * Firmware, Online, Runtime, Time/Clock, DNDMode, Debug, Position, and the Unbind factory reset.
 * It owns the DND setting; the clock is shared state (state.ts) since every timestamp uses it.
 */
import { isObject, toInt } from "../../core/protocol/rules";
import type { SimDeviceState } from "../types";
import { getAck, setAck, unsupported, REBOOT_MS } from "./types";
import type { Capability, CapabilitySpec, Json, Outcome, SimContext, SimRequest } from "./types";

const NAMESPACES = [
  "Appliance.System.All",
  "Appliance.System.Ability",
  "Appliance.System.Hardware",
  "Appliance.System.Firmware",
  "Appliance.System.Online",
  "Appliance.System.Runtime",
  "Appliance.System.Time",
  "Appliance.System.Clock",
  "Appliance.System.DNDMode",
  "Appliance.System.Debug",
  "Appliance.System.Position",
  "Appliance.Control.Unbind",
] as const;

export class SystemCapability implements Capability {
  /** System.DNDMode: 1 = status LED off. */
  private dndMode = 0;
  /** System.Position, degrees × 1e6; 0/0 until the app (or a test) sets it, as in the msl320 capture. */
  private position = { longitude: 0, latitude: 0 };

  constructor(private readonly ctx: SimContext) {}

  handle(req: SimRequest): Outcome | undefined {
    const ctx = this.ctx;
    switch (`${req.method} ${req.namespace}`) {
      case "GET Appliance.System.All":
        return getAck({ all: ctx.systemAll() });
      case "GET Appliance.System.Ability":
        return getAck({ payloadVersion: 1, ability: ctx.model.ability });
      case "GET Appliance.System.Hardware":
        return getAck({ hardware: ctx.hardware() });
      case "GET Appliance.System.Firmware":
        return getAck({ firmware: ctx.firmware() });
      case "GET Appliance.System.Online":
        return getAck({ online: this.online() });
      case "GET Appliance.System.Runtime":
        return getAck({ runtime: { signal: ctx.setup.joined?.signal ?? 0 } });
      case "GET Appliance.System.Time":
        return getAck({ time: ctx.clock.payload() });
      case "SET Appliance.System.Time":
        return this.setTime(req.payload);
      case "GET Appliance.System.Clock":
        return getAck({ clock: { timestamp: ctx.clock.seconds() } });
      case "GET Appliance.System.DNDMode":
        return getAck({ DNDMode: { mode: this.dndMode } });
      case "SET Appliance.System.DNDMode": {
        const mode = toInt(isObject(req.payload.DNDMode) ? req.payload.DNDMode.mode : undefined);
        if (mode === 0 || mode === 1) this.dndMode = mode;
        return setAck();
      }
      case "GET Appliance.System.Debug":
        return getAck({ debug: this.debug() });
      case "GET Appliance.System.Position":
        return getAck({ position: { ...this.position } });
      case "SET Appliance.System.Position": {
        const p = isObject(req.payload.position) ? req.payload.position : {};
        const longitude = toInt(p.longitude);
        const latitude = toInt(p.latitude);
        if (longitude === undefined || latitude === undefined || Math.abs(latitude) > 90e6 || Math.abs(longitude) > 180e6) {
          return unsupported("position out of range");
        }
        this.position = { longitude, latitude };
        return setAck();
      }
      case "PUSH Appliance.Control.Unbind":
        // Unbind factory-resets the device and drops the HTTP connection (docs/protocol.md §6.11).
        if (req.inner) return undefined;
        return { method: "PUSH", payload: {}, drop: true, after: () => ctx.later(() => ctx.factoryReset(), REBOOT_MS) };
      default:
        return undefined;
    }
  }

  /** The `system` block of System.All; other capabilities add their digest or control parts. */
  all(): Json {
    const ctx = this.ctx;
    return { system: { hardware: ctx.hardware(), firmware: ctx.firmware(), time: ctx.clock.payload(), online: this.online() } };
  }

  state(state: SimDeviceState): void {
    state.dndMode = this.dndMode;
  }

  private online(): Json {
    return { status: this.ctx.setup.mode === "normal" ? 1 : 0 };
  }

  private setTime(payload: Json): Outcome {
    const t = isObject(payload.time) ? payload.time : {};
    const ts = toInt(t.timestamp);
    if (ts !== undefined && ts > 0) this.ctx.clock.set(ts);
    if (typeof t.timezone === "string") this.ctx.clock.timezone = t.timezone;
    if (Array.isArray(t.timeRule)) this.ctx.clock.setRule(t.timeRule);
    return setAck();
  }

  private debug(): Json {
    const { clock, setup, model, host } = this.ctx;
    const up = clock.uptime();
    return {
      system: {
        version: model.firmwareVersion,
        sysUpTime: `${Math.floor(up / 3600)}h${Math.floor((up % 3600) / 60)}m${up % 60}s`,
        localTimeOffset: 0,
        localTime: new Date(clock.seconds() * 1000).toUTCString(),
        suncalc: "6:10;18:17",
      },
      network: {
        linkStatus: setup.mode === "normal" ? "connected" : "ap",
        signal: setup.joined?.signal ?? 0,
        ssid: setup.joined?.ssid ?? "",
        gatewayMac: setup.joined?.bssid ?? "",
        innerIp: host,
        wifiDisconnectCount: 0,
      },
      cloud: {
        activeServer: setup.gateway?.host ?? "",
        mainServer: setup.gateway?.host ?? "",
        mainPort: setup.gateway?.port ?? 0,
        secondServer: setup.gateway?.secondHost ?? "",
        secondPort: setup.gateway?.secondPort ?? 0,
        userId: setup.userId,
        sysConnectTime: 0,
        sysOnlineTime: "0h0m0s",
        sysDisconnectCount: 0,
      },
    };
  }
}

/** Always part of a model: without it no client can identify the device. */
export function system(): CapabilitySpec {
  return { name: "system", namespaces: NAMESPACES, create: (ctx) => new SystemCapability(ctx) };
}
