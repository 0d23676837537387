/**
 * Logins and access rules for a Mosquitto broker serving Meross devices, so that Mosquitto
 * never has to allow anonymous clients.
 *
 * Why the dynamic-security plugin and not `password_file` + `acl_file`: devices log in with
 * their MAC as user name, lowercase with colons (docs/protocol.md §5.2), and Mosquitto's
 * password file splits each line at the first colon, so a MAC can never be a user there
 * (mosquitto 2.0.11 logs "Invalid password hash type for user aa" and refuses the device).
 * The plugin, shipped with Mosquitto 2.0, keeps users in JSON, where a colon is fine, and
 * hashes passwords like `mosquitto_passwd` does (`$7$`: PBKDF2-SHA512, 101 iterations,
 * 12 random salt bytes, 64-byte hash).
 */
import { randomBytes, pbkdf2Sync } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { MerossError } from "../errors";
import { writeFileReplacing } from "./files";
import { isObject, isUuid, macMatchesUuid, normalizeMac, UUID_RULE } from "../protocol/rules";
import { mqttPassword, mqttUsername } from "../onboarding/config";

/** File names inside a `meross certs` folder. */
export const SECURITY_FILE = "dynamic-security.json";
export const DEFAULT_CLIENT_USER = "nodered";
export const HASH_ITERATIONS = 101;
const SALT_BYTES = 12;
const CLIENT_ROLE = "meross-client";
const DEVICE_ROLE_PREFIX = "meross-device-";
/** The login that adds device logins while Mosquitto runs, through the plugin's control topic (dynsec.ts). */
export const ADMIN_USER = "meross-admin";
const ADMIN_ROLE = "meross-admin";
/** The plugin's documented API: JSON commands in, JSON replies on `<topic>/response`. */
export const DYNSEC_TOPIC = "$CONTROL/dynamic-security/v1";
export const DYNSEC_RESPONSE_TOPIC = `${DYNSEC_TOPIC}/response`;

/** Where Debian, Ubuntu, Fedora, Alpine and Homebrew install the plugin. */
const PLUGIN_CANDIDATES = [
  `/usr/lib/${process.arch === "arm64" ? "aarch64" : process.arch === "arm" ? "arm" : "x86_64"}-linux-gnu/mosquitto_dynamic_security.so`,
  "/usr/lib/arm-linux-gnueabihf/mosquitto_dynamic_security.so",
  "/usr/lib64/mosquitto_dynamic_security.so",
  "/usr/lib/mosquitto_dynamic_security.so",
  "/usr/local/lib/mosquitto_dynamic_security.so",
  "/opt/homebrew/lib/mosquitto_dynamic_security.so",
];

/** The plugin on this machine, or the Debian path for this architecture when none is found. */
export function findDynsecPlugin(): { path: string; found: boolean } {
  const hit = PLUGIN_CANDIDATES.find((p) => fs.existsSync(p));
  return hit ? { path: hit, found: true } : { path: PLUGIN_CANDIDATES[0], found: false };
}

export interface HashedPassword {
  password: string;
  salt: string;
  iterations: number;
}

/** The plugin's (and `mosquitto_passwd`'s `$7$`) hash: PBKDF2-SHA512 over the password with a random salt. */
export function hashPassword(password: string, salt: Buffer = randomBytes(SALT_BYTES), iterations = HASH_ITERATIONS): HashedPassword {
  if (typeof password !== "string") throw new MerossError("BAD_INPUT", "A broker password must be text.");
  const hash = pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, 64, "sha512");
  return { password: hash.toString("base64"), salt: salt.toString("base64"), iterations };
}

/** A random password for the Node-RED login: 24 bytes, URL-safe so it survives any config field. */
export function newClientPassword(): string {
  return randomBytes(24).toString("base64url");
}

