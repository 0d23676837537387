/**
 * One error path for every node: a red ring with a short reason and done() with a plain
 * sentence carrying the MerossError's code, so Catch nodes see msg.error.code plus a
 * sentence a person can act on, and the debug sidebar shows that sentence as one line.
 * done(err) alone reports the error (Node-RED logs it or routes it to Catch); calling
 * node.error as well would report it twice.
 */
import type { Node, NodeStatus } from "node-red";
import { MerossError, asMerossError, redactError, scrubSecrets, type MerossErrorCode, shortName } from "../../core";

/** Status texts stay within 30 characters so they fit under a node on the canvas. */
export const SHORT_REASON: Record<MerossErrorCode, string> = {
  WRONG_KEY: "wrong key",
  UNSUPPORTED: "not supported by device",
  DEVICE_ERROR: "device returned an error",
  TIMEOUT: "no answer (timeout)",
  UNREACHABLE: "device unreachable",
  BAD_RESPONSE: "unusable reply from device",
  BAD_INPUT: "invalid input",
  BAD_CONFIG: "configuration",
  BUSY: "too many requests queued",
  CANCELLED: "cancelled (node closed)",
  ACCOUNT_REFUSED: "Meross account refused",
  INTERNAL: "internal error: please report",
};

/** Replaces every secret (key, Wi-Fi password) found in `text`, as typed or base64/hex encoded: the core's one rule. */
export { scrubSecrets as redact };

/**
 * Any thrown value as a MerossError whose message carries no secret. Anything that is not a
 * MerossError is a bug here (device replies and inputs are checked and fail as MerossError),
 * so it says so and asks for a report instead of blaming the device.
 */
export function toMerossError(err: unknown, secrets: readonly (string | undefined)[] = []): MerossError {
  // A MerossError may be shared (a session's setup error, a fail-fast one): it is copied, never changed.
  if (err instanceof MerossError) return redactError(err, secrets);
  // One rule for what a bug looks like (core/errors.ts); here it is cleaned and keeps its stack for a report.
  const bug = asMerossError(err);
  const trace = err instanceof Error && typeof err.stack === "string" ? scrubSecrets(err.stack, secrets) : undefined;
  return new MerossError(bug.code, scrubSecrets(bug.message, secrets), { ...bug.details, cause: trace });
}

/**
 * What done() hands to Node-RED: the sentence as a String object carrying the code.
 * Node-RED builds a Catch node's msg.error from `toString()` plus the own `code`, `stack` and
 * `cause` properties, and the debug sidebar shows any Error as an object to expand (name,
 * message, code, stack into dist/): a String shows as the plain sentence, and no stack leaks.
 */
// eslint-disable-next-line @typescript-eslint/no-wrapper-object-types -- a String object, not a primitive: it can carry the code.
export type NodeReport = String & { readonly code: MerossErrorCode; readonly cause?: unknown };

export function nodeReport(e: MerossError, deviceName = ""): NodeReport {
  const sentence = deviceName ? `${deviceName}: ${e.message}` : e.message;
  // The wrapper object is the point: unlike a primitive string, it can carry the code.
  const report = new String(sentence) as NodeReport;
  Object.defineProperty(report, "code", { value: e.code, enumerable: true });
  // A bug report needs the original stack: a Catch node gets it as msg.error.cause.
  if (e.code === "INTERNAL" && e.details.cause !== undefined) Object.defineProperty(report, "cause", { value: e.details.cause });
  return report;
}

export type Done = (err?: Error) => void;

/** The status line for a failure: the device's name (when known) and the short reason. */
export function failureStatus(e: MerossError, deviceName = ""): NodeStatus {
  const reason = e.details.status ?? SHORT_REASON[e.code] ?? "error";
  return { fill: "red", shape: "ring", text: deviceName ? `${shortName(deviceName)} · ${reason}` : reason };
}

/**
 * Red ring with the short reason, then done() with the sentence (starting with the device's
 * name when given). Returns the error that was reported.
 */
export function failMessage(
  node: Node,
  err: unknown,
  done: Done,
  secrets: readonly (string | undefined)[] = [],
  deviceName = "",
): MerossError {
  const e = toMerossError(err, secrets);
  node.status(failureStatus(e, deviceName));
  // Node-RED accepts any value here (it calls toString() and copies the own code); its typings only say Error.
  done(nodeReport(e, scrubSecrets(deviceName, secrets)) as unknown as Error);
  return e;
}
