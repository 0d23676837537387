/**
 * How a device and its parts are named for a person: in statuses, msg.topic, error
 * sentences and labels. One rule, so the same plug is called the same everywhere.
 */

export interface DeviceNameParts {
  /** The name the user gave the device's configuration. */
  name?: unknown;
  /** The model the device reported (e.g. "mss310"). */
  model?: unknown;
  uuid?: unknown;
  /** Its address (IP or host name, optional :port). */
  address?: unknown;
}

/** Used when nothing at all is known about the device yet. */
export const UNKNOWN_DEVICE_NAME = "Meross device";

function text(v: unknown): string {
  return typeof v === "string" ? v.trim() : "";
}

/**
 * The user's name for the device; else its model and the last 4 characters of its uuid
 * ("mss310 c243", enough to tell two plugs of one model apart, plain ASCII a Switch node can
 * match on msg.topic); else its address.
 */
export function deviceDisplayName(parts: DeviceNameParts): string {
  const name = text(parts.name);
  if (name) return name;
  const model = text(parts.model);
  const uuid = text(parts.uuid);
  if (model && uuid.length >= 4) return `${model} ${uuid.slice(-4)}`;
  const address = text(parts.address);
  if (address) return address;
  if (model) return model;
  return uuid.length >= 4 ? `…${uuid.slice(-4)}` : UNKNOWN_DEVICE_NAME;
}

/**
 * An outlet as the device's label and app number it: from 1, while the protocol counts
 * channels from 0 (docs/protocol.md §6.1).
 */
export function outletName(channel: number): string {
  return `outlet ${channel + 1}`;
}

/** A name cut to `max` characters, so it leaves room for the state in a status line. */
export function shortName(name: string, max = 20): string {
  return name.length <= max ? name : `${name.slice(0, max - 1)}…`;
}
