/**
 * A device session as seen by one owner (a node, a controller): every request it makes carries
 * the owner's signal, so its commands still waiting are dropped when the owner closes.
 */
import type { DeviceSession } from "../capabilities/types";

export function scopedSession(device: DeviceSession, signal: AbortSignal): DeviceSession {
  return {
    address: device.address,
    state: device.state,
    request: (method, namespace, payload, opts = {}) =>
      device.request(method, namespace, payload, { ...opts, signal: opts.signal ?? signal }),
    ready: () => device.ready(),
    rereadDigest: () => device.rereadDigest(),
    has: (namespace) => device.has(namespace),
    commit: (update) => device.commit(update),
  };
}
