/** meross-broker's properties (port, flags, the CA of an existing broker) and the fleet they describe. */
import * as fs from "node:fs";
import * as path from "node:path";
import type { NodeDef } from "node-red";
import {
  MQTT_TLS_PORT,
  loadOrCreateCertificates,
  IDENTITY_FILE,
  checkBrokerUrl,
  addDeviceLive,
  type LoginAdder,
  MerossError,
  EmbeddedFleet,
  ExistingFleet,
  type FleetBase,
  firstLanAddress,
  describeValue,
  badInput,
  badInput as bad,
} from "../../core";
import { isBlank } from "./inputs";

export interface BrokerDef extends NodeDef {
  mode?: string;
  port?: string | number;
  bindHost?: string;
  certHost?: string;
  allowAnonymous?: boolean | string;
  acceptEmptyKey?: boolean | string;
  url?: string;
  ca?: string;
  username?: string;
  rejectUnauthorized?: boolean | string;
  /** Existing mode: the Mosquitto admin login that adds device logins live (its password is a credential). */
  adminUser?: string;
}

export { badInput as bad };

export function parsePort(v: unknown): number {
  if (isBlank(v)) return MQTT_TLS_PORT;
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw bad(
      `The broker port ${describeValue(v)} is not valid: use a number from 1 to 65535 (8883 is what devices expect), or 0 for any free port.`,
    );
  }
  return n;
}

export function flag(v: unknown): boolean | undefined {
  return v === true || v === "true" ? true : v === false || v === "false" ? false : undefined;
}

/** The CA as PEM text: pasted as is, or read from the file path the user gave. */
export function readCa(v: unknown): string | undefined {
  if (isBlank(v) || typeof v !== "string") return undefined;
  const text = v.trim();
  if (text.includes("-----BEGIN")) return text;
  try {
    const pem = fs.readFileSync(text, "utf8");
    if (!pem.includes("-----BEGIN")) throw new Error("no PEM block");
    return pem;
  } catch {
    throw bad(
      `The CA certificate "${text}" is neither PEM text nor a readable PEM file. Paste the contents of ca.crt, or give its full path.`,
    );
  }
}

/** An existing broker's address, CA and user from the node's properties. */
function existingSettings(def: BrokerDef): { url: string; ca?: string; username?: string; rejectUnauthorized: boolean } {
  // A password in the URL would be shown wherever the URL is (editor, exports, logs).
  const url = checkBrokerUrl(typeof def.url === "string" ? def.url : "", "the Password field of this meross-broker");
  const ca = url.trim() ? readCa(def.ca) : undefined;
  const username = isBlank(def.username) ? undefined : String(def.username);
  return { url, ca, username, rejectUnauthorized: flag(def.rejectUnauthorized) ?? ca !== undefined };
}

/** A URL without its "user:password@" part. */
export function withoutUserInfo(url: string): string {
  return url.replace(/^(\s*[A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#@\s]*@/, "$1");
}

/**
 * Existing mode with an admin login: how a device's login is added to Mosquitto while it runs
 * (src/core/broker/dynsec.ts), through the same address and CA as the fleet. Undefined without one.
 */
export function adminLogins(def: BrokerDef, adminPassword: string): LoginAdder | undefined {
  if (def.mode !== "existing" || isBlank(def.adminUser) || !adminPassword) return undefined;
  return async (device) => {
    const s = existingSettings(def);
    const hint = `Check the Admin user and Admin password of the meross-broker node (the text in meross-admin.password).`;
    const live = await addDeviceLive(
      {
        url: s.url.trim(),
        ca: s.ca,
        rejectUnauthorized: s.rejectUnauthorized,
        username: String(def.adminUser).trim(),
        password: adminPassword,
        passwordHint: hint,
      },
      device,
    );
    return { username: live.username, live: live.broker };
  };
}

/**
 * The fleet a meross-broker's properties describe; an embedded broker keeps its certificates in
 * `certDir` and listens once `after` (the broker it replaces has stopped) resolves; both modes
 * keep in `certDir` which MAC and key each device uuid belongs to.
 */
export function fleetFor(def: BrokerDef, password: string, certDir: string, after?: Promise<void>): FleetBase {
  const trust = { acceptEmptyKey: flag(def.acceptEmptyKey) === true, identityFile: path.join(certDir, IDENTITY_FILE) };
  if (def.mode === "existing") {
    // A password in the URL would be shown wherever the URL is (editor, exports, logs): refused,
    // and not kept either, the node's copy of its properties included.
    let refused: unknown;
    try {
      checkBrokerUrl(typeof def.url === "string" ? def.url : "", "the Password field of this meross-broker");
    } catch (err) {
      refused = err;
      def.url = withoutUserInfo(String(def.url));
    }
    return new ExistingFleet({
      password,
      trust,
      settings: () => {
        if (refused) throw refused;
        return existingSettings(def);
      },
    });
  }
  return new EmbeddedFleet({
    after,
    settings: () => ({
      port: parsePort(def.port),
      host: isBlank(def.bindHost) ? "0.0.0.0" : String(def.bindHost).trim(),
      certHost: isBlank(def.certHost) ? firstLanAddress() : String(def.certHost).trim(),
      allowAnonymous: flag(def.allowAnonymous) === true,
    }),
    trust,
    certs: (s) => {
      try {
        return loadOrCreateCertificates(certDir, s.certHost, { mosquittoPort: s.port || MQTT_TLS_PORT });
      } catch (err) {
        if (err instanceof MerossError) throw err;
        const why = err instanceof Error ? err.message : String(err);
        throw bad(`The broker certificates could not be written to ${certDir} (${why}). Check that Node-RED's user directory is writable.`);
      }
    },
  });
}
