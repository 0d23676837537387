/**
 * meross-onboard's admin endpoint: the Scan button in its dialog runs a live scan on the
 * device (up to 30 s) and answers a pickable list. Guarded by the node's write permission.
 */
import type { NodeAPI } from "node-red";
import type { Request, Response } from "express";
import { describeNetwork } from "../../core/onboarding/wifi";
import { toMerossError } from "./errors";
import * as input from "./onboard-input";

export function registerOnboardAdmin(RED: NodeAPI): void {
  RED.httpAdmin.post("/meross-onboard/scan", RED.auth.needsPermission("meross-onboard.write"), (req: Request, res: Response) => {
    const body: Record<string, unknown> = req.body && typeof req.body === "object" ? (req.body as Record<string, unknown>) : {};
    input.scanAt(input.addressOf(body.address)).then(
      (nets) => res.json(nets.map((n) => ({ ...n, description: describeNetwork(n) }))),
      (err: unknown) => {
        const e = toMerossError(err);
        res.status(e.code === "BAD_INPUT" ? 400 : 502).json({ error: { code: e.code, message: e.message } });
      },
    );
  });
}
