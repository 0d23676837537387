/**
 * A light command in device units, as meross-light parses it from a message, and how two
 * pending commands merge when a burst is coalesced. Merging must give the same end state as
 * running both in order, which is why colour and white replace each other and a level change
 * implies "on" (the session switches the bulb on with any light change).
 */

/** A light request in device units; `on: "toggle"` is resolved when it runs. */
export interface LightRequest {
  on?: boolean | "toggle";
  /** 1..100 */
  luminance?: number;
  /** R<<16 | G<<8 | B */
  rgb?: number;
  /** Device temperature 1..100 (1 warmest). */
  temperature?: number;
  /** Fade time in milliseconds (msg gives seconds); 0 = instant. */
  transition?: number;
  /** A stored effect by name, Id or position; "list" reads the list, "none" stops the effect. */
  effect?: string | number;
  /** Fan speed 0..maxSpeed, "off" or "max" (ceiling fans with a light). */
  fan?: number | string;
  /** Set on the steps of a fade, so a newer command can drop a waiting one. */
  fadeStep?: true;
}

export function hasLevels(r: LightRequest): boolean {
  return r.luminance !== undefined || r.rgb !== undefined || r.temperature !== undefined;
}

/**
 * `newer` folded over `older` with the end state of running both in order:
 * newer fields win, colour and white replace each other, a level change switches on,
 * a toggle flips an explicit state and two toggles cancel out.
 */
export function mergeLightRequests(older: LightRequest, newer: LightRequest): LightRequest {
  const out: LightRequest = { ...older };
  if (newer.rgb !== undefined) {
    out.rgb = newer.rgb;
    delete out.temperature;
  }
  if (newer.temperature !== undefined) {
    out.temperature = newer.temperature;
    delete out.rgb;
  }
  if (newer.luminance !== undefined) out.luminance = newer.luminance;

  const olderOn = older.on ?? (hasLevels(older) ? true : undefined);
  if (newer.on === undefined) {
    if (hasLevels(newer)) delete out.on;
    else if (olderOn !== undefined) out.on = olderOn;
  } else if (newer.on === "toggle") {
    if (olderOn === undefined) out.on = "toggle";
    else if (olderOn === "toggle") delete out.on;
    else out.on = !olderOn;
  } else {
    out.on = newer.on;
  }
  return out;
}
