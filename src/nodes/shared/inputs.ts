/**
 * Coercion of node properties and msg fields that several nodes share. Anything a flow
 * can send ends here as a value or a BAD_INPUT sentence naming the field and the fix.
 */
import { MerossError, parseOnOffInput, describeValue, isObject } from "../../core";

/** What the editor sends back for a password field the user did not touch. */
export const UNCHANGED_PASSWORD = "__PWRD__";

/** Strips exotic values that a node property or msg field could hold. */
function isBlank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === "string" && v.trim() === "");
}

function wholeNumber(raw: unknown): number {
  const n = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw.trim()) : NaN;
  return Number.isInteger(n) ? n : NaN;
}

/**
 * The channel: the node's property when set, else msg.channel (counted from 0 like the
 * protocol, docs/protocol.md §6.1), else msg.outlet (counted from 1 like the device's
 * label), else 0.
 */
export function resolveChannel(property: unknown, fromMsg: unknown, outletFromMsg?: unknown): number {
  if (isBlank(property) && isBlank(fromMsg) && !isBlank(outletFromMsg)) {
    const outlet = wholeNumber(outletFromMsg);
    if (!(outlet >= 1 && outlet <= 256)) {
      throw new MerossError(
        "BAD_INPUT",
        `msg.outlet ${describeValue(outletFromMsg)} is not valid: use the outlet's number from 1 (the first or only outlet) upwards.`,
      );
    }
    return outlet - 1;
  }
  const raw = !isBlank(property) ? property : !isBlank(fromMsg) ? fromMsg : 0;
  const n = wholeNumber(raw);
  if (!(n >= 0 && n <= 255)) {
    throw new MerossError(
      "BAD_INPUT",
      `The channel ${describeValue(raw)} is not valid: use a whole number from 0 (the first or only outlet) upwards, ` +
        `or send msg.outlet counted from 1.`,
    );
  }
  return n;
}

/** What a meross-toggle message asks for. */
export type ToggleCommand = { read: true } | { read: false; on: boolean | "toggle" };

/** Words that ask for the state without changing it. */
export const READ_WORDS: readonly string[] = ["read", "get", "status", "state"];

/** An inject node's default payload is Date.now(): epoch milliseconds, above 1e12 since 2001. */
const EPOCH_MS_MIN = 1e12;

const ACCEPTED =
  `Send "on", "off" or "toggle", true or false, 1 or 0, {"on": true} or {"state": "off"}; ` +
  `to only read the state send an empty payload, an inject timestamp or "read".`;

function onOffOf(v: unknown): boolean | "toggle" | undefined {
  return typeof v === "number" || typeof v === "string" || typeof v === "boolean" ? parseOnOffInput(v) : undefined;
}

/**
 * msg.payload for meross-toggle. Only an explicit read reads: a typo ("onn", {}) is refused
 * rather than silently reading the state and reporting success.
 */
export function parseToggleCommand(payload: unknown): ToggleCommand {
  if (isBlank(payload)) return { read: true };
  if (typeof payload === "number" && Number.isFinite(payload) && payload >= EPOCH_MS_MIN) return { read: true };
  // "status?" reads too: a question mark asks, it never commands.
  if (typeof payload === "string" && READ_WORDS.includes(payload.trim().toLowerCase().replace(/\?$/, ""))) return { read: true };
  let on = onOffOf(payload);
  if (on === undefined && isObject(payload)) {
    const inner = "on" in payload ? payload.on : payload.state;
    on = onOffOf(inner);
  }
  if (on !== undefined) return { read: false, on };
  throw new MerossError("BAD_INPUT", `msg.payload ${describeValue(payload)} is not a command meross-toggle knows. ${ACCEPTED}`);
}

export { isBlank };
