/**
 * The editor's "Sign in to Meross account" and "Find devices" buttons (meross-config's dialog,
 * and meross-onboard's re-bind mode), as two admin endpoints guarded by the write permission.
 *
 * Sign-in: e-mail, password and, when the service asks, the MFA code go to the core's
 * fetchCloudAccount (core/cloud), which signs in, reads the user id, the key and the device
 * list, and signs out. The password is used for that one call: it is not kept, logged or sent
 * back, and every error sentence has it scrubbed. The key goes back only to be put into the
 * dialog's password-type Key field.
 *
 * Find devices: the core's discovery (core/discovery.ts, bounded concurrency and a short
 * timeout per address) on a subnet or a list of addresses, all of them on the local network.
 */
import type { NodeAPI } from "node-red";
import type { Request, Response } from "express";
import {
  fetchCloudAccount,
  DEFAULT_CLOUD_API,
  API_STATUS,
  discover,
  parseTargets,
  type FoundDevice,
  MerossError,
  isLanAddress,
  isObject,
  isUuid,
} from "../../core";
import { toMerossError } from "./errors";
import { UNCHANGED_PASSWORD } from "./inputs";
import { isMerossBroker } from "./broker-types";

/** Names the editor may send along with a scan (from the account's list). */
const MAX_NAMES = 500;

type Body = Record<string, unknown>;

function bodyOf(req: Request): Body {
  return req.body && typeof req.body === "object" ? (req.body as Body) : {};
}

function text(v: unknown, max = 200): string {
  return typeof v === "string" ? v.trim().slice(0, max) : "";
}

function fail(res: Response, err: unknown, secrets: string[]): void {
  const e = toMerossError(err, secrets);
  const mfaRequired = e.details?.apiStatus === API_STATUS.MFA_CODE_REQUIRED;
  const status = e.code === "BAD_INPUT" ? 400 : mfaRequired ? 409 : 502;
  res.status(status).json({ error: { code: e.code, message: e.message }, ...(mfaRequired ? { mfaRequired: true } : {}) });
}

/** The addresses to scan, each on the local network; BAD_INPUT (nothing sent) otherwise. */
export function lanTargets(raw: unknown): string[] {
  const addresses = parseTargets(typeof raw === "string" ? raw : "");
  const outside = addresses.find((a) => !isLanAddress(a.replace(/:\d+$/, "")));
  if (outside) {
    throw new MerossError(
      "BAD_INPUT",
      `${outside} is not an address on your local network. Find devices scans only private addresses ` +
        "(10.x.x.x, 172.16–31.x.x, 192.168.x.x) or this machine (127.x.x.x). Nothing was sent.",
    );
  }
  return addresses;
}

function namesOf(v: unknown): Map<string, string> {
  const names = new Map<string, string>();
  if (!isObject(v)) return names;
  for (const [uuid, name] of Object.entries(v).slice(0, MAX_NAMES)) {
    if (isUuid(uuid) && typeof name === "string" && name) names.set(uuid.toLowerCase(), name.slice(0, 80));
  }
  return names;
}

export function registerAccountAdmin(RED: NodeAPI, type: string): void {
  const permission = RED.auth.needsPermission(`${type}.write`);

  RED.httpAdmin.post(`/${type}/account`, permission, (req: Request, res: Response) => {
    const body = bodyOf(req);
    const password = typeof body.password === "string" ? body.password : "";
    const secrets = [password];
    const mfaCode = text(body.mfaCode, 16);
    fetchCloudAccount({
      email: text(body.email, 254),
      password,
      apiUrl: text(body.apiUrl, 300) || DEFAULT_CLOUD_API,
      ...(mfaCode ? { mfaCode } : {}),
    }).then(
      (a) => {
        res.json({
          userId: a.userId,
          email: a.email,
          domain: a.domain,
          signedOut: a.signedOut,
          devices: a.devices,
          // Only for the dialog's password-type Key field.
          key: a.key,
        });
      },
      (err: unknown) => fail(res, err, secrets),
    );
  });

  RED.httpAdmin.post(`/${type}/find`, permission, (req: Request, res: Response) => {
    const body = bodyOf(req);
    const key = typeof body.key === "string" && body.key !== UNCHANGED_PASSWORD ? body.key : "";
    const secrets = key ? [key] : [];
    (async (): Promise<FoundDevice[]> => {
      const addresses = lanTargets(body.targets);
      const broker = typeof body.broker === "string" && body.broker ? RED.nodes.getNode(body.broker) : null;
      const ours: string[] = [];
      if (isMerossBroker(broker)) {
        const ep = await broker.endpoint().catch(() => undefined);
        if (ep) ours.push(`${ep.host}:${ep.port}`);
      }
      return discover({ addresses, key, names: namesOf(body.names), ourBrokers: ours });
    })().then(
      (found) => res.json({ devices: found }),
      (err: unknown) => fail(res, err, secrets),
    );
  });
}
