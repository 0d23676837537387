/**
 * What `meross onboard --broker` and `meross rebind --broker` share once the device has its
 * new settings: the step log on stderr, the wait for its login, and the final JSON report.
 */
import { type StepLogEntry, ArrivalError, type Arrival, type ArrivalWatcher, MerossError } from "../core";
import { EXIT_OK, printJson, reportError, type CliIo } from "./io";

/** Devices push their Clock right after the Bind (docs/protocol.md §5.4): keep answering briefly. */
export const ARRIVAL_LINGER_MS = 1_500;

export function printStep(io: CliIo, command: string, s: StepLogEntry): void {
  io.stderr.write(`meross ${command}: ${s.ok ? "ok  " : "FAILED"} ${s.name}${s.detail ? ` (${s.detail})` : ""}\n`);
}

interface Configured {
  steps: readonly StepLogEntry[];
  device: { uuid: string; mac: string };
  /** Onboarding only: the network the device was told to join. */
  wifi?: { ssid: string };
}

/**
 * Waits for the device to log in, adds "device arrived" to the step log and prints the result;
 * `apAddress` (onboarding only) lets a no-show say whether the device is still in pairing mode.
 */
export async function reportArrival(
  io: CliIo,
  command: string,
  watcher: ArrivalWatcher,
  result: Configured,
  waitMs: number,
  apAddress?: string,
): Promise<number> {
  const steps: StepLogEntry[] = [...result.steps];
  const t0 = Date.now();
  try {
    const { uuid, mac } = result.device;
    const ssid = result.wifi?.ssid;
    const arrival: Arrival = await watcher.wait({ uuid, mac, timeoutMs: waitMs, apAddress, ...(ssid ? { ssid } : {}), signal: io.signal });
    const step: StepLogEntry = { name: "device arrived", ok: true, ms: Date.now() - t0, detail: `${arrival.uuid} at ${arrival.ip}` };
    steps.push(step);
    printStep(io, command, step);
    await new Promise((r) => setTimeout(r, ARRIVAL_LINGER_MS));
    printJson(io, { ...result, steps, arrival });
    return EXIT_OK;
  } catch (err) {
    const e = err instanceof MerossError ? err : new MerossError("TIMEOUT", String(err));
    const step: StepLogEntry = { name: "device arrived", ok: false, ms: Date.now() - t0, error: e.message };
    steps.push(step);
    printStep(io, command, step);
    printJson(io, { ...result, steps, error: { ...e.toJSON(), ...(e instanceof ArrivalError ? { reason: e.reason } : {}) } });
    return reportError(io, command, e);
  }
}
