/**
 * Typed errors for everything the core does. Each carries a stable string code that
 * flows can switch on (msg.error.code in a Catch node) and a message written for a
 * person who is not a protocol expert: what went wrong and what to do about it.
 */

export type MerossErrorCode =
  | "WRONG_KEY"
  | "UNSUPPORTED"
  | "DEVICE_ERROR"
  | "TIMEOUT"
  | "UNREACHABLE"
  | "BAD_RESPONSE"
  | "BAD_INPUT"
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
  "INTERNAL",
];

/** Device-side error codes (payload.error.code of an ERROR reply), protocol.md §1.3. */
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

/** Sentence builders, so the same situation is always explained the same way. */
export const explain = {
  wrongKey(host: string): string {
    return (
      `The device at ${host} rejected the request signature (error 5001): the key is wrong. ` +
      `Use the key that was set when the device was onboarded (Appliance.Config.Key) — ` +
      `the one you typed into meross-onboard or "meross onboard --key", or the key of your Meross account if the app set it up.`
    );
  },
  unsupported(host: string, method: string, namespace: string, why: string): string {
    return `The device at ${host} does not support ${method} ${namespace} (${why}). Check the namespace spelling, or pick a command this model lists in its abilities.`;
  },
  deviceError(host: string, method: string, namespace: string, code: unknown, detail: unknown): string {
    const d = typeof detail === "string" && detail ? ` "${detail}"` : "";
    return `The device at ${host} answered ${method} ${namespace} with error ${String(code)}${d}. Check the request payload against what this model accepts.`;
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
  badResponse(host: string, what: string): string {
    return `The device at ${host} sent a reply that could not be used (${what}). It may be busy or overloaded: try again, and if it persists restart the device.`;
  },
};
