/**
 * An aroma diffuser like the mod100 (docs/protocol-devices.md §15): Diffuser.Spray (0 eco,
 * 1 strong, 2 off), Diffuser.Light (onoff, mode, luminance, rgb) and Diffuser.Sensor (zeros on a
 * mod100). Replies carry `type` beside the list as the capture shows; SETs answer `{}` and push.
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

const NS_SPRAY = "Appliance.Control.Diffuser.Spray";
const NS_LIGHT = "Appliance.Control.Diffuser.Light";
const NS_SENSOR = "Appliance.Control.Diffuser.Sensor";
const SPRAY = ["eco", "strong", "off"];

export class DiffuserCapability implements Capability {
  private spray = { mode: 2, lmTime: 0 };
  private light = { onoff: 0, mode: 0, luminance: 100, rgb: 4129023, lmTime: 0 };
  private reported = "";

  constructor(private readonly ctx: SimContext) {}

  boot(): void {
    this.spray.lmTime = this.light.lmTime = this.ctx.clock.seconds();
    this.reported = this.fingerprint();
  }

  handle(req: SimRequest): Outcome | undefined {
    const type = this.ctx.model.type;
    switch (`${req.method} ${req.namespace}`) {
      case `GET ${NS_SPRAY}`:
        return getAck({ type, spray: [this.sprayEntry()] });
      case `GET ${NS_LIGHT}`:
        return getAck({ type, light: [this.lightEntry()] });
      case `GET ${NS_SENSOR}`:
        // No root key, and a mod100 reports zeros ([T …02]).
        return getAck({ type, humidity: { value: 0, lmTime: 0 }, temperature: { value: 0, lmTime: 0 } });
      case `SET ${NS_SPRAY}`: {
        const e = Array.isArray(req.payload.spray) ? req.payload.spray[0] : req.payload.spray;
        const mode = isObject(e) ? toInt(e.mode) : undefined;
        if (mode !== undefined && mode >= 0 && mode <= 2) this.spray = { mode, lmTime: this.ctx.clock.seconds() };
        this.ctx.changed();
        return setAck();
      }
      case `SET ${NS_LIGHT}`: {
        const e = Array.isArray(req.payload.light) ? req.payload.light[0] : req.payload.light;
        if (isObject(e)) {
          for (const k of ["onoff", "mode", "luminance", "rgb"] as const) {
            const v = toInt(e[k]);
            if (v !== undefined) this.light[k] = v;
          }
          this.light.lmTime = this.ctx.clock.seconds();
        }
        this.ctx.changed();
        return setAck();
      }
      default:
        return undefined;
    }
  }

  all(): Json {
    return { digest: { diffuser: { type: this.ctx.model.type, light: [this.lightEntry()], spray: [this.sprayEntry()] } } };
  }

  pushes(): SimPush[] {
    const now = this.fingerprint();
    if (now === this.reported) return [];
    const [spray, light] = JSON.parse(this.reported || "[null,null]") as [unknown, unknown];
    this.reported = now;
    const out: SimPush[] = [];
    if (JSON.stringify(spray) !== JSON.stringify(this.spray)) out.push({ namespace: NS_SPRAY, payload: { spray: [this.sprayEntry()] } });
    if (JSON.stringify(light) !== JSON.stringify(this.light)) out.push({ namespace: NS_LIGHT, payload: { light: [this.lightEntry()] } });
    return out;
  }

  snapshot(snap: DeviceSnapshot): void {
    const rgb = `#${this.light.rgb.toString(16).padStart(6, "0")}`;
    snap.diffuser = { spray: SPRAY[this.spray.mode] ?? "off", light: { on: this.light.onoff === 1, rgb, luminance: this.light.luminance } };
  }

  private sprayEntry(): Json {
    return { channel: 0, ...this.spray };
  }

  private lightEntry(): Json {
    return { channel: 0, ...this.light };
  }

  private fingerprint(): string {
    return JSON.stringify([this.spray, this.light]);
  }
}

export function diffuser(): CapabilitySpec {
  return { name: "diffuser", namespaces: [NS_SPRAY, NS_LIGHT, NS_SENSOR], create: (ctx) => new DiffuserCapability(ctx) };
}
