/**
 * meross-config: one device, one key, one MerossDevice session shared by every node that
 * uses it (one request queue, because real devices serve one request at a time,
 * protocol.md §2.3). Modelled on Node-RED's MQTT broker node: a `users` map, the session
 * starts when the first user registers, and its status is pushed to every user.
 * The session runs over HTTP, over a meross-broker's MQTT connection, or "auto" (MQTT
 * while the device listens on the broker, HTTP otherwise), and follows the device's IP
 * when the broker sees it connect from a new one.
 */
import type { NodeAPI, Node, NodeDef, NodeStatus } from "node-red";
import type { Request, Response } from "express";
import { MerossDevice } from "../core/device";
import { MerossError } from "../core/errors";
import { AutoTransport } from "../core/transport/auto";
import type { Transport } from "../core/transport/types";
import { summarizeDevice } from "./shared/device-summary";
import { SHORT_REASON, toMerossError } from "./shared/errors";
import { isMerossConfig, type MerossConfigNode, type SessionListener, type SessionState, type TransportChoice } from "./shared/types";
import { isMerossBroker, type BrokerPresence, type MerossBrokerNode } from "./shared/broker-types";
import { BrokerTransport, FollowingHttpTransport, followAddress } from "./shared/transports";
import { checkEncryptionMode } from "../core/crypto/lan";

interface ConfigDef extends NodeDef {
  host?: string;
  userId?: string;
  transport?: string;
  broker?: string;
  uuid?: string;
  encryption?: string;
}

/** A uuid as devices report it (hardware.uuid): 32 hex digits in every capture; kept loose for odd firmware. */
const UUID_FORM = /^[A-Za-z0-9]{1,64}$/;

interface ConfigCredentials {
  key?: string;
}

/** After a failed first read, try again this much later while nodes still use the device. */
const RETRY_MS = 30_000;
/** The runtime allows 15 s for close; a device that hangs must not eat all of it. */
const CLOSE_BOUND_MS = 2_000;
/** The editor probe answers a person waiting on a button: fail fast. */
const PROBE_TIMEOUT_MS = 5_000;
/** What the editor sends back for a password field the user did not touch. */
const UNCHANGED_PASSWORD = "__PWRD__";

function credentialKey(node: Node): string {
  const c = (node as Node & { credentials?: ConfigCredentials }).credentials;
  return c && typeof c.key === "string" ? c.key : "";
}

function errorBody(err: unknown, secrets: string[]): { error: { code: string; message: string } } {
  const e = toMerossError(err, secrets);
  return { error: { code: e.code, message: e.message } };
}