export interface Acl {
  acltype:
    "publishClientSend" | "publishClientReceive" | "subscribeLiteral" | "subscribePattern" | "unsubscribeLiteral" | "unsubscribePattern";
  topic: string;
  allow: boolean;
}
export interface Role {
  rolename: string;
  textname?: string;
  acls: Acl[];
}
interface Client extends HashedPassword {
  username: string;
  textname?: string;
  roles: Array<{ rolename: string }>;
}
/** The plugin's file, limited to what we write; other fields someone added are kept as they are. */
export interface SecurityConfig {
  defaultACLAccess: { publishClientSend: boolean; publishClientReceive: boolean; subscribe: boolean; unsubscribe: boolean };
  clients: Client[];
  groups: unknown[];
  roles: Role[];
  [other: string]: unknown;
}

const allow = (acltype: Acl["acltype"], topic: string): Acl => ({ acltype, topic, allow: true });

/**
 * The controller (Node-RED, `meross request --broker`) reads every device's publish topic and
 * its reply topic `/app/<random id>/subscribe` (random per connection, hence `+`), and sends
 * requests to any device (docs/protocol.md §5.1).
 */
function clientRole(): Role {
  return {
    rolename: CLIENT_ROLE,
    textname: "Node-RED and meross request: read device messages, send requests",
    acls: [
      allow("subscribePattern", "/appliance/+/publish"),
      allow("publishClientReceive", "/appliance/+/publish"),
      allow("subscribePattern", "/app/+/subscribe"),
      allow("publishClientReceive", "/app/+/subscribe"),
      allow("publishClientSend", "/appliance/+/subscribe"),
      allow("unsubscribePattern", "#"),
    ],
  };
}

/**
 * One device: it publishes on its own topic and reads only its own command topic. It may also
 * publish to `/app/+/subscribe`, because devices answer a request on the topic named in its
 * `from` (docs/protocol.md §1.4); without it no request through Mosquitto gets a reply.
 */
export function deviceRole(uuid: string): Role {
  return {
    rolename: DEVICE_ROLE_PREFIX + uuid,
    textname: `Meross device ${uuid}`,
    acls: [
      allow("publishClientSend", `/appliance/${uuid}/publish`),
      allow("publishClientSend", "/app/+/subscribe"),
      allow("subscribeLiteral", `/appliance/${uuid}/subscribe`),
      allow("publishClientReceive", `/appliance/${uuid}/subscribe`),
      allow("unsubscribePattern", "#"),
    ],
  };
}

/**
 * The admin login may send commands to the plugin and read its replies, nothing else: no
 * device topic, no other `$CONTROL` topic. (What it may ask the plugin is not limited by
 * topic rules: whoever holds it can create logins, so it stays in a 0600 file and in
 * Node-RED's credentials.)
 */
export function adminRole(): Role {
  return {
    rolename: ADMIN_ROLE,
    textname: "meross onboard and Node-RED: add device logins while Mosquitto runs",
    acls: [
      allow("publishClientSend", DYNSEC_TOPIC),
      allow("subscribeLiteral", DYNSEC_RESPONSE_TOPIC),
      allow("publishClientReceive", DYNSEC_RESPONSE_TOPIC),
      allow("unsubscribeLiteral", DYNSEC_RESPONSE_TOPIC),
    ],
  };
}

function adminClient(password: string): Client {
  return { username: ADMIN_USER, textname: "Adds device logins", ...hashPassword(password), roles: [{ rolename: ADMIN_ROLE }] };
}

/** Adds the admin login (or gives it a new password) to a file written before it existed; the rest is untouched. */
export function withAdmin(config: SecurityConfig, password: string): SecurityConfig {
  return {
    ...config,
    clients: [...config.clients.filter((c) => c.username !== ADMIN_USER), adminClient(password)],
    roles: [...config.roles.filter((r) => r.rolename !== ADMIN_ROLE), adminRole()],
  };
}

/** True when the file already has the admin login. */
export function hasAdmin(config: SecurityConfig): boolean {
  return config.clients.some((c) => c.username === ADMIN_USER);
}

