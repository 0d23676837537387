/**
 * Aroma diffusers (mod100): Appliance.Control.Diffuser.Spray and .Light (docs/protocol-devices.md
 * §15). Spray `mode` 0 = eco (intermittent), 1 = strong (continuous), 2 = off; the light is
 * `{onoff, mode, luminance 0–100, rgb}`. The mod100 never answered its Light GET in the capture,
 * so the state comes from the `digest.diffuser` of System.All (read once per session, the digest
 * hook below), then from pushes and from what our own SETs asked.
 */
import { MerossError, explain } from "../errors";
import type { Envelope } from "../protocol/message";
import {
  modelOf,
  type Capability,
  type ChangeSource,
  type DeviceEvent,
  type DeviceSession,
  type MutableDeviceState,
  type SystemDigest,
  type Update,
} from "./types";
import { badInput, badReply, describeValue, isObject, toNumber } from "./util";

declare module "./types" {
  interface MutableDeviceState {
    /** Diffuser spray and light (Diffuser.Spray / Light). */
    diffuser?: DiffuserState;
  }
  interface CapabilityEvents {
    diffuser: { diffuser: DiffuserState; source?: ChangeSource };
  }
}

export const NS_DIFFUSER_SPRAY = "Appliance.Control.Diffuser.Spray";
export const NS_DIFFUSER_LIGHT = "Appliance.Control.Diffuser.Light";

export const SPRAY_MODES = ["eco", "strong", "off"] as const;
export type SprayMode = (typeof SPRAY_MODES)[number];
const SPRAY_ALIASES: Record<string, SprayMode> = { intermittent: "eco", light: "eco", continuous: "strong", full: "strong", on: "strong" };

export interface DiffuserLight {
  on: boolean;
  /** 0 cycling colours, 1 fixed colour, 2 ⚠ (sources disagree). */
  mode: number;
  luminance: number;
  /** "#rrggbb". */
  rgb: string;
}

export interface DiffuserState {
  channel: number;
  spray: SprayMode;
  light: DiffuserLight;
}

const hex = (n: number): string => `#${(n & 0xffffff).toString(16).padStart(6, "0")}`;

function sprayOf(list: unknown, whole: unknown): Partial<DiffuserState> {
  const e = Array.isArray(list) ? list[0] : list;
  const code = isObject(e) ? toNumber(e.mode) : undefined;
  if (code === undefined) throw badReply("Diffuser.Spray", "it has no spray mode", whole);
  return { channel: toNumber((e as Record<string, unknown>).channel) ?? 0, spray: SPRAY_MODES[code] ?? "off" };
}

function lightOf(list: unknown, whole: unknown): DiffuserLight {
  const e = Array.isArray(list) ? list[0] : list;
  if (!isObject(e) || toNumber(e.onoff) === undefined) throw badReply("Diffuser.Light", "it has no light entry", whole);
  return {
    on: toNumber(e.onoff) === 1,
    mode: toNumber(e.mode) ?? 0,
    luminance: toNumber(e.luminance) ?? 0,
    rgb: hex(toNumber(e.rgb) ?? 0),
  };
}

/** A Spray or Light reply/push, or the digest's `diffuser` object. */
export function parseDiffuser(payload: unknown): Partial<DiffuserState> {
  if (!isObject(payload)) throw badReply("Diffuser", "it is not an object", payload);
  const out: Partial<DiffuserState> = {};
  if (payload.spray !== undefined) Object.assign(out, sprayOf(payload.spray, payload));
  if (payload.light !== undefined) out.light = lightOf(payload.light, payload);
  return out;
}

function noteDiffuser(state: MutableDeviceState, patch: Partial<DiffuserState>, source: ChangeSource): DeviceEvent[] {
  const before = state.diffuser;
  const next: DiffuserState = {
    channel: 0,
    spray: "off",
    light: { on: false, mode: 0, luminance: 0, rgb: "#000000" },
    ...before,
    ...patch,
  };
  state.diffuser = next;
  return JSON.stringify(before) === JSON.stringify(next) ? [] : [{ type: "diffuser", diffuser: structuredClone(next), source }];
}