export = function (RED: NodeAPI): void {
  function MerossConfig(this: Node, def: ConfigDef): void {
    RED.nodes.createNode(this, def);
    const node = this as MerossConfigNode & { host: string; userId: string; transport: TransportChoice; broker: MerossBrokerNode | undefined };
    node.host = typeof def.host === "string" ? def.host.trim() : "";
    node.userId = typeof def.userId === "string" || typeof def.userId === "number" ? String(def.userId).trim() : "";
    node.transport = def.transport === "mqtt" || def.transport === "auto" ? def.transport : "http";
    const brokerNode = typeof def.broker === "string" && def.broker ? RED.nodes.getNode(def.broker) : null;
    node.broker = isMerossBroker(brokerNode) ? brokerNode : undefined;
    const key = credentialKey(node);
    let uuid = typeof def.uuid === "string" ? def.uuid.trim() : "";
    const broker = node.broker;

    let device: MerossDevice | undefined;
    let setupError: MerossError | undefined;
    let http: FollowingHttpTransport | undefined;
    let mqtt: BrokerTransport | undefined;
    let auto: AutoTransport | undefined;
    /** Where the broker last saw the device, when that moved the HTTP address. */
    let followed: { ip: string; at: number } | undefined;
    try {
      if (uuid && !UUID_FORM.test(uuid)) {
        throw new MerossError("BAD_INPUT", `The uuid "${uuid}" is not valid: use the 32-character uuid the device reports (or leave it empty to read it from the device).`);
      }
      if (node.transport !== "http" && !broker) {
        throw new MerossError("BAD_INPUT", `Transport "${node.transport}" needs an MQTT broker: open this meross-config and pick (or add) a meross-broker.`);
      }
      if (node.transport === "mqtt" && !uuid && !node.host) {
        throw new MerossError("BAD_INPUT", "Over MQTT the device is known by its uuid: enter it (pick the device from the broker's list), or enter its address so the uuid can be read once over HTTP.");
      }
      if (node.host) http = new FollowingHttpTransport(node.host);
      if (broker) mqtt = new BrokerTransport(broker, () => uuid);
      let first: Transport | undefined;
      if (node.transport === "auto" && http && mqtt && broker) {
        const b = broker;
        auto = new AutoTransport({ http, mqtt, mqttAvailable: () => !!uuid && b.isListening(uuid) });
        first = auto;
      } else if (node.transport === "mqtt" && uuid) {
        first = mqtt;
      } else {
        first = http;
      }
      // "auto" finds encrypted firmware by itself (ability list); the others force a scheme for odd devices.
      const encryption = checkEncryptionMode(typeof def.encryption === "string" && def.encryption ? def.encryption : "auto");
      device = new MerossDevice({ address: node.host || undefined, transport: first, key, encryption });
    } catch (err) {
      setupError = toMerossError(err, [key]);
    }

    const pathNow = (): "http" | "mqtt" => (auto ? auto.kind : device?.transport.kind ?? (node.transport === "mqtt" ? "mqtt" : "http"));
    const readyText = (d: MerossDevice): string => {
      const model = d.info?.model || "connected";
      if (!broker) return model;
      return followed ? `${model} · ${pathNow()} · at ${followed.ip}` : `${model} · ${pathNow()}`;
    };

    const users = new Map<string, { node: Node; onSession?: SessionListener }>();
    const sharedObjects = new Map<string, unknown>();
    let state: SessionState = "connecting";
    let status: NodeStatus = { fill: "yellow", shape: "ring", text: "connecting" };
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let closed = false;

    const pushOne = (u: { node: Node; onSession?: SessionListener }): void => {
      try {
        if (u.onSession) u.onSession(state, status);
        else u.node.status(status);
      } catch {
        // A user node's status hook must not break the others.
      }
    };
    const setState = (s: SessionState, st: NodeStatus): void => {
      state = s;
      status = st;
      for (const u of users.values()) pushOne(u);
    };
    const markReady = (d: MerossDevice, force = false): void => {
      if (state !== "ready" || force) setState("ready", { fill: "green", shape: "dot", text: readyText(d) });
    };

    /** Once the uuid is known: MQTT-only sessions leave HTTP, pushes start flowing, the IP is followed. */
    const learnUuid = (d: MerossDevice): void => {
      const seen = d.info?.uuid ?? "";
      if (!uuid && UUID_FORM.test(seen)) uuid = seen;
      if (!uuid || !mqtt) return;
      if (node.transport === "mqtt" && d.transport !== mqtt) d.setTransport(mqtt);
      mqtt.attach();
      const p = broker?.device(uuid);
      if (p) follow(p);
    };
    const follow = (p: BrokerPresence): void => {
      if (!uuid || p.uuid !== uuid || !p.ip || !http || !node.host) return;
      let moved = false;
      try {
        moved = http.moveTo(followAddress(node.host, p.ip));
      } catch {
        return;
      }
      if (!moved) return;
      followed = { ip: p.ip, at: Date.now() };
      node.log(`device ${uuid} is now at ${p.ip} (seen by the MQTT broker); HTTP requests go there`);
      if (device && state === "ready") markReady(device, true);
    };
    const onPresence = (p: BrokerPresence): void => {
      follow(p);
      if (device && state === "ready" && p.uuid === uuid) markReady(device, true);
    };
    const onGone = (g: { uuid: string }): void => {
      if (device && state === "ready" && g.uuid === uuid) markReady(device, true);
    };
    // Over plain HTTP the broker still carries the device's pushes: the session follows them too.
    const onHttpPush = (env: Parameters<MerossDevice["handlePush"]>[0]): void => {
      if (device && device.transport !== mqtt && device.transport !== auto) {
        try {
          device.handlePush(env);
        } catch {
          // A malformed push must not take the session down.
        }
      }
    };
    const brokerOffs: Array<() => void> = [];
    if (broker && device) {
      brokerOffs.push(broker.useKeys(node.id, () => [key]), broker.events.on("device", onPresence), broker.events.on("gone", onGone));
      mqtt?.on("push", onHttpPush);
      auto?.on("switch", () => {
        if (device && state === "ready") markReady(device, true);
      });
      if (uuid) mqtt?.attach();
      brokerOffs.push(broker.events.on("running", () => mqtt?.attach()));
    }
    const markError = (err: unknown): void => {
      const e = toMerossError(err, [key]);
      setState("error", { fill: "red", shape: "ring", text: SHORT_REASON[e.code] });
    };

    const connect = (): void => {
      if (closed || !device) return;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      const d = device;
      d.ready().then(
        () => {
          learnUuid(d);
          markReady(d, true);
        },
        (err: unknown) => {
          markError(err);
          if (!closed && users.size > 0) {
            retryTimer = setTimeout(() => {
              retryTimer = undefined;
              if (users.size > 0) connect();
            }, RETRY_MS);
          }
        },
      );
    };

    Object.defineProperty(node, "device", { get: () => device, enumerable: false });

    node.register = (user: Node, onSession?: SessionListener): void => {
      const first = users.size === 0;
      users.set(user.id, { node: user, onSession });
      if (setupError) {
        state = "error";
        status = { fill: "red", shape: "ring", text: SHORT_REASON[setupError.code] };
        pushOne({ node: user, onSession });
        return;
      }
      pushOne({ node: user, onSession });
      if (first && state !== "ready") connect();
    };

    node.deregister = (user: Node, done: () => void): void => {
      users.delete(user.id);
      if (users.size === 0 && retryTimer) {
        clearTimeout(retryTimer);
        retryTimer = undefined;
      }
      done();
    };

    node.getDevice = async (): Promise<MerossDevice> => {
      if (!device) throw setupError ?? new MerossError("BAD_INPUT", "This meross-config has no device address. Open it and enter the device's IP address or host name.");
      const d = device;
      try {
        await d.ready();
      } catch (err) {
        markError(err);
        throw err;
      }
      learnUuid(d);
      markReady(d);
      return d;
    };

    node.shared = <T,>(k: string, create: () => T): T => {
      if (!sharedObjects.has(k)) sharedObjects.set(k, create());
      return sharedObjects.get(k) as T;
    };

    node.secrets = (): string[] => (key ? [key] : []);
    node.uuid = (): string => uuid;
    node.path = pathNow;
    node.currentAddress = (): string => http?.address ?? node.host;

    node.on("close", (_removed: boolean, done: () => void) => {
      closed = true;
      for (const off of brokerOffs.splice(0)) off();
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      for (const obj of sharedObjects.values()) {
        const c = (obj as { cancel?: unknown }).cancel;
        if (typeof c === "function") {
          try {
            c.call(obj);
          } catch {
            // Closing must go on even if one helper fails to stop.
          }
        }
      }
      sharedObjects.clear();
      users.clear();
      const d = device;
      device = undefined;
      if (!d) {
        done();
        return;
      }
      let finished = false;
      const finish = (): void => {
        if (!finished) {
          finished = true;
          done();
        }
      };
      const bound = setTimeout(finish, CLOSE_BOUND_MS);
      // The session closes the transport it uses; the others (HTTP left for MQTT, the push path) close here.
      const spare = [auto, http, mqtt].filter((t): t is NonNullable<typeof t> => !!t && t !== d.transport);
      const closeAll = Promise.all([d.close(), ...spare.map((t) => t.close().catch(() => undefined))]);
      closeAll.catch(() => undefined).finally(() => {
        clearTimeout(bound);
        finish();
      });
    });
  }

  RED.nodes.registerType("meross-config", MerossConfig, {
    credentials: { key: { type: "password" } },
  });

  // Info about a deployed config, for the edit dialog; answers from the running session.
  RED.httpAdmin.get("/meross-config/:id/info", RED.auth.needsPermission("meross-config.read"), (req: Request, res: Response) => {
    const cfg = RED.nodes.getNode(String(req.params.id));
    if (!isMerossConfig(cfg)) {
      res.status(404).json({ error: { code: "NOT_FOUND", message: "No deployed meross-config with this id. Deploy the flow first, or use Read device." } });
      return;
    }
    cfg.getDevice().then(
      (d) => res.json({ ...summarizeDevice(d), address: cfg.currentAddress(), configuredAddress: cfg.host, transport: cfg.transport, path: cfg.path(), followedIp: cfg.currentAddress() !== cfg.host ? cfg.currentAddress() : undefined }),
      (err: unknown) => res.status(502).json(errorBody(err, cfg.secrets())),
    );
  });

  // "Read device" in the edit dialog: reads System.All/Ability from a host that may not be deployed yet.
  RED.httpAdmin.post("/meross-config/probe", RED.auth.needsPermission("meross-config.write"), (req: Request, res: Response) => {
    const body: Record<string, unknown> = req.body && typeof req.body === "object" ? (req.body as Record<string, unknown>) : {};
    const host = typeof body.host === "string" ? body.host.trim() : "";
    let key = typeof body.key === "string" && body.key !== UNCHANGED_PASSWORD ? body.key : "";
    if (!key && typeof body.id === "string" && body.id) {
      const cfg = RED.nodes.getNode(body.id);
      if (isMerossConfig(cfg)) key = credentialKey(cfg);
    }
    const secrets = key ? [key] : [];
    if (!host) {
      res.status(400).json({ error: { code: "BAD_INPUT", message: "Enter the device's IP address or host name first." } });
      return;
    }
    let d: MerossDevice;
    try {
      d = new MerossDevice({ address: host, key, timeoutMs: PROBE_TIMEOUT_MS, http: { retries: 0 } });
    } catch (err) {
      res.status(400).json(errorBody(err, secrets));
      return;
    }
    d.refresh()
      .then(
        () => res.json(summarizeDevice(d)),
        (err: unknown) => {
          const e = toMerossError(err, secrets);
          res.status(e.code === "BAD_INPUT" ? 400 : 502).json(errorBody(e, secrets));
        },
      )
      .finally(() => {
        d.close().catch(() => undefined);
      });
  });
};
