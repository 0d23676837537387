/**
 * One signed call to the Meross account service, through axios: a web service on HTTPS with
 * form posts and region redirects is what axios is for (docs/architecture.md, "Meross account").
 * Every call has a deadline and a bounded reply; an axios error is turned into a sentence
 * from its code alone, so no request body (which holds the hashed password) can leak into it.
 */
import axios from "axios";
import { MerossError, explainCloud } from "../errors";
import { formBody, parseEnvelope, signForm, type CloudEnvelope } from "./wire";

/** Default per-call deadline. */
export const CLOUD_TIMEOUT_MS = 15_000;
/** Largest reply accepted (a device list of a few hundred devices fits well within it). */
export const CLOUD_MAX_REPLY_BYTES = 1024 * 1024;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The service address as a base URL without a trailing slash, or a BAD_INPUT error: https only,
 * except plain http on this machine (the simulated service in tests).
 */
export function checkServiceUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MerossError("BAD_INPUT", explainCloud.badUrl(url, "not a URL"));
  }
  if (u.username || u.password) throw new MerossError("BAD_INPUT", explainCloud.badUrl(url, "it holds a user name or password"));
  if (u.search || u.hash) throw new MerossError("BAD_INPUT", explainCloud.badUrl(url, "it has a ?query or #fragment"));
  if (u.protocol === "http:" && !LOOPBACK.has(u.hostname)) {
    throw new MerossError("BAD_INPUT", explainCloud.badUrl(url, "plain http would send the password unencrypted"));
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new MerossError("BAD_INPUT", explainCloud.badUrl(url, "not https"));
  return `${u.origin}${u.pathname.replace(/\/+$/, "")}`;
}

/** Whether a region redirect may be followed from `base`: an https meross.com host, or loopback to loopback. */
export function redirectAllowed(base: string, domain: string): string | undefined {
  let target: string;
  try {
    target = checkServiceUrl(domain);
  } catch {
    return undefined;
  }
  const to = new URL(target);
  if (to.protocol === "https:" && (to.hostname === "meross.com" || to.hostname.endsWith(".meross.com"))) return target;
  return LOOPBACK.has(new URL(base).hostname) && LOOPBACK.has(to.hostname) ? target : undefined;
}

export interface CallOptions {
  token?: string;
  timeoutMs?: number;
  maxReplyBytes?: number;
}

/** Posts one signed call to base + path and returns the reply envelope (any apiStatus). */
export async function cloudCall(base: string, path: string, data: Record<string, unknown>, opts: CallOptions = {}): Promise<CloudEnvelope> {
  const url = `${base}${path}`;
  const timeoutMs = opts.timeoutMs ?? CLOUD_TIMEOUT_MS;
  let status: number;
  let body: unknown;
  try {
    const res = await axios.post<string>(url, formBody(signForm(data)), {
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Authorization: opts.token ? `Basic ${opts.token}` : "Basic",
        AppLanguage: "EN",
        vender: "meross",
      },
      timeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
      maxContentLength: opts.maxReplyBytes ?? CLOUD_MAX_REPLY_BYTES,
      maxBodyLength: 64 * 1024,
      // A region move is an apiStatus in the body; an HTTP redirect is not followed.
      maxRedirects: 0,
      responseType: "text",
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
    });
    status = res.status;
    body = res.data;
  } catch (err) {
    throw callFailure(base, err, timeoutMs);
  }
  if (status !== 200) throw new MerossError("BAD_RESPONSE", explainCloud.badReply(base, `HTTP status ${status}`));
  const env = typeof body === "string" ? parseEnvelope(body) : undefined;
  if (!env) throw new MerossError("BAD_RESPONSE", explainCloud.badReply(base, "not a JSON reply with an apiStatus"));
  return env;
}

function callFailure(base: string, err: unknown, timeoutMs: number): MerossError {
  const code = typeof (err as { code?: unknown })?.code === "string" ? (err as { code: string }).code : "";
  const name = (err as { name?: unknown })?.name;
  if (code === "ECONNABORTED" || code === "ETIMEDOUT" || code === "ERR_CANCELED" || name === "TimeoutError" || name === "CanceledError") {
    return new MerossError("TIMEOUT", explainCloud.timeout(base, timeoutMs));
  }
  if (code === "ERR_BAD_RESPONSE" || code === "ERR_FR_MAX_BODY_LENGTH_EXCEEDED") {
    return new MerossError("BAD_RESPONSE", explainCloud.badReply(base, "the reply is too large or broken"));
  }
  return new MerossError("UNREACHABLE", explainCloud.unreachable(base, code || "connection failed"));
}
