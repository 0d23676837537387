/**
 * One error path for every node: a red ring with a short reason and done(err) with a
 * MerossError, so Catch nodes see msg.error.code plus a sentence a person can act on.
 * done(err) alone reports the error (Node-RED logs it or routes it to Catch); calling
 * node.error as well would report it twice.
 */
import type { Node } from "node-red";
import { MerossError, type MerossErrorCode } from "../../core/errors";

/** Status texts stay within 30 characters so they fit under a node on the canvas. */
export const SHORT_REASON: Record<MerossErrorCode, string> = {
  WRONG_KEY: "wrong key",
  UNSUPPORTED: "not supported by device",
  DEVICE_ERROR: "device returned an error",
  TIMEOUT: "no answer (timeout)",
  UNREACHABLE: "device unreachable",
  BAD_RESPONSE: "unusable reply from device",
  BAD_INPUT: "invalid input",
  BUSY: "too many requests queued",
  CANCELLED: "cancelled (node closed)",
  INTERNAL: "internal error (a bug)",
};

const MASK = "********";

/** Replaces every secret (key, Wi-Fi password) found in `text`, case-sensitively. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    // Very short secrets would mask ordinary words; a 1–2 character key is not worth hiding by text search.
    if (typeof s === "string" && s.length >= 3) out = out.split(s).join(MASK);
  }
  return out;
}

/**
 * Any thrown value as a MerossError whose message carries no secret. Unknown errors
 * (a bug, or a reply shape no codec anticipated) keep their text under BAD_RESPONSE.
 */
export function toMerossError(err: unknown, secrets: readonly (string | undefined)[] = []): MerossError {
  if (err instanceof MerossError) {
    // The stack repeats the message and Catch nodes receive it, so both are cleaned.
    err.message = redact(err.message, secrets);
    if (typeof err.stack === "string") err.stack = redact(err.stack, secrets);
    return err;
  }
  const text = err instanceof Error ? err.message : typeof err === "string" ? err : "unknown error";
  return new MerossError("BAD_RESPONSE", `Unexpected failure: ${redact(text, secrets)}. Try again; if it keeps happening, restart the device and report this message.`);
}

export type Done = (err?: Error) => void;

/** Red ring with the short reason, then done(err). Returns the error that was reported. */
export function failMessage(node: Node, err: unknown, done: Done, secrets: readonly (string | undefined)[] = []): MerossError {
  const e = toMerossError(err, secrets);
  node.status({ fill: "red", shape: "ring", text: SHORT_REASON[e.code] ?? "error" });
  done(e);
  return e;
}