export const diffuserCapability: Capability = {
  name: "diffuser",
  namespaces: [NS_DIFFUSER_SPRAY, NS_DIFFUSER_LIGHT],
  reduce(env: Envelope, source: ChangeSource): Update | undefined {
    const patch = parseDiffuser(env.payload);
    return (state) => noteDiffuser(state, patch, source);
  },
  digest(all: SystemDigest): Update | undefined {
    if (!isObject(all.digest.diffuser)) return undefined;
    const patch = parseDiffuser(all.digest.diffuser);
    return (state) => noteDiffuser(state, patch, "reply");
  },
  /** The mod100 answers no Light GET (§15): its state is only in the digest. */
  poll: async (s) => {
    if (hasDiffuser(s)) await s.rereadDigest();
  },
};

export function hasDiffuser(s: Pick<DeviceSession, "has">): boolean {
  return s.has(NS_DIFFUSER_SPRAY);
}

/** "" reads; "eco" / "strong" / "off" (or `{spray}`) sets the spray; `{light: {on, rgb, luminance}}` the light. */
export async function setDiffuser(s: DeviceSession, input: unknown): Promise<DiffuserState> {
  await s.ready();
  if (!hasDiffuser(s)) {
    const why = `this ${modelOf(s)} is not a diffuser (it has no Diffuser.Spray)`;
    throw new MerossError("UNSUPPORTED", explain.unsupported(s.address, "SET", NS_DIFFUSER_SPRAY, why), {
      host: s.address,
      namespace: NS_DIFFUSER_SPRAY,
    });
  }
  const obj = isObject(input) ? input : typeof input === "string" && input.trim() !== "" ? { spray: input } : {};
  if (obj.spray !== undefined) {
    const word = typeof obj.spray === "string" ? obj.spray.trim().toLowerCase() : "";
    const mode = SPRAY_ALIASES[word] ?? (SPRAY_MODES as readonly string[]).find((m) => m === word);
    if (!mode) throw badInput(`The spray mode ${describeValue(obj.spray)} is not one this ${modelOf(s)} knows: use eco, strong or off.`);
    await s.request("SET", NS_DIFFUSER_SPRAY, { spray: [{ channel: 0, mode: SPRAY_MODES.indexOf(mode as SprayMode) }] });
    s.commit((state) => noteDiffuser(state, { spray: mode as SprayMode }, "reply"));
  }
  if (isObject(obj.light)) {
    const l = obj.light;
    const item: Record<string, unknown> = { channel: 0, onoff: l.on === false ? 0 : 1 };
    if (typeof l.rgb === "string" && /^#?[0-9a-f]{6}$/i.test(l.rgb))
      Object.assign(item, { mode: 1, rgb: parseInt(l.rgb.replace("#", ""), 16) });
    if (typeof l.luminance === "number") item.luminance = Math.max(0, Math.min(100, Math.round(l.luminance)));
    await s.request("SET", NS_DIFFUSER_LIGHT, { light: [item] });
    s.commit((state) => {
      const before = state.diffuser?.light ?? { on: false, mode: 0, luminance: 0, rgb: "#000000" };
      const light: DiffuserLight = {
        on: item.onoff === 1,
        mode: typeof item.mode === "number" ? item.mode : before.mode,
        luminance: typeof item.luminance === "number" ? item.luminance : before.luminance,
        rgb: typeof item.rgb === "number" ? hex(item.rgb) : before.rgb,
      };
      return noteDiffuser(state, { light }, "reply");
    });
  }
  if (!s.state.diffuser) throw badReply("System.All", "it has no diffuser digest", undefined);
  return structuredClone(s.state.diffuser) as DiffuserState;
}

export function diffuserOutput(d: DiffuserState): DiffuserState {
  return { channel: d.channel, spray: d.spray, light: { ...d.light } };
}