function checkClientUser(name: unknown): string {
  if (typeof name !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    throw new MerossError(
      "BAD_INPUT",
      `The broker user name "${String(name)}" is not usable: use letters, digits, dots, dashes or underscores, for example nodered.`,
    );
  }
  return name;
}

/** A new file: nothing is allowed unless a role says so, one controller login and, when given, the admin login. */
export function newSecurityConfig(client: { username: string; password: string }, adminPassword?: string): SecurityConfig {
  const base: SecurityConfig = {
    defaultACLAccess: { publishClientSend: false, publishClientReceive: false, subscribe: false, unsubscribe: false },
    clients: [
      {
        username: checkClientUser(client.username),
        textname: "Node-RED",
        ...hashPassword(client.password),
        roles: [{ rolename: CLIENT_ROLE }],
      },
    ],
    groups: [],
    roles: [clientRole()],
  };
  return adminPassword === undefined ? base : withAdmin(base, adminPassword);
}

export interface DeviceLogin {
  uuid: string;
  mac: string;
  /** The key the device signs with; the broker password derives from it (docs/protocol.md §5.2). */
  key: string;
  userId?: string | number;
}

/**
 * What a device logs in with and may do: user = its MAC, password derived from its key
 * (docs/protocol.md §5.2), its own role. Checked here for the file and the live path alike.
 */
export function deviceLogin(device: DeviceLogin): { username: string; password: string; role: Role } {
  const mac = normalizeMac(device?.mac);
  if (!isUuid(device?.uuid)) throw new MerossError("BAD_INPUT", `The device uuid "${String(device?.uuid)}" is not valid: ${UUID_RULE}.`);
  if (!mac || !macMatchesUuid(mac, device.uuid)) {
    const mac = String(device?.mac);
    throw new MerossError(
      "BAD_INPUT",
      `The device MAC "${mac}" does not match its uuid ${device.uuid}, whose last 12 characters are the MAC.`,
    );
  }
  if (typeof device.key !== "string") throw new MerossError("BAD_INPUT", "The device key must be text (it may be empty).");
  return {
    username: mqttUsername(mac),
    password: mqttPassword(mac, device.key, device.userId ?? "0"),
    role: deviceRole(device.uuid),
  };
}

/** Adds or replaces the device's login (user = MAC) and its own role; other entries are untouched. */
export function withDevice(config: SecurityConfig, device: DeviceLogin): SecurityConfig {
  const { username, password, role } = deviceLogin(device);
  const client: Client = {
    username,
    textname: `Meross device ${device.uuid}`,
    ...hashPassword(password),
    roles: [{ rolename: role.rolename }],
  };
  return {
    ...config,
    clients: [...config.clients.filter((c) => c.username !== username), client],
    roles: [...config.roles.filter((r) => r.rolename !== role.rolename), role],
  };
}

/** Reads the plugin file; a damaged one is a sentence saying how to start over, not a crash. */
export function readSecurityFile(file: string): SecurityConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MerossError(
      "BAD_INPUT",
      code === "ENOENT"
        ? `${file} does not exist. Create it with "meross certs --host <broker address> --out ${path.dirname(file)}" first.`
        : `${file} could not be read (${code ?? "unreadable"}). Run the command as the user that owns it (or with sudo).`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const entries = (v: unknown): boolean => Array.isArray(v) && v.every(isObject);
  if (!isObject(value) || !entries(value.clients) || !entries(value.roles) || !isObject(value.defaultACLAccess)) {
    const how = `Restore it, or move it away and write a new one with "meross certs --force".`;
    throw new MerossError("BAD_INPUT", `${file} is not a Mosquitto dynamic-security file. ${how}`);
  }
  return { groups: [], ...value } as unknown as SecurityConfig;
}

/**
 * Replaces the file in one rename, so Mosquitto never reads half of it, keeping its owner and
 * mode: after `chown mosquitto` (see readableAdvice) a root rewrite must stay readable to Mosquitto.
 */
