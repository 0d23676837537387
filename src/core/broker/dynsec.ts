/**
 * Device logins added while Mosquitto runs, through its dynamic-security plugin's control
 * topic (`$CONTROL/dynamic-security/v1`: JSON commands in, JSON replies on `.../response`),
 * logged in as the admin login `meross certs` creates (mosquitto.ts adminRole: that topic and
 * its replies, nothing else). No restart, no file access: the plugin saves its file itself.
 *
 * Checked against Mosquitto 2.0.11: createRole / createClient answer "... already exists" for
 * a second call, modifyRole / modifyClient replace ACLs, password and roles, and a publish the
 * login may not make, or one to a plugin that is not loaded, gets no reply at all.
 */
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { MerossError } from "../errors";
import { describeValue, isObject } from "../protocol/rules";
import {
  ADMIN_USER,
  DYNSEC_RESPONSE_TOPIC,
  DYNSEC_TOPIC,
  MOSQUITTO_RELOAD_ADVICE,
  SECURITY_FILE,
  addMosquittoDevice,
  deviceLogin,
  type DeviceLogin,
} from "./mosquitto";
import { PAYLOAD_LIMIT } from "./limits";

/** Mosquitto answers in milliseconds; past this the plugin is not there or may not be used. */
export const DYNSEC_TIMEOUT_MS = 5_000;
/** The admin password's file in a `meross certs` folder. */
export const ADMIN_PASSWORD_FILE = `${ADMIN_USER}.password`;

export interface DynsecSettings {
  /** `mqtts://host:port` of the Mosquitto that `meross certs` configured. */
  url: string;
  ca?: string | Buffer;
  username?: string;
  password: string;
  rejectUnauthorized?: boolean;
  /** The certificate chain is still checked against `ca`, but not the name in it (loopback to a LAN-named certificate). */
  anyHostName?: boolean;
  timeoutMs?: number;
  /** Said after "the password is wrong": where the right one is. */
  passwordHint?: string;
}

export interface LiveLogin {
  username: string;
  /** False when the login existed: its password and rules were replaced. */
  created: boolean;
  broker: string;
}

interface Reply {
  command?: unknown;
  error?: unknown;
  correlationData?: unknown;
}

function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "the configured broker";
  }
}

function connectFailure(err: Error & { code?: string | number }, s: DynsecSettings, at: string): MerossError {
  const user = s.username ?? ADMIN_USER;
  if (err.code === 4 || err.code === 5 || /not authori[sz]ed|bad user/i.test(err.message)) {
    return new MerossError(
      "BAD_INPUT",
      `Mosquitto at ${at} refused the admin login "${user}": the user name or password is wrong.` +
        (s.passwordHint ? ` ${s.passwordHint}` : ""),
    );
  }
  if (typeof err.code === "string" && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(err.code)) {
    return new MerossError(
      "BAD_INPUT",
      `The certificate of Mosquitto at ${at} was not accepted (${err.code}). Give the ca.crt that "meross certs" wrote.`,
    );
  }
  const why = err.code === "ECONNREFUSED" ? "connection refused" : typeof err.code === "string" ? err.code : describeValue(err.message, 80);
  return new MerossError("UNREACHABLE", `Mosquitto is not reachable at ${at} (${why}). Check that it is running and its address.`, {
    host: at,
  });
}

