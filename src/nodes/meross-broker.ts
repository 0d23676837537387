/**
 * meross-broker: the MQTT side shared by every Meross node of a flow. Either an embedded
 * TLS broker (devices refuse plain MQTT, protocol.md §5.3) checking each device login
 * against the keys its users know, or a connection to an existing broker (Mosquitto) on
 * which we play the cloud's part (Bind, Clock, System.Time, §5.4) so devices stay in
 * normal mode. One broker or connection per config node, released on close.
 */
import { EventEmitter } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { NodeAPI, Node, NodeDef, NodeStatus } from "node-red";
import type { Request, Response } from "express";
import { MerossBroker, type BrokerDevice, type RefusedEvent } from "../core/broker/broker";
import { MQTT_TLS_PORT, loadOrCreateCertificates } from "../core/broker/certs";
import { CloudSession } from "../core/broker/session";
import { MerossError } from "../core/errors";
import { verifySign, type Envelope } from "../core/protocol/message";
import { MqttConnection, type MqttMessageEvent } from "../core/transport/mqtt";
import { describeValue } from "../core/capabilities/util";
import { redact, toMerossError } from "./shared/errors";
import { isBlank } from "./shared/inputs";
import { isMerossBroker, type BrokerEndpoint, type BrokerPresence, type MerossBrokerNode } from "./shared/broker-types";

interface BrokerDef extends NodeDef {
  mode?: string;
  port?: string | number;
  bindHost?: string;
  certHost?: string;
  allowAnonymous?: boolean | string;
  url?: string;
  ca?: string;
  username?: string;
  rejectUnauthorized?: boolean | string;
}

interface BrokerCredentials {
  password?: string;
}

/** Stopping must leave most of the runtime's 15 s to the other nodes; aedes closes in milliseconds. */
const CLOSE_BOUND_MS = 5_000;
/** mqtt:// without TLS listens on 1883 by convention; devices only speak mqtts:// on 8883. */
const MQTT_PLAIN_PORT = 1883;

function bad(message: string): MerossError {
  return new MerossError("BAD_INPUT", message);
}

/** The address devices on the LAN can reach this machine at, when the user gave none. */
function firstLanAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === "IPv4" && !a.internal) return a.address;
    }
  }
  return "127.0.0.1";
}

function parsePort(v: unknown): number {
  if (isBlank(v)) return MQTT_TLS_PORT;
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw bad(`The broker port ${describeValue(v)} is not valid: use a number from 1 to 65535 (8883 is what devices expect), or 0 for any free port.`);
  }
  return n;
}

function flag(v: unknown): boolean | undefined {
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  return undefined;
}

