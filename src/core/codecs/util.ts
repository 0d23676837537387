/**
 * Small shared helpers for the codecs. Device payloads are untrusted JSON, so every
 * reader here checks types itself instead of trusting a cast.
 */
import { MerossError } from "../errors";

export type Json = Record<string, unknown>;

/** Plain JSON object (not null, not an array): the only shape a payload field may have. */
export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A finite number from a number or a numeric string; devices send `port`, `userId`,
 * `channel` and similar fields either way (protocol.md §3.2, §6.2).
 */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A short, safe rendering of any user value for an error sentence (never throws). */
export function describeValue(v: unknown): string {
  if (v === undefined) return "undefined";
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === "function") return "a function";
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = Object.prototype.toString.call(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

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
