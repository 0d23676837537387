/**
 * Binding a device to our own broker: Config.Key (docs/protocol.md §3.2) and the MQTT
 * credentials the device will log in with (§5.2); System.Time with its DST rules (§3.8) is in
 * system-time.ts.
 * These are onboarding payloads, not device capabilities with state, hence onboarding/.
 */
import { md5Hex } from "../protocol/message";
import { badInput, describeValue, toNumber } from "../capabilities/util";

/** Where the device should connect after onboarding, and the key and userId it will sign with. */
export interface ConfigKeyOptions {
  host: string;
  port: number;
  secondHost?: string;
  secondPort?: number;
  key: string;
  userId: string | number;
}

export type ConfigKeyPayload = {
  key: {
    gateway: { host: string; port: number; secondHost: string; secondPort: number; redirect: 1 };
    key: string;
    userId: string;
  };
};

function checkHost(v: unknown, field: string): string {
  if (typeof v !== "string" || v.trim() === "") {
    throw badInput(`The MQTT broker ${field} ${describeValue(v)} is empty: give the host name or IP address the device should connect to.`);
  }
  return v.trim();
}

function checkPort(v: unknown, field: string): number {
  const n = toNumber(v);
  if (n === undefined || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw badInput(`The MQTT broker ${field} ${describeValue(v)} must be a whole number from 1 to 65535 (8883 is usual for TLS).`);
  }
  return n;
}

/**
 * Second broker defaults to the first, as [BS] and [ML] do; `redirect: 1` is what
 * both send (2 is the cloud's "move to another broker"). userId goes out as a string.
 */
export function buildConfigKeyPayload(o: ConfigKeyOptions): ConfigKeyPayload {
  if (typeof o !== "object" || o === null) throw badInput("The Config.Key options must be an object with host, port, key and userId.");
  const host = checkHost(o.host, "host");
  const port = checkPort(o.port, "port");
  const secondHost = o.secondHost === undefined || o.secondHost === "" ? host : checkHost(o.secondHost, "second host");
  const secondPort = o.secondPort === undefined ? port : checkPort(o.secondPort, "second port");
  if (typeof o.key !== "string") throw badInput("The device key must be text (it may be empty).");
  if (typeof o.userId !== "string" && !(typeof o.userId === "number" && Number.isInteger(o.userId) && o.userId >= 0)) {
    throw badInput(`The user id ${describeValue(o.userId)} must be a whole number or text such as "0".`);
  }
  return {
    key: {
      gateway: { host, port, secondHost, secondPort, redirect: 1 },
      key: o.key,
      userId: String(o.userId),
    },
  };
}

/** Devices log in to MQTT with their MAC in lowercase with colons (§5.2). */
export function mqttUsername(mac: string): string {
  if (typeof mac !== "string" || mac.trim() === "") throw badInput("The device MAC address is missing (read it from System.All).");
  return mac.trim().toLowerCase();
}

/** `<userId>_<md5hex(mac + key)>` ([AR], [BS], [ML]; ✔ vectors §8.2). */
export function mqttPassword(mac: string, key: string, userId: string | number): string {
  if (typeof key !== "string") throw badInput("The device key must be text (it may be empty).");
  return `${String(userId)}_${md5Hex(mqttUsername(mac) + key)}`;
}
