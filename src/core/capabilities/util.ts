/**
 * Small shared helpers for the codecs. Device payloads are untrusted JSON, so every
 * reader here checks types itself instead of trusting a cast.
 */
import { MerossError } from "../errors";

import { type Json, isObject } from "../protocol/rules";

export { type Json, isObject, toNumber, describeValue } from "../protocol/rules";

/**
 * BAD_RESPONSE for a reply that is valid JSON but not the expected shape. The reply is
 * attached for debugging only when it cannot carry secrets (callers decide).
 */
export function badReply(what: string, why: string, reply?: unknown): MerossError {
  return new MerossError(
    "BAD_RESPONSE",
    `The device's ${what} reply could not be used (${why}). Try again; if it keeps happening, restart the device.`,
    reply === undefined ? {} : { reply },
  );
}

/** BAD_INPUT for values from a flow or the CLI; the message must name the value and the fix. */
export function badInput(message: string): MerossError {
  return new MerossError("BAD_INPUT", message);
}

/** Payload objects sometimes arrive as a one-element list (e.g. light on some firmware). */
export function singleObject(v: unknown): Json | undefined {
  if (isObject(v)) return v;
  if (Array.isArray(v) && v.length >= 1 && isObject(v[0])) return v[0];
  return undefined;
}
