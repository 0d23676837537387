/**
 * Hub commands (docs/protocol-devices.md §14): the sub-device list, read from the `digest.hub` of
 * System.All on every hub (Appliance.Digest.Hub when listed: no msh300hk capture lists it, §14.1),
 * then each sub-device's state by id, in batches that fit the hub's ~4 KB reply (§14.5); a batch
 * cut off at the buffer is read again in halves. Radiator valves are set through Hub.Mts100.*.
 */
import { MerossError, explain } from "../errors";
import {
  isHub,
  noteSubDevices,
  NS_DIGEST_HUB,
  NS_HUB_BATTERY,
  NS_HUB_ONLINE,
  NS_HUB_TOGGLEX,
  NS_MTS100_ALL,
  NS_MTS100_MODE,
  NS_MTS100_TEMP,
  NS_SENSOR_ALL,
  parseHubPayload,
  type SubDeviceState,
  type ValveState,
} from "./hub";
import { isValveType, subDeviceType } from "./hub-types";
import { checkTarget, type ClimateCommand, type ClimateState } from "./climate-input";
import { modelOf, type DeviceSession } from "./types";
import { badInput } from "./util";

/** Valve modes (§14.4): 0 custom, 1 comfort, 2 economy, 3 auto (schedule), 4 away; and where each keeps its target. */
export const VALVE_MODES = ["manual", "heat", "eco", "auto", "away"] as const;
const VALVE_PRESET = ["custom", "comfort", "economy", undefined, "away"] as const;
const VALVE_ALIASES: Record<string, string> = { custom: "manual", comfort: "heat", economy: "eco", schedule: "auto" };

/**
 * Ids per request for the namespaces that take an id list: a Mts100.All item is ~330 bytes and a
 * Sensor.All item ~250 (§14.3, §14.4), so 8 of them stay well inside the 4,000-byte reply.
 */
const batchOf = (ns: string): number => (ns === NS_HUB_BATTERY ? 24 : 8);
declare module "./types" {
  interface MutableDeviceState {
    /** Batch sizes per hub namespace learnt from a cut reply, so the next read starts with what fits. */
    hubBatches?: Map<string, number>;
  }
}

function requireHub(s: DeviceSession, what: string): void {
  if (!isHub(s)) {
    const why = `this ${modelOf(s)} is not a hub, so it has no ${what}; leave the sub-device id empty for a thermostat`;
    throw new MerossError("UNSUPPORTED", explain.unsupported(s.address, "GET", NS_HUB_ONLINE, why), {
      host: s.address,
      namespace: NS_HUB_ONLINE,
    });
  }
}

function cutOff(err: unknown): boolean {
  return err instanceof MerossError && err.details.truncated === true;
}

async function readInto(s: DeviceSession, ns: string, payload: Record<string, unknown>): Promise<void> {
  if (!s.has(ns)) return;
  const patches = parseHubPayload(ns, (await s.request("GET", ns, payload)).payload);
  s.commit((state) => noteSubDevices(state, patches, "reply"));
}

/**
 * Reads `ids` with `key: [{id}, …]` in batches (`first` ids at a time until a cut reply teaches a
 * smaller size); a reply cut at the buffer is asked again in halves.
 */
export async function readByIds(s: DeviceSession, ns: string, key: string, ids: readonly string[], first?: number): Promise<void> {
  if (!s.has(ns) || ids.length === 0) return;
  const learn = (size: number): void =>
    s.commit((state) => {
      state.hubBatches ??= new Map();
      state.hubBatches.set(ns, Math.min(state.hubBatches.get(ns) ?? size, size));
      return [];
    });
  const read = async (batch: readonly string[]): Promise<void> => {
    try {
      await readInto(s, ns, { [key]: batch.map((id) => ({ id })) });
    } catch (err) {
      if (!cutOff(err) || batch.length === 1) throw err;
      const half = Math.ceil(batch.length / 2);
      learn(half);
      await read(batch.slice(0, half));
      await read(batch.slice(half));
    }
  };
  for (let i = 0; i < ids.length;) {
    const size = s.state.hubBatches?.get(ns) ?? first ?? batchOf(ns);
    await read(ids.slice(i, i + size));
    i += size;
  }
}

/** The sub-devices the hub lists: Digest.Hub where the firmware has it, else the digest of System.All. */
async function readList(s: DeviceSession): Promise<void> {
  if (s.has(NS_DIGEST_HUB)) return readInto(s, NS_DIGEST_HUB, { hub: {} });
  // The hub's digest hook (hub.ts) reads digest.hub from the System.All read again.
  await s.rereadDigest();
}