async function connect(s: DynsecSettings, timeoutMs: number): Promise<MqttClient> {
  const at = where(s.url);
  const opts: IClientOptions = {
    clientId: `meross-admin-${randomBytes(6).toString("hex")}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
    username: s.username ?? ADMIN_USER,
    password: s.password,
    rejectUnauthorized: s.rejectUnauthorized ?? true,
  };
  if (s.ca !== undefined) opts.ca = s.ca;
  if (s.anyHostName) (opts as IClientOptions & { checkServerIdentity: () => undefined }).checkServerIdentity = () => undefined;
  const client = mqtt.connect(s.url, opts);
  return new Promise<MqttClient>((resolve, reject) => {
    const timer = setTimeout(() => fail(Object.assign(new Error("no answer"), { code: "timed out" })), timeoutMs + 500);
    const fail = (err: Error & { code?: string | number }): void => {
      clearTimeout(timer);
      client.end(true);
      reject(connectFailure(err, s, at));
    };
    const closed = (): void => fail(Object.assign(new Error("connection closed"), { code: "connection closed" }));
    client.once("connect", () => {
      clearTimeout(timer);
      client.removeListener("error", fail);
      client.removeListener("close", closed);
      resolve(client);
    });
    client.once("error", fail);
    client.once("close", closed);
  });
}

/** Sends commands in one message and waits for all their replies, matched by correlationData. */
async function exchange(client: MqttClient, commands: Array<Record<string, unknown>>, timeoutMs: number, at: string): Promise<Reply[]> {
  const tag = randomBytes(8).toString("hex");
  const tagged = commands.map((c, i) => ({ ...c, correlationData: `${tag}-${i}` }));
  const replies = new Map<string, Reply>();
  return new Promise<Reply[]>((resolve, reject) => {
    const finish = (err?: MerossError): void => {
      clearTimeout(timer);
      client.removeListener("message", onMessage);
      if (err) reject(err);
      else resolve(tagged.map((c) => replies.get(c.correlationData)!));
    };
    const timer = setTimeout(
      () =>
        finish(
          new MerossError(
            "TIMEOUT",
            `Mosquitto at ${at} did not answer on ${DYNSEC_TOPIC} within ${Math.round(timeoutMs / 1000)} s: ` +
              `its dynamic-security plugin is not loaded (the mosquitto.conf "meross certs" writes loads it), ` +
              `or the login may not use it (use the "${ADMIN_USER}" login "meross certs" created).`,
          ),
        ),
      timeoutMs,
    );
    const onMessage = (topic: string, payload: Buffer): void => {
      // Replies to other admins' commands arrive here too: only ours, and only plain-sized ones.
      if (topic !== DYNSEC_RESPONSE_TOPIC || payload.length > PAYLOAD_LIMIT) return;
      let value: unknown;
      try {
        value = JSON.parse(payload.toString("utf8"));
      } catch {
        return;
      }
      const list = isObject(value) && Array.isArray(value.responses) ? value.responses : [];
      for (const r of list) if (isObject(r) && typeof r.correlationData === "string") replies.set(r.correlationData, r);
      if (tagged.every((c) => replies.has(c.correlationData))) finish();
    };
    client.on("message", onMessage);
    client
      .subscribeAsync(DYNSEC_RESPONSE_TOPIC, { qos: 1 })
      .then((granted) => {
        if (granted.some((g) => g.qos === 128)) throw new Error("refused");
      })
      .catch(() => {
        throw new MerossError(
          "BAD_INPUT",
          `Mosquitto at ${at} does not let this login read ${DYNSEC_RESPONSE_TOPIC}: use the "${ADMIN_USER}" login "meross certs" created.`,
        );
      })
      .then(() => client.publishAsync(DYNSEC_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 }))
      .catch((err: unknown) =>
        finish(err instanceof MerossError ? err : new MerossError("UNREACHABLE", `The connection to Mosquitto at ${at} was lost.`)),
      );
  });
}

const ALREADY = /already exists/i;

/**
 * Adds (or updates) a device's login and its own role while Mosquitto runs: the same user name,
 * password and rules as the file-based path (mosquitto.ts deviceLogin). Idempotent: a login or
 * role already there is given the current password and rules.
 */
export async function addDeviceLive(settings: DynsecSettings, device: DeviceLogin): Promise<LiveLogin> {
  const login = deviceLogin(device);
  const timeoutMs = settings.timeoutMs ?? DYNSEC_TIMEOUT_MS;
  const at = where(settings.url);
  if (typeof settings.password !== "string" || settings.password === "") {
    throw new MerossError(
      "BAD_INPUT",
      `The Mosquitto admin password is missing.${settings.passwordHint ? ` ${settings.passwordHint}` : ""}`,
    );
  }
  const client = await connect(settings, timeoutMs);
  try {
    const { rolename, textname, acls } = login.role;
    const roles = [{ rolename }];
    const replies = await exchange(
      client,
      [
        { command: "createRole", rolename, textname, acls },
        { command: "modifyRole", rolename, textname, acls },
        { command: "createClient", username: login.username, password: login.password, textname, roles },
        { command: "modifyClient", username: login.username, password: login.password, textname, roles },
      ],
      timeoutMs,
      at,
    );
    const bad = replies.find((r, i) => typeof r.error === "string" && !((i === 0 || i === 2) && ALREADY.test(r.error)));
    if (bad) {
      throw new MerossError(
        "BAD_RESPONSE",
        `Mosquitto at ${at} did not add the device's login: ${String(bad.command)} answered ${describeValue(bad.error, 120)}.`,
      );
    }
    return { username: login.username, created: typeof replies[2].error !== "string", broker: at };
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}

