/** Waiting on a fleet's typed events in the fleet specs. */
import type { TypedEvents } from "../../../src/core/events";
import type { FleetEvents } from "../../../src/core/fleet/types";

/** The next `name` event matching `match` (rejects after `timeoutMs`: a missing event, not a timing assertion). */
export function nextEvent<K extends keyof FleetEvents>(
  events: TypedEvents<FleetEvents>,
  name: K,
  match: (p: FleetEvents[K]) => boolean = () => true,
  timeoutMs = 8000,
): Promise<FleetEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching "${String(name)}" event`));
    }, timeoutMs);
    const off = events.on(name, (p) => {
      if (!match(p)) return;
      clearTimeout(timer);
      off();
      resolve(p);
    });
  });
}