/** Reads the sub-device list, then batteries, sensors and valves by id (§14.2, §14.5). */
export async function readHub(s: DeviceSession): Promise<SubDeviceState[]> {
  await s.ready();
  requireHub(s, "sub-devices");
  await readList(s);
  const subs = [...(s.state.subdevices?.values() ?? [])];
  const ids = (pick: (d: SubDeviceState) => boolean): string[] => subs.filter(pick).map((d) => d.id);
  await readByIds(
    s,
    NS_HUB_BATTERY,
    "battery",
    ids(() => true),
  );
  await readByIds(
    s,
    NS_SENSOR_ALL,
    "all",
    ids((d) => subDeviceType(d.type) !== undefined && !isValveType(d.type) && !d.valve),
  );
  await readByIds(
    s,
    NS_MTS100_ALL,
    "all",
    ids((d) => isValveType(d.type) || d.valve !== undefined),
  );
  return [...(s.state.subdevices?.values() ?? [])].map((d) => structuredClone(d));
}

function describeSubs(s: DeviceSession): string {
  const list = [...(s.state.subdevices?.values() ?? [])].map((d) => `${d.id}${d.type ? ` (${d.type})` : ""}`);
  return list.length ? list.join(", ") : "none";
}

export async function getSubDevice(s: DeviceSession, id: string): Promise<SubDeviceState> {
  await readHub(s);
  const sub = s.state.subdevices?.get(id.trim().toUpperCase());
  if (!sub) throw badInput(`No sub-device "${id}" on this ${modelOf(s)}: it has ${describeSubs(s)}.`);
  return structuredClone(sub);
}

/** A valve as a flow sees it. */
export function valveOutput(v: ValveState): ClimateState {
  return {
    on: v.on ?? true,
    mode: v.modeCode === undefined ? "unknown" : (VALVE_MODES[v.modeCode] ?? `mode ${v.modeCode}`),
    target: v.currentSet ?? 0,
    current: v.room ?? 0,
    heating: v.heating ?? false,
    windowOpen: v.openWindow ?? false,
  };
}

/** Applies a climate command to a radiator valve: ToggleX, Mode, then the mode's preset (§14.4). */
export async function setValve(s: DeviceSession, id: string, cmd: ClimateCommand): Promise<ClimateState> {
  const sub = await getSubDevice(s, id);
  if (!sub.valve || !(isValveType(sub.type) || sub.type === undefined))
    throw badInput(
      `Sub-device ${sub.id} of this ${modelOf(s)} is a ${sub.type ?? "sensor"}, not a radiator valve: read it with meross-state instead.`,
    );
  const model = `${modelOf(s)} valve ${sub.id}`;
  let code = sub.valve.modeCode;
  if (cmd.mode !== undefined) {
    const n = VALVE_ALIASES[cmd.mode] ?? cmd.mode;
    code = (VALVE_MODES as readonly string[]).indexOf(n);
    if (code < 0) throw badInput(`"${cmd.mode}" is not a mode of this ${model}: use one of ${VALVE_MODES.join(", ")}.`);
  }
  let target: number | undefined;
  if (cmd.target !== undefined) {
    target = checkTarget(cmd.target, sub.valve.min ?? 5, sub.valve.max ?? 35, model);
    if (cmd.mode === undefined && (code === undefined || code === 3)) code = 0;
    if (!VALVE_PRESET[code ?? 0])
      throw badInput(`In auto mode the schedule sets the target of this ${model}; send a target with mode "manual".`);
  }
  if (cmd.on !== undefined) await s.request("SET", NS_HUB_TOGGLEX, { togglex: [{ id: sub.id, onoff: cmd.on ? 1 : 0 }] });
  if (code !== undefined && code !== sub.valve.modeCode) await s.request("SET", NS_MTS100_MODE, { mode: [{ id: sub.id, state: code }] });
  if (target !== undefined)
    await s.request("SET", NS_MTS100_TEMP, { temperature: [{ id: sub.id, [VALVE_PRESET[code ?? 0]!]: Math.round(target * 10) }] });
  await readInto(s, NS_MTS100_ALL, { all: [{ id: sub.id }] });
  return valveOutput(s.state.subdevices?.get(sub.id)?.valve ?? sub.valve);
}
