/**
 * Coercion of node properties and msg fields that several nodes share. Anything a flow
 * can send ends here as a value or a BAD_INPUT sentence naming the field and the fix.
 */
import { MerossError } from "../../core/errors";
import { describeValue } from "../../core/capabilities/util";

/** Strips exotic values that a node property or msg field could hold. */
function isBlank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === "string" && v.trim() === "");
}

/**
 * The channel: the node's property when set, else msg.channel, else 0. Strips have
 * channels 0..n (protocol.md §6.1); anything else would be refused by the device anyway.
 */
export function resolveChannel(property: unknown, fromMsg: unknown): number {
  const raw = !isBlank(property) ? property : !isBlank(fromMsg) ? fromMsg : 0;
  const n = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw.trim()) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 255) {
    throw new MerossError("BAD_INPUT", `The channel ${describeValue(raw)} is not valid: use a whole number from 0 (the first or only outlet) upwards.`);
  }
  return n;
}

export { isBlank };
