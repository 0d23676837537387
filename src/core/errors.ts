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
  /** A configuration node's settings are missing or unusable (not the message's fault): open it and fix them. */
  | "BAD_CONFIG"
  | "BUSY"
  | "CANCELLED"
  /** The Meross account service said no: wrong password or MFA code, too many sign-ins, MFA code needed. */
  | "ACCOUNT_REFUSED"
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
  "BAD_CONFIG",
  "BUSY",
  "CANCELLED",
  "ACCOUNT_REFUSED",
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
  /** The underlying error (or, for a bug, its stack): for a report, never compared. */
  cause?: unknown;
  /**
   * Why, as one fixed word code can test: a socket error code ("ECONNRESET"), "deadline",
   * "waited", "fail-fast", "empty-500", or a bug's error name.
   */
  reason?: string;
  /** Transport-level hint: a connection failure a GET may retry. */
  retryable?: boolean;
  /** The reply was signed with none of the keys the session holds. */
  unsigned?: boolean;
  /** The reply was cut off at the device's buffer (valid JSON up to its last byte): ask for fewer items. */
  truncated?: boolean;
  /** A short status line naming what to fix (a configuration problem), shown instead of the code's. */
  status?: string;
  /** The Meross account service's apiStatus, when it answered with one (docs/protocol.md §10). */
  apiStatus?: number;
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

/** What a secret is replaced with in a sentence. */
export const SECRET_MASK = "********";

/**
 * The one redaction: the same error with every secret scrubbed from its sentence, as a new error
 * when there was one to scrub (a shared error is never changed); nothing else of it is shown.
 */
export function redactError(err: MerossError, secrets: readonly (string | undefined)[]): MerossError {
  const message = scrubSecrets(err.message, secrets);
  if (message === err.message) return err;
  const cause = typeof err.details.cause === "string" ? scrubSecrets(err.details.cause, secrets) : undefined;
  return new MerossError(err.code, message, { ...err.details, reply: undefined, cause });
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
  return new MerossError("INTERNAL", explain.internal(text), { reason: err instanceof Error ? err.name : typeof err });
}

/** The forms a secret travels in: as typed, base64 (padded, unpadded, URL-safe) and hex (Config.Wifi, WifiX, keys). */
export function secretForms(secret: string): string[] {
  const b = Buffer.from(secret, "utf8");
  const b64 = b.toString("base64");
  const forms = [secret, b64, b64.replace(/=+$/, ""), b.toString("base64url"), b.toString("hex"), b.toString("hex").toUpperCase()];
  // Longest first, so a form containing another is masked whole.
  return [...new Set(forms)].sort((x, y) => y.length - x.length);
}

/**
 * Replaces every form of every secret (key, Wi-Fi or broker password) found in `text`. Very
 * short secrets would mask ordinary words: below 3 characters they are not searched for.
 */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (typeof s !== "string" || s.length < 3) continue;
    for (const f of secretForms(s)) if (f.length >= 3) out = out.split(f).join(SECRET_MASK);
  }
  return out;
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
  /** A request to a session that was already closed (its meross-config was redeployed or removed). */
  sessionClosed(host: string, what: string): string {
    return (
      `${what} for the device at ${host} was not sent: this device's connection was closed (its configuration was ` +
      `redeployed or removed). Send the message again once the flow is running.`
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
  /**
   * A device in access-point mode signs with whatever key it was last given; one we did not give
   * it means someone else set it up (onboarding, docs/protocol.md §3.1).
   */
  foreignKey(host: string): string {
    return (
      `The device at ${host} is waiting to be set up, but it already holds a key that was not set from here (another app, tool or ` +
      `onboarding with a different key set it up before), so its replies cannot be trusted. Factory-reset it: hold its button for ` +
      `about 5 seconds until the light blinks amber and green in turn (a bulb: switch its power off and on 5 times), ` +
      `connect to its Meross_… Wi-Fi again, and onboard it. Or onboard with the key that was set before.`
    );
  },
  truncated(host: string, bytes: number): string {
    return `The device at ${host} sent a truncated reply, cut off after ${bytes} bytes: the answer did not fit its reply buffer. Ask it for fewer items at a time (hub sub-devices are read in smaller batches by themselves).`;
  },
  badResponse(host: string, what: string): string {
    return `The device at ${host} sent a reply that could not be used (${what}). It may be busy or overloaded: try again, and if it persists restart the device.`;
  },
};

/** Sentences for the Meross account service (src/core/cloud, docs/protocol.md §10). */
export const explainCloud = {
  badEmail(): string {
    return "The e-mail address of the Meross account is empty or not an e-mail address: give the address you sign in to the Meross app with. Nothing was sent.";
  },
  emptyPassword(): string {
    return "The password of the Meross account is empty: give the password you sign in to the Meross app with. Nothing was sent.";
  },
  badUrl(url: string, why: string): string {
    return (
      `The Meross account service address ${describeValue(url, 120)} cannot be used (${why}). ` +
      `Give an https:// address such as https://iot.meross.com; plain http:// is accepted only for 127.0.0.1 or localhost (the simulator). Nothing was sent.`
    );
  },
  badRedirect(domain: string): string {
    return (
      `The Meross account service asked to continue at ${describeValue(domain, 120)}, which is not an https:// address of meross.com ` +
      `(nor the simulator's own address). The sign-in was stopped there so the password goes nowhere else.`
    );
  },
  wrongPassword(status: number): string {
    return `The Meross account service did not accept this e-mail address and password (apiStatus ${status}). Check both: they are the ones you sign in to the Meross app with.`;
  },
  unknownAccount(status: number): string {
    return `The Meross account service knows no account with this e-mail address (apiStatus ${status}). Check the address you sign in to the Meross app with.`;
  },
  mfaRequired(): string {
    return (
      "This Meross account asks for a verification code (two-factor sign-in, apiStatus 1033). " +
      "Sign in again and give the current code from your authenticator app when asked (meross cloud asks for it on a terminal, or takes --mfa-code)."
    );
  },
  wrongMfa(): string {
    return "The Meross account service did not accept the verification code (apiStatus 1032). Codes change every 30 seconds: sign in again with the current one.";
  },
  tooManyTokens(): string {
    return (
      "The Meross account service refused the sign-in: this account has signed in too many times without signing out (apiStatus 1301). " +
      "Wait a few hours (the service may block the account for up to a day), and sign out of other tools that use the account."
    );
  },
  tokenRejected(status: number): string {
    return `The Meross account service no longer accepts this sign-in (apiStatus ${status}): it expired or was signed out. Sign in again.`;
  },
  refused(status: number, info: unknown): string {
    const i = typeof info === "string" && info ? ` ${describeValue(info, QUOTE_DEVICE_MAX)}` : "";
    return `The Meross account service refused the request with apiStatus ${status}${i}. Try again later; if it persists, check the account in the Meross app.`;
  },
  unreachable(url: string, reason: string): string {
    return `Could not reach the Meross account service at ${url} (${reason}). Check this machine's internet connection and the service address.`;
  },
  timeout(url: string, ms: number): string {
    return `The Meross account service at ${url} did not answer within ${Math.round(ms / 100) / 10} s. Try again later, or raise the timeout.`;
  },
  badReply(url: string, what: string): string {
    return `The Meross account service at ${url} sent a reply that could not be used (${what}). Check the service address; try again later.`;
  },
};
