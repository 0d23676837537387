/**
 * Typed errors for everything the core does. Each carries a stable string code that
 * flows can switch on (msg.error.code in a Catch node) and a message written for a
 * person who is not a protocol expert: what went wrong and what to do about it.
 */

import { describeValue } from "./protocol/rules";

/** Longest piece of a device-supplied value quoted back in a sentence. */
const QUOTE_DEVICE_MAX = 200;

export type MerossErrorCode =
  | "WRONG_KEY"
  | "UNSUPPORTED"
  | "DEVICE_ERROR"
  | "TIMEOUT"
  | "UNREACHABLE"
  | "BAD_RESPONSE"
  | "BAD_INPUT"
  | "BUSY"
  | "CANCELLED"
  /** A bug in this package (an exception that is not a MerossError), never the device's or the user's fault. */
  | "INTERNAL";

export const ERROR_CODES: readonly MerossErrorCode[] = [
  "WRONG_KEY",
  "UNSUPPORTED",
  "DEVICE_ERROR",
  "TIMEOUT",
  "UNREACHABLE",
  "BAD_RESPONSE",
  "BAD_INPUT",
  "BUSY",
  "CANCELLED",
  "INTERNAL",
];

/** Device-side error codes (payload.error.code of an ERROR reply), docs/protocol.md §1.3. */
export const DEVICE_ERROR_SIGN = 5001;
export const DEVICE_ERROR_UNSUPPORTED = 5000;

export interface MerossErrorDetails {
  /** Device address the request went to, when there was one. */
  host?: string;
  namespace?: string;
  method?: string;
  /** The device's own error code from an ERROR reply. */
  deviceCode?: number;
  /** The reply envelope, when the device did answer (never contains our key). */
  reply?: unknown;
  cause?: unknown;
  /** Transport-level hint: a connection failure a GET may retry. */
  retryable?: boolean;
}

export class MerossError extends Error {
  readonly code: MerossErrorCode;
  readonly details: MerossErrorDetails;

  constructor(code: MerossErrorCode, message: string, details: MerossErrorDetails = {}) {
    super(message);
    this.name = "MerossError";
    this.code = code;
    this.details = details;
  }

  /** A plain object for msg.error / JSON output; no stack, no cause chain. */
  toJSON(): { code: MerossErrorCode; message: string; host?: string; namespace?: string; deviceCode?: number } {
    const out: { code: MerossErrorCode; message: string; host?: string; namespace?: string; deviceCode?: number } = {
      code: this.code,
      message: this.message,
    };
    if (this.details.host !== undefined) out.host = this.details.host;
    if (this.details.namespace !== undefined) out.namespace = this.details.namespace;
    if (this.details.deviceCode !== undefined) out.deviceCode = this.details.deviceCode;
    return out;
  }
}

export function isMerossError(err: unknown): err is MerossError {
  return err instanceof MerossError;
}

/** Longest piece of a foreign error's text quoted in an INTERNAL sentence. */
const INTERNAL_TEXT_MAX = 200;

/**
 * Any thrown value as a MerossError. Our own errors pass through; anything else (a TypeError,
 * a string) escaped every check, so it is a bug of this package and says so (INTERNAL), rather
 * than blaming the device. Callers that hold secrets still redact the message.
 */
export function asMerossError(err: unknown): MerossError {
  if (err instanceof MerossError) return err;
  let text = err instanceof Error ? err.message || err.name : typeof err === "string" ? err : "unknown failure";
  if (text.length > INTERNAL_TEXT_MAX) text = `${text.slice(0, INTERNAL_TEXT_MAX - 3)}...`;
  return new MerossError("INTERNAL", explain.internal(text), { cause: err instanceof Error ? err.name : typeof err });
}

/** Sentence builders, so the same situation is always explained the same way. */
export const explain = {
  wrongKey(host: string): string {
    return (
      // The device's code (5001) stays in err.details.deviceCode; the sentence says what it means.
      `The device at ${host} refused the request because it was signed with a different key: the key is wrong. ` +
      `Use the key that was set when the device was onboarded (Appliance.Config.Key) — ` +
      `the one you typed into meross-onboard or "meross onboard --key", or the key of your Meross account if the app set it up.`
    );
  },
  unsupported(host: string, method: string, namespace: string, why: string): string {
    return `The device at ${host} does not support ${method} ${namespace} (${why}). Check the namespace spelling, or pick a command this model lists in its abilities.`;
  },
  /** An ERROR reply with a code Meross does not document: the code stays in err.details.deviceCode, not in the sentence. */
  deviceError(host: string, method: string, namespace: string, detail: unknown): string {
    // The detail comes from the device: quoted, and cut short if a hostile peer made it long.
    const d = typeof detail === "string" && detail ? ` ${describeValue(detail, QUOTE_DEVICE_MAX)}` : "";
    return `The device at ${host} refused ${method} ${namespace}${d ? ` (it said${d})` : ""}: it did not accept the payload. Check the request payload against what this model accepts.`;
  },
  timeout(host: string, method: string, namespace: string, ms: number): string {
    return (
      `The device at ${host} did not answer ${method} ${namespace} within ${Math.round(ms / 100) / 10} s. ` +
      `Check that it is powered and on the network, or raise the timeout.`
    );
  },
  unreachable(host: string, reason: string): string {
    return (
      `Could not connect to the device at ${host} (${reason}). ` +
      `Check the address (IP or name, optional :port) and that this machine is on the same network as the device.`
    );
  },
  /** The request was not sent because too many were already waiting for this device. */
  busy(host: string, what: string, waiting: number): string {
    return (
      `${what} for the device at ${host} was refused: ${waiting} requests are already waiting for it. ` +
      `Send fewer messages (for example through a delay node set to rate limit), or wait until the device catches up.`
    );
  },
  cancelled(host: string, what: string): string {
    return (
      `${what} for the device at ${host} was cancelled: the node was closed or redeployed before it was sent. ` +
      `Nothing was sent to the device.`
    );
  },
  /** A queued request waited past its deadline, or ran past it. */
  deadline(host: string, what: string, ms: number, started: boolean): string {
    const s = Math.round(ms / 100) / 10;
    return started
      ? `${what} to the device at ${host} did not finish within ${s} s. ` +
          `Check that the device is powered and on the network, or raise the timeout.`
      : `${what} to the device at ${host} waited ${s} s behind earlier requests and was not sent. ` +
          `The device is slow or not answering: check it, or send fewer messages.`;
  },
  /** Fail-fast: the device stopped answering, so queued requests are not sent one timeout after another. */
  notSent(host: string, what: string, reason: string): string {
    return (
      `${what} was not sent: the device at ${host} is not answering (${reason}). ` +
      `Requests are tried again one at a time until it answers; check that it is powered and on the network.`
    );
  },
  internal(text: string): string {
    return `This is a bug in node-red-contrib-meross-local: ${text}. Please report it.`;
  },
  /** The reply did not verify with any key this session holds (docs/protocol.md §1.2). */
  unsigned(host: string, why: string): string {
    return (
      `The device at ${host} sent a reply that was not signed with this device's key (${why}): another device may be answering ` +
      `at this address. Check the address (a DHCP lease may have moved) and the key configured for this device.`
    );
  },
  badResponse(host: string, what: string): string {
    return `The device at ${host} sent a reply that could not be used (${what}). It may be busy or overloaded: try again, and if it persists restart the device.`;
  },
};
