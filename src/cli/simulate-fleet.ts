/**
 * `meross simulate --fleet N`: N configured simulated devices of one model, all connected to
 * one broker, to try a large home (or a small office) on one machine. Each device gets a uuid
 * derived from its index (the same on every run, so a flow made for them keeps working) and,
 * on a broker on this machine, its own loopback address (127.0.x.y), as devices on a LAN each
 * have their own: the broker admits only a few waiting logins per address.
 */
import type { SimulatorOptions } from "../simulator/types";
import type { SimulatedDevice } from "../simulator/device";

/** More than any home; the bound keeps a typo from starting a million servers. */
export const FLEET_MAX = 5000;
/** Devices started at once (each binds an HTTP port and opens a TLS connection). */
const START_BATCH = 50;

export interface FleetSpec {
  model: string;
  key: string;
  gateway: { host: string; port: number };
  userId: string;
}

export interface RunningFleet {
  devices: Array<{ uuid: string }>;
  statusUrl?: string;
  stop(): Promise<void>;
}

/** The options of device `i` of a fleet. */
export function fleetDeviceSpec(spec: FleetSpec, i: number): SimulatorOptions {
  const loopback = /^127\./.test(spec.gateway.host) || spec.gateway.host === "localhost";
  return {
    model: spec.model,
    host: "127.0.0.1",
    port: 0,
    key: spec.key,
    seed: `fleet:${spec.model}:${i}`,
    name: `${spec.model} ${i + 1}`,
    gateway: spec.gateway,
    userId: spec.userId,
    ...(loopback ? { mqttLocalAddress: `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}` } : {}),
  };
}

export async function startFleet(count: number, spec: FleetSpec, statusPort?: number): Promise<RunningFleet> {
  const specs = Array.from({ length: count }, (_, i) => fleetDeviceSpec(spec, i));
  if (statusPort !== undefined) {
    const { Fleet } = await import("../simulator/fleet");
    const fleet = await Fleet.start(specs, { statusPort });
    return { devices: fleet.devices, statusUrl: fleet.statusUrl, stop: () => fleet.stop() };
  }
  const { SimulatedDevice: Device } = await import("../simulator/device");
  const devices: SimulatedDevice[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(devices.map((d) => d.stop().catch(() => undefined)));
  };
  try {
    for (let i = 0; i < specs.length; i += START_BATCH) {
      devices.push(...(await Promise.all(specs.slice(i, i + START_BATCH).map((s) => Device.start(s)))));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { devices, stop };
}
