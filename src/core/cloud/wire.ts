/**
 * The Meross account service's wire format (docs/protocol.md §10): every call is a form POST
 * of `params` (base64 of the JSON arguments), `sign`, `timestamp` and `nonce`, and every reply
 * an envelope `{apiStatus, sysStatus, info, timeStamp, data}` where apiStatus 0 means success.
 */
import { randomBytes } from "node:crypto";
import { md5Hex } from "../protocol/message";

/** The public signing "secret" every Meross app and library ships (§10.1). */
export const CLOUD_APP_SECRET = "23x17ahWarFH6w29";

/** The global endpoint; a sign-in there is redirected to the account's region (§10.2). */
export const DEFAULT_CLOUD_API = "https://iot.meross.com";

export const CLOUD_PATHS = {
  signIn: "/v1/Auth/signIn",
  devList: "/v1/Device/devList",
  subDevices: "/v1/Hub/getSubDevices",
  logout: "/v1/Profile/logout",
} as const;

/** apiStatus values this package acts on (§10.3). */
export const API_STATUS = {
  OK: 0,
  MISSING_PASSWORD: 1001,
  UNEXISTING_ACCOUNT: 1002,
  DISABLED_ACCOUNT: 1003,
  WRONG_CREDENTIALS: 1004,
  WRONG_EMAIL: 1008,
  TOKEN_INVALID: 1019,
  TOKEN_ERROR: 1022,
  REDIRECT_REGION: 1030,
  WRONG_MFA_CODE: 1032,
  MFA_CODE_REQUIRED: 1033,
  TOKEN_EXPIRED: 1200,
  TOO_MANY_TOKENS: 1301,
} as const;

/** The four form fields of one signed call. */
export interface SignedForm {
  params: string;
  sign: string;
  timestamp: string;
  nonce: string;
}

/** Signs `data` as the app does: sign = md5(secret + timestamp + nonce + params), timestamp in ms. */
export function signForm(
  data: Record<string, unknown>,
  now = Date.now(),
  nonce = randomBytes(8).toString("hex").toUpperCase(),
): SignedForm {
  const params = Buffer.from(JSON.stringify(data), "utf8").toString("base64");
  const timestamp = String(Math.round(now));
  return { params, sign: md5Hex(`${CLOUD_APP_SECRET}${timestamp}${nonce}${params}`), timestamp, nonce };
}

/** The form as an application/x-www-form-urlencoded body. */
export function formBody(form: SignedForm): string {
  return new URLSearchParams({ ...form }).toString();
}

/** One reply envelope, checked for shape only. */
export interface CloudEnvelope {
  apiStatus: number;
  info?: string;
  data: unknown;
}

/** Parses a reply body; undefined when it is not a JSON object with a numeric apiStatus. */
export function parseEnvelope(text: string): CloudEnvelope | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.apiStatus !== "number" || !Number.isInteger(o.apiStatus)) return undefined;
  return { apiStatus: o.apiStatus, info: typeof o.info === "string" ? o.info : undefined, data: o.data };
}
