/**
 * "The account key, once": sign in to the Meross account, read the user id, the key and the
 * device list, sign out (docs/protocol.md §10). The password is used for this call only and is
 * never kept; every error leaving here has the password, its hash, the key and the token
 * scrubbed from its sentence.
 */
import { MerossError, explainCloud, redactError, asMerossError } from "../errors";
import { md5Hex } from "../protocol/message";
import { isEmail, isObject } from "../protocol/rules";
import { checkServiceUrl, cloudCall, redirectAllowed, type CallOptions } from "./http";
import { isHub, MAX_HUBS, parseDevList, parseSubDevices, type CloudDevice } from "./devices";
import { API_STATUS, CLOUD_PATHS, DEFAULT_CLOUD_API, type CloudEnvelope } from "./wire";

export interface CloudSignIn {
  email: string;
  password: string;
  /** Service base URL (default the global endpoint). */
  apiUrl?: string;
  /** The MFA code, or how to ask for it when the account wants one (called at most once). */
  mfaCode?: string | (() => Promise<string>);
  timeoutMs?: number;
  maxReplyBytes?: number;
}

export interface CloudAccount {
  userId: string;
  email: string;
  /** The account key: what devices set up by the app sign with. */
  key: string;
  /** The region endpoint the account lives on. */
  domain: string;
  mqttDomain?: string;
  devices: CloudDevice[];
  /** Whether the sign-out was confirmed (the token is then void). */
  signedOut: boolean;
}

interface Session {
  base: string;
  token: string;
  userId: string;
  email: string;
  key: string;
  mqttDomain?: string;
}

/** Signs in, lists the devices (with hub sub-devices), signs out. */
export async function fetchCloudAccount(opts: CloudSignIn): Promise<CloudAccount> {
  const email = typeof opts.email === "string" ? opts.email.trim() : "";
  if (!isEmail(email)) throw new MerossError("BAD_INPUT", explainCloud.badEmail());
  if (typeof opts.password !== "string" || opts.password === "") throw new MerossError("BAD_INPUT", explainCloud.emptyPassword());
  const base = checkServiceUrl(opts.apiUrl ?? DEFAULT_CLOUD_API);
  const secrets: Array<string | undefined> = [opts.password, md5Hex(opts.password)];
  const call: CallOptions = { timeoutMs: opts.timeoutMs, maxReplyBytes: opts.maxReplyBytes };
  try {
    const s = await signIn(base, email, opts, call);
    secrets.push(s.key, s.token);
    let devices: CloudDevice[];
    try {
      devices = await listDevices(s, call);
    } catch (err) {
      await signOut(s, call);
      throw err;
    }
    const signedOut = await signOut(s, call);
    return { userId: s.userId, email: s.email, key: s.key, domain: s.base, mqttDomain: s.mqttDomain, devices, signedOut };
  } catch (err) {
    throw redactError(asMerossError(err), secrets);
  }
}

async function signIn(first: string, email: string, opts: CloudSignIn, call: CallOptions): Promise<Session> {
  // The password leaves this machine only as its md5 hash, as the app's signIn sends it (§10.2).
  const form: Record<string, unknown> = { email, password: md5Hex(opts.password), encryption: 1, agree: 0 };
  if (typeof opts.mfaCode === "string" && opts.mfaCode !== "") form.mfaCode = opts.mfaCode.trim();
  let base = first;
  let redirects = 0;
  let askedMfa = false;
  for (;;) {
    const env = await cloudCall(base, CLOUD_PATHS.signIn, form, call);
    if (env.apiStatus === API_STATUS.OK) return session(base, env);
    if (env.apiStatus === API_STATUS.REDIRECT_REGION && redirects < 2) {
      const domain = isObject(env.data) && typeof env.data.domain === "string" ? env.data.domain : "";
      const next = redirectAllowed(first, domain);
      if (!next) throw new MerossError("BAD_RESPONSE", explainCloud.badRedirect(domain), { apiStatus: env.apiStatus });
      base = next;
      redirects++;
      continue;
    }
    if (env.apiStatus === API_STATUS.MFA_CODE_REQUIRED && typeof opts.mfaCode === "function" && !askedMfa) {
      askedMfa = true;
      const code = (await opts.mfaCode()).trim();
      if (code === "") throw refused(env);
      form.mfaCode = code;
      continue;
    }
    throw refused(env);
  }
}

