/**
 * meross-onboard's admin endpoint: the Scan button in its dialog runs a live scan on the
 * device (up to 30 s) and answers a pickable list. Guarded by the node's write permission; it
 * talks only to a plain host[:port] on the local network. With the node's id, a device the
 * deployed node keyed on a failed attempt is still scanned.
 */
import type { NodeAPI } from "node-red";
import type { Request, Response } from "express";
import { describeNetwork } from "../../core";
import { toMerossError } from "./errors";
import * as input from "./onboard-input";
import { lanTarget, parseDeviceHost } from "./config-admin";
import { registerAccountAdmin } from "./account-admin";

/**
 * The keys a device the node `id` set up may sign with: its deployed key and `keysSet`, the key
 * its last onboarding set (kept by the node type's registration).
 */
function keysOf(RED: NodeAPI, keysSet: ReadonlyMap<string, string>, id: string): string[] {
  const creds = (RED.nodes.getCredentials(id) ?? {}) as { key?: unknown };
  return [typeof creds.key === "string" ? creds.key : "", keysSet.get(id) ?? ""];
}

export function registerOnboardAdmin(RED: NodeAPI, keysSet: ReadonlyMap<string, string>): void {
  // The re-bind mode's "Sign in to Meross account" and "Find devices" (shared/account-admin.ts).
  registerAccountAdmin(RED, "meross-onboard");
  RED.httpAdmin.post("/meross-onboard/scan", RED.auth.needsPermission("meross-onboard.write"), (req: Request, res: Response) => {
    const body: Record<string, unknown> = req.body && typeof req.body === "object" ? (req.body as Record<string, unknown>) : {};
    const keys = typeof body.id === "string" && body.id ? keysOf(RED, keysSet, body.id) : [];
    // Only a plain host[:port] on the LAN (the device's access point is 10.10.10.1): no URL, path, query or https.
    Promise.resolve()
      .then(async () => input.scanAt(await lanTarget(parseDeviceHost(input.addressOf(body.address))), keys))
      .then(
        (nets) => res.json(nets.map((n) => ({ ...n, description: describeNetwork(n) }))),
        (err: unknown) => {
          const e = toMerossError(err);
          res.status(e.code === "BAD_INPUT" ? 400 : 502).json({ error: { code: e.code, message: e.message } });
        },
      );
  });
}