/** Port of the listener in a `meross certs` mosquitto.conf. */
function listenerPort(dir: string): number | undefined {
  try {
    const m = /^listener\s+(\d+)/m.exec(fs.readFileSync(path.join(dir, "mosquitto.conf"), "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Adds a device's broker login before the device is told about the broker (onboarding, re-binding). */
export type LoginAdder = (device: DeviceLogin) => Promise<AddedMosquittoLogin>;

/** The step log's detail, and what a result reports: never a password. */
export function loginDetail(a: AddedMosquittoLogin): string {
  return a.live ? `${a.username} added live on ${a.live}` : `${a.username} in ${a.file ?? "the logins file"}`;
}
export function loginReport(a: AddedMosquittoLogin): { live?: string; file?: string; reload?: string } {
  return a.live ? { live: a.live } : { file: a.file ?? "", reload: a.reload ?? MOSQUITTO_RELOAD_ADVICE };
}

/** The file-only path (no Mosquitto to ask): DIR/dynamic-security.json, then a restart. */
export function fileLogins(dir: string): LoginAdder {
  return async (device) => {
    const added = addMosquittoDevice(dir, device);
    return { username: added.username, file: added.file, reload: added.reload };
  };
}

export interface AddedMosquittoLogin {
  username: string;
  /** Added live: the broker it was added on. */
  live?: string;
  /** Added to the file (Mosquitto was not running): the file, and how to make Mosquitto read it. */
  file?: string;
  reload?: string;
}

/**
 * The CLI's `--mosquitto DIR`: live through the control topic when the Mosquitto of that folder
 * runs on this machine, else into DIR/dynamic-security.json with the advice to restart it.
 */
export async function addMosquittoLogin(dir: string, device: DeviceLogin, timeoutMs?: number): Promise<AddedMosquittoLogin> {
  const abs = path.resolve(dir);
  const passwordFile = path.join(abs, ADMIN_PASSWORD_FILE);
  const port = listenerPort(abs);
  let password: string | undefined;
  try {
    password = fs.readFileSync(passwordFile, "utf8").trim();
  } catch {
    password = undefined;
  }
  if (port !== undefined && password) {
    try {
      const live = await addDeviceLive(
        {
          url: `mqtts://127.0.0.1:${port}`,
          ca: fs.readFileSync(path.join(abs, "ca.crt")),
          password,
          anyHostName: true,
          timeoutMs,
          passwordHint: `The right one is in ${passwordFile}; if Mosquitto runs with another folder's set-up, use that folder.`,
        },
        device,
      );
      return { username: live.username, live: live.broker };
    } catch (err) {
      if (!(err instanceof MerossError && err.code === "UNREACHABLE")) throw err;
    }
  }
  const added = addMosquittoDevice(abs, device);
  const upgrade = password
    ? ""
    : ` Run "meross certs --host <broker address> --out ${abs} --force" once to get the "${ADMIN_USER}" login, which adds later logins without a restart.`;
  return { username: added.username, file: path.join(abs, SECURITY_FILE), reload: MOSQUITTO_RELOAD_ADVICE + upgrade };
}
