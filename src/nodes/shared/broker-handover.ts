/**
 * meross-broker across full deploys (src/core/fleet/handover.ts): which properties make up
 * the broker's settings, and the runtime events that say no adopter will come, so that a
 * parked broker never outlives the flows (Node-RED stopping) or lingers after a deploy.
 */
import type { NodeAPI } from "node-red";
import { type FleetBase, FleetHandover, type Fingerprint, type Taken } from "../../core";

/** Editor bookkeeping, not settings (nor the admin login, used per onboarding): changing them must not restart the broker. */
const NOT_SETTINGS = new Set(["id", "type", "name", "x", "y", "z", "g", "wires", "_users", "credentials", "info", "d", "adminUser"]);
const WORDS: Record<string, string> = { ca: "CA certificate", url: "URL" };

/** "bindHost" → "bind host": the name a person reads in "restarted: bind host changed". */
function label(property: string): string {
  return WORDS[property] ?? property.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
}

/**
 * Every property of the node that is not editor bookkeeping, plus the password: a property
 * added later is part of the settings without anyone having to remember it here.
 */
export function brokerSettings(def: object, password: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(def)) if (!NOT_SETTINGS.has(k)) out[label(k)] = v;
  out.password = password;
  return out;
}

export interface BrokerHandover {
  fingerprint(def: object, password: string): Fingerprint;
  /** Called from close(removed = false): the node that replaces `id` may take `fleet` over. */
  park(id: string, print: Fingerprint, fleet: FleetBase): void;
  adopt(id: string, print: Fingerprint): Taken<FleetBase>;
}

interface RuntimeEvent {
  id?: string;
  payload?: { state?: string; deploy?: boolean };
}

/** One per registration of the node type, i.e. per Node-RED runtime. */
export function brokerHandover(RED: NodeAPI): BrokerHandover {
  const handover = new FleetHandover<FleetBase>({ expiredReason: "the meross-broker node was stopped (redeploy or removal)" });
  let following = false;
  const unfollow = (): void => {
    following = false;
    RED.events.off("flows:started", onStarted);
    RED.events.off("runtime-event", onRuntime);
  };
  // The new flows are running: whoever wanted a parked broker has taken it.
  const onStarted = (): void => {
    unfollow();
    void handover.expire();
  };
  // Stopped without a deploy: Node-RED is shutting down (or the flows were stopped), nobody will adopt.
  const onRuntime = (ev: RuntimeEvent): void => {
    if (ev?.id !== "runtime-state" || ev.payload?.state !== "stop" || ev.payload.deploy) return;
    unfollow();
    void handover.expire("the meross-broker node was stopped (Node-RED stopped its flows)");
  };
  return {
    fingerprint: (def, password) => handover.fingerprint(brokerSettings(def, password)),
    park(id, print, fleet) {
      handover.park(id, print, fleet);
      if (following) return;
      // Only while something is parked: the test helper registers the node type again for every flow it loads.
      following = true;
      RED.events.on("flows:started", onStarted);
      RED.events.on("runtime-event", onRuntime);
    },
    adopt: (id, print) => handover.adopt(id, print),
  };
}