export function writeSecurityFile(file: string, config: SecurityConfig): void {
  let owner: fs.Stats | undefined;
  try {
    // lstat: a link planted in the folder lends neither its target's mode nor its owner.
    owner = fs.lstatSync(file);
    if (owner.isSymbolicLink()) owner = undefined;
  } catch {
    owner = undefined;
  }
  try {
    const chown = owner && typeof process.getuid === "function" && owner.uid !== process.getuid();
    const text = `${JSON.stringify(config, null, 2)}\n`;
    writeFileReplacing(file, text, owner ? owner.mode & 0o777 : 0o600, chown && owner ? { uid: owner.uid, gid: owner.gid } : undefined);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code ?? (err as Error).message;
    throw new MerossError("BAD_INPUT", `${file} could not be written (${why}). Run the command as the user that owns it (or with sudo).`);
  }
}

/** Mosquitto keeps the plugin file in memory: SIGHUP does not reread it (checked with 2.0.11). */
export const MOSQUITTO_RELOAD_ADVICE =
  "Restart Mosquitto so it reads the new login (it does not reread it on SIGHUP): " +
  "`sudo systemctl restart mosquitto`, or stop the `mosquitto -c` you started and start it again. " +
  "Devices and Node-RED reconnect by themselves.";

export interface AddedDevice {
  file: string;
  username: string;
  reload: string;
}

/** Onboarding against Mosquitto: the device's login and rules go into DIR/dynamic-security.json. */
export function addMosquittoDevice(dir: string, device: DeviceLogin): AddedDevice {
  const file = path.join(path.resolve(dir), SECURITY_FILE);
  const config = withDevice(readSecurityFile(file), device);
  writeSecurityFile(file, config);
  return { file, username: mqttUsername(device.mac), reload: MOSQUITTO_RELOAD_ADVICE };
}

/** The uid and gid of the `mosquitto` user, from /etc/passwd; undefined where there is none. */
function mosquittoUser(passwdFile = "/etc/passwd"): { uid: number; gid: number } | undefined {
  try {
    const line = fs
      .readFileSync(passwdFile, "utf8")
      .split("\n")
      .find((l) => l.startsWith("mosquitto:"));
    const f = line?.split(":");
    return f && f.length > 3 ? { uid: Number(f[2]), gid: Number(f[3]) } : undefined;
  } catch {
    return undefined;
  }
}

function readableBy(st: fs.Stats, who: { uid: number; gid: number }): boolean {
  if (st.uid === who.uid) return (st.mode & 0o400) !== 0;
  if (st.gid === who.gid) return (st.mode & 0o040) !== 0;
  return (st.mode & 0o004) !== 0;
}

/**
 * Mosquitto started as root (a system service) reads its files as user `mosquitto`; private
 * files we write are 0600, so they must be given to it. The exact command, or undefined when
 * the `mosquitto` user can already read them (or does not exist here).
 */
export function readableAdvice(files: string[], passwdFile?: string): string | undefined {
  const who = mosquittoUser(passwdFile);
  if (!who) return undefined;
  const blocked = files.filter((f) => {
    try {
      return !readableBy(fs.statSync(f), who);
    } catch {
      return false;
    }
  });
  return blocked.length ? `sudo chown mosquitto ${blocked.map(shellQuote).join(" ")}` : undefined;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A broker URL must not carry a password: URLs end up in logs, flows and shell history.
 * Returns the URL unchanged when it has none.
 */
export function checkBrokerUrl(url: string, passwordOption = "the broker password setting"): string {
  let u: URL | undefined;
  try {
    u = new URL(String(url).trim());
  } catch {
    u = undefined;
  }
  if (u && u.password !== "") {
    throw new MerossError(
      "BAD_INPUT",
      `The broker address ${u.protocol}//${u.host} contains a user name and password. ` +
        `Remove "user:password@" from it and give the password with ${passwordOption} instead.`,
    );
  }
  return url;
}