function session(base: string, env: CloudEnvelope): Session {
  const d = env.data;
  const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" && Number.isSafeInteger(v) ? String(v) : "");
  if (!isObject(d) || !str(d.userid) || !str(d.key) || !str(d.token)) {
    throw new MerossError("BAD_RESPONSE", explainCloud.badReply(base, "the sign-in reply has no user id, key or token"));
  }
  // Later calls go to the account's region when the reply names one we may follow.
  const domain = typeof d.domain === "string" ? redirectAllowed(base, d.domain) : undefined;
  return {
    base: domain ?? base,
    token: str(d.token),
    userId: str(d.userid),
    email: str(d.email),
    key: str(d.key),
    mqttDomain: typeof d.mqttDomain === "string" ? d.mqttDomain.slice(0, 200) : undefined,
  };
}

async function listDevices(s: Session, call: CallOptions): Promise<CloudDevice[]> {
  const auth = { ...call, token: s.token };
  const env = await cloudCall(s.base, CLOUD_PATHS.devList, {}, auth);
  if (env.apiStatus !== API_STATUS.OK) throw refused(env);
  const devices = parseDevList(env.data);
  if (!devices) throw new MerossError("BAD_RESPONSE", explainCloud.badReply(s.base, "the device list is not a list"));
  for (const hub of devices.filter(isHub).slice(0, MAX_HUBS)) {
    const sub = await cloudCall(s.base, CLOUD_PATHS.subDevices, { uuid: hub.uuid }, auth);
    if (sub.apiStatus !== API_STATUS.OK) throw refused(sub);
    hub.subDevices = parseSubDevices(sub.data) ?? [];
  }
  return devices;
}

/** Signs out; false when the service did not confirm (the token then expires by itself). */
async function signOut(s: Session, call: CallOptions): Promise<boolean> {
  try {
    const env = await cloudCall(s.base, CLOUD_PATHS.logout, {}, { ...call, token: s.token });
    return env.apiStatus === API_STATUS.OK;
  } catch {
    return false;
  }
}

/** The service's "no" as a sentence a person can act on. */
function refused(env: CloudEnvelope): MerossError {
  const st = env.apiStatus;
  const details = { apiStatus: st };
  switch (st) {
    case API_STATUS.MISSING_PASSWORD:
    case API_STATUS.WRONG_CREDENTIALS:
      return new MerossError("ACCOUNT_REFUSED", explainCloud.wrongPassword(st), details);
    case API_STATUS.UNEXISTING_ACCOUNT:
    case API_STATUS.WRONG_EMAIL:
      return new MerossError("ACCOUNT_REFUSED", explainCloud.unknownAccount(st), details);
    case API_STATUS.MFA_CODE_REQUIRED:
      return new MerossError("ACCOUNT_REFUSED", explainCloud.mfaRequired(), details);
    case API_STATUS.WRONG_MFA_CODE:
      return new MerossError("ACCOUNT_REFUSED", explainCloud.wrongMfa(), details);
    case API_STATUS.TOO_MANY_TOKENS:
      return new MerossError("ACCOUNT_REFUSED", explainCloud.tooManyTokens(), details);
    case API_STATUS.TOKEN_INVALID:
    case API_STATUS.TOKEN_ERROR:
    case API_STATUS.TOKEN_EXPIRED:
      return new MerossError("ACCOUNT_REFUSED", explainCloud.tokenRejected(st), details);
    default:
      return new MerossError("ACCOUNT_REFUSED", explainCloud.refused(st, env.info), details);
  }
}
