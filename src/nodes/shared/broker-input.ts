/** meross-broker's properties: the port, the yes/no flags and the CA of an existing broker. */
import * as fs from "node:fs";
import { MQTT_TLS_PORT } from "../../core/broker/certs";
import { MerossError } from "../../core/errors";
import { describeValue } from "../../core/protocol/rules";
import { isBlank } from "./inputs";

export function bad(message: string): MerossError {
  return new MerossError("BAD_INPUT", message);
}

export function parsePort(v: unknown): number {
  if (isBlank(v)) return MQTT_TLS_PORT;
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw bad(`The broker port ${describeValue(v)} is not valid: use a number from 1 to 65535 (8883 is what devices expect), or 0 for any free port.`);
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
    throw bad(`The CA certificate "${text}" is neither PEM text nor a readable PEM file. Paste the contents of ca.crt, or give its full path.`);
  }
}

