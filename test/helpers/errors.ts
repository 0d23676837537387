/** Assertions on MerossError shared by the specs: the code a user's Catch node sees, and its sentence. */
import assert from "node:assert/strict";
import type { MerossDevice, DeviceEvent } from "../../src/core/session/device";
import { MerossError } from "../../src/core/errors";

/** For assert.throws: the error is a MerossError with this code (and a sentence matching `re`). */
export function isCode(code: string, re?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof MerossError, `expected MerossError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  };
}

/** Awaits a promise that must reject with a MerossError of this code; returns the error. */
export async function rejectsWith(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<MerossError> {
  try {
    await p;
  } catch (err) {
    isCode(code, pattern)(err);
    return err as MerossError;
  }
  assert.fail(`expected ${code}`);
}

/** The next device event that passes `match`. */
export function nextEvent(device: MerossDevice, match: (e: DeviceEvent) => boolean, timeoutMs = 10_000): Promise<DeviceEvent> {
  return new Promise((resolve, reject) => {
    let off = (): void => undefined;
    const t = setTimeout(() => {
      off();
      reject(new Error("no matching device event"));
    }, timeoutMs);
    const on = (e: DeviceEvent) => {
      if (!match(e)) return;
      clearTimeout(t);
      off();
      resolve(e);
    };
    off = device.events.on("event", on);
  });
}