/** The CA as PEM text: pasted as is, or read from the file path the user gave. */
function readCa(v: unknown): string | undefined {
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

function endpointFromUrl(url: string): BrokerEndpoint {
  const u = new URL(url);
  const port = u.port ? Number(u.port) : u.protocol === "mqtts:" ? MQTT_TLS_PORT : MQTT_PLAIN_PORT;
  return { host: u.hostname.replace(/^\[|\]$/g, ""), port };
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v ? v : undefined;
}

/** The LAN address a device reports in its Bind (the firmware block of System.All carries innerIp). */
function bindDetails(env: Envelope): { ip?: string; model?: string; firmware?: string; mac?: string } {
  const bind = env.payload.bind;
  if (typeof bind !== "object" || bind === null) return {};
  const b = bind as Record<string, unknown>;
  const fw = (typeof b.firmware === "object" && b.firmware !== null ? b.firmware : {}) as Record<string, unknown>;
  const hw = (typeof b.hardware === "object" && b.hardware !== null ? b.hardware : {}) as Record<string, unknown>;
  return { ip: str(fw.innerIp), firmware: str(fw.version), model: str(hw.type), mac: str(hw.macAddress)?.toLowerCase() };
}

export = function (RED: NodeAPI): void {
  function MerossBrokerConfig(this: Node, def: BrokerDef): void {
    RED.nodes.createNode(this, def);
    const node = this as unknown as MerossBrokerNode & { mode: "embedded" | "existing"; events: EventEmitter };
    const creds = ((this as Node & { credentials?: BrokerCredentials }).credentials ?? {}) as BrokerCredentials;
    const password = typeof creds.password === "string" ? creds.password : "";
    const secrets = password ? [password] : [];
    node.mode = def.mode === "existing" ? "existing" : "embedded";
    const events = new EventEmitter();
    // Every meross-config and meross-state may listen; the default cap of 10 would warn.
    events.setMaxListeners(0);
    node.events = events;

    const keySources = new Map<string, () => readonly string[]>();
    const presence = new Map<string, BrokerPresence>();
    let conn: MqttConnection | undefined;
    let broker: MerossBroker | undefined;
    let closed = false;

    const allKeys = (): string[] => {
      const out = new Set<string>();
      for (const fn of keySources.values()) {
        try {
          for (const k of fn()) if (typeof k === "string") out.add(k);
        } catch {
          // One user's broken key source must not lock every device out.
        }
      }
      return [...out];
    };

    const showCount = (): void => {
      if (closed) return;
      const n = presence.size;
      const online = node.mode === "embedded" ? !!broker : !!conn?.online;
      const st: NodeStatus = online
        ? { fill: "green", shape: "dot", text: `${n} device${n === 1 ? "" : "s"}` }
        : { fill: "yellow", shape: "ring", text: node.mode === "embedded" ? "starting" : "connecting" };
      node.status(st);
    };
    const emit = (event: string, arg?: unknown): void => {
      try {
        events.emit(event, arg);
      } catch {
        // A user's listener must not break the broker's bookkeeping.
      }
    };
    /** `fresh`: a new session of the device (a Bind), reported even when nothing else changed. */
    const upsert = (uuid: string, patch: Partial<BrokerPresence>, fresh = false): void => {
      const before = presence.get(uuid);
      const next: BrokerPresence = { ...(before ?? { uuid, listening: false, since: Date.now() }), ...patch, uuid };
      for (const k of Object.keys(next) as Array<keyof BrokerPresence>) if (next[k] === undefined) delete next[k];
      presence.set(uuid, next);
      if (fresh || !before || JSON.stringify(before) !== JSON.stringify(next)) emit("device", { ...next });
      if (!before) showCount();
    };
    const drop = (uuid: string): void => {
      if (presence.delete(uuid)) {
        emit("gone", { uuid });
        showCount();
      }
    };

    let connReady: Promise<MqttConnection>;
    let embeddedReady: Promise<MerossBroker | undefined>;
    let endpointReady: Promise<BrokerEndpoint>;

    if (node.mode === "embedded") {
      let settings: { port: number; host: string; certHost: string; allowAnonymous: boolean };
      try {
        settings = {
          port: parsePort(def.port),
          host: isBlank(def.bindHost) ? "0.0.0.0" : String(def.bindHost).trim(),
          certHost: isBlank(def.certHost) ? firstLanAddress() : String(def.certHost).trim(),
          allowAnonymous: flag(def.allowAnonymous) === true,
        };
      } catch (err) {
        settings = { port: -1, host: "", certHost: "", allowAnonymous: false };
        embeddedReady = Promise.reject(err);
      }
      const start = async (): Promise<MerossBroker> => {
        // Yield first: certificate generation is CPU work and the deploy should not wait on it.
        await new Promise((r) => setImmediate(r));
        const userDir = (RED.settings as { userDir?: string }).userDir || path.join(os.homedir(), ".node-red");
        const dir = path.join(userDir, "meross-broker", node.id.replace(/[^A-Za-z0-9_-]/g, "_"));
        let certs;
        try {
          certs = loadOrCreateCertificates(dir, settings.certHost, { mosquittoPort: settings.port || MQTT_TLS_PORT });
        } catch (err) {
          if (err instanceof MerossError) throw err;
          throw bad(`The broker certificates could not be written to ${dir} (${err instanceof Error ? err.message : String(err)}). Check that Node-RED's user directory is writable.`);
        }
        const b = await MerossBroker.start({
          port: settings.port,
          host: settings.host,
          certs,
          keys: () => allKeys(),
          allowAnonymous: settings.allowAnonymous,
        });
        if (closed) {
          await b.stop();
          throw new MerossError("UNREACHABLE", "The embedded MQTT broker was stopped (redeploy) before it finished starting.");
        }
        b.on("device-connected", (d: BrokerDevice) => {
          upsert(d.uuid, { mac: d.mac, ip: d.ip, model: d.model, firmware: d.firmware, listening: false, since: d.connectedAt });
        });
        b.on("device-listening", (d: BrokerDevice) => upsert(d.uuid, { mac: d.mac, ip: d.ip, listening: true }));
        b.on("device-bound", (d: BrokerDevice) => upsert(d.uuid, { model: d.model, firmware: d.firmware }));
        b.on("device-disconnected", (d: { uuid: string }) => drop(d.uuid));
        b.on("refused", (r: RefusedEvent) => {
          node.log(`refused a login from ${r.ip || "an unknown address"} (${r.clientId}): ${r.reason}`);
        });
        broker = b;
        conn = b.connection();
        showCount();
        emit("running");
        return b;
      };
      embeddedReady ??= start();
      embeddedReady.catch((err: unknown) => {
        if (closed) return;
        const e = toMerossError(err, secrets);
        node.status({ fill: "red", shape: "ring", text: e.code === "BAD_INPUT" ? "cannot start" : "stopped" });
        node.error(e.message);
        emit("stopped", { reason: e.message });
      });
      connReady = embeddedReady.then(() => {
        if (!conn) throw new MerossError("UNREACHABLE", "The embedded MQTT broker is stopped.");
        return conn;
      });
      endpointReady = embeddedReady.then((b) => ({ host: settings.certHost, port: b?.port ?? settings.port }));
      node.status({ fill: "yellow", shape: "ring", text: "starting" });
    } else {
      embeddedReady = Promise.resolve(undefined);
      try {
        const url = typeof def.url === "string" ? def.url.trim() : "";
        if (!url) throw bad("The broker URL is empty. Enter mqtts://host:8883 (or mqtt://host:1883) of your MQTT broker.");
        const ca = readCa(def.ca);
        const rejectUnauthorized = flag(def.rejectUnauthorized) ?? ca !== undefined;
        const username = isBlank(def.username) ? undefined : String(def.username);
        const c = MqttConnection.create({ url, ca, username, password: password || undefined, rejectUnauthorized });
        conn = c;
        endpointReady = Promise.resolve(endpointFromUrl(url));
        const session = new CloudSession({
          publish: (topic, env) => {
            c.publish(topic, env).catch(() => undefined);
          },
          keyFor: () => undefined,
        });
        c.on("message", (ev: MqttMessageEvent) => {
          if (!ev.topic.endsWith("/publish")) return;
          const isBind = ev.envelope.header.namespace === "Appliance.Control.Bind";
          const details = isBind ? { ...bindDetails(ev.envelope), since: Date.now() } : {};
          upsert(ev.uuid, { ...details, listening: true }, isBind);
          // The device signs with its own key: the one whose signature checks out is its key.
          const key = allKeys().find((k) => verifySign(ev.envelope.header, k));
          if (key === undefined) return;
          try {
            session.handle(ev.uuid, ev.topic, ev.envelope, key);
          } catch {
            // A hostile message must not stop the session for the other devices.
          }
        });
        c.on("online", () => {
          for (const p of presence.values()) emit("device", { ...p });
          showCount();
          emit("running");
        });
        c.on("offline", ({ reason }: { reason: string }) => {
          if (closed) return;
          node.status({ fill: "red", shape: "ring", text: "disconnected" });
          emit("stopped", { reason: redact(reason, secrets) });
        });
        connReady = Promise.resolve(c);
        node.status({ fill: "yellow", shape: "ring", text: "connecting" });
      } catch (err) {
        const e = toMerossError(err, secrets);
        connReady = Promise.reject(e);
        endpointReady = Promise.reject(e);
        node.status({ fill: "red", shape: "ring", text: "invalid settings" });
        node.error(e.message);
      }
    }
    connReady.catch(() => undefined);
    endpointReady.catch(() => undefined);

    node.connection = () => connReady;
    node.currentConnection = () => (closed ? undefined : conn);
    node.embedded = () => embeddedReady;
    node.endpoint = () => endpointReady;
    node.devices = () => [...presence.values()].map((p) => ({ ...p }));
    node.device = (uuid: string) => {
      const p = presence.get(uuid);
      return p ? { ...p } : undefined;
    };
    node.isListening = (uuid: string): boolean => {
      if (closed || !uuid) return false;
      if (node.mode === "embedded") return !!broker && broker.isConnected(uuid);
      return !!conn?.online && presence.has(uuid);
    };
    node.useKeys = (owner: string, keys: () => readonly string[]) => {
      keySources.set(owner, keys);
    };
    node.dropKeys = (owner: string) => {
      keySources.delete(owner);
    };
    node.secrets = () => [...secrets];

    node.on("close", (_removed: boolean, done: () => void) => {
      closed = true;
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        clearTimeout(bound);
        done();
      };
      const bound = setTimeout(finish, CLOSE_BOUND_MS);
      const c = conn;
      conn = undefined;
      const stopAll = async (): Promise<void> => {
        emit("stopped", { reason: "the meross-broker node was stopped (redeploy or removal)" });
        if (node.mode === "embedded") {
          const b = await embeddedReady.catch(() => undefined);
          broker = undefined;
          await c?.close().catch(() => undefined);
          await b?.stop();
        } else {
          await c?.close().catch(() => undefined);
        }
        presence.clear();
        events.removeAllListeners();
      };
      stopAll().catch(() => undefined).finally(finish);
    });
  }

  RED.nodes.registerType("meross-broker", MerossBrokerConfig, {
    credentials: { password: { type: "password" } },
  });

  // Discovery for the meross-config dialog: the devices logged in to a deployed broker.
  RED.httpAdmin.get("/meross-broker/:id/devices", RED.auth.needsPermission("meross-broker.read"), (req: Request, res: Response) => {
    const b = RED.nodes.getNode(String(req.params.id));
    if (!isMerossBroker(b)) {
      res.status(404).json({ error: { code: "NOT_FOUND", message: "No deployed meross-broker with this id. Deploy the flow first, then open this dialog again." } });
      return;
    }
    res.json(b.devices().map((d) => ({ uuid: d.uuid, model: d.model ?? "", ip: d.ip ?? "", mac: d.mac ?? "", listening: d.listening, since: d.since })));
  });
};
