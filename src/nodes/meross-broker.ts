/**
 * meross-broker: the MQTT side shared by every Meross node of a flow, a thin adapter
 * around one Fleet (src/core/fleet): an embedded TLS broker, or a connection to an existing
 * broker on which the fleet plays the cloud's part (docs/protocol.md §5.4). Here: the
 * node's properties, credentials and status, and the discovery endpoint of the editor.
 */
import * as os from "node:os";
import * as path from "node:path";
import type { NodeAPI, Node, NodeDef } from "node-red";
import type { Request, Response } from "express";
import { MQTT_TLS_PORT, loadOrCreateCertificates } from "../core/broker/certs";
import { MerossError } from "../core/errors";
import { EmbeddedFleet, ExistingFleet, type FleetBase } from "../core/fleet";
import { firstLanAddress } from "../core/net";
import { toMerossError } from "./shared/errors";
import { isBlank } from "./shared/inputs";
import { bad, flag, parsePort, readCa } from "./shared/broker-input";
import { isMerossBroker, type MerossBrokerNode } from "./shared/broker-types";

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

/** Stopping must leave most of the runtime's 15 s to the other nodes; aedes closes in milliseconds. */
const CLOSE_BOUND_MS = 5_000;

export = function (RED: NodeAPI): void {
  function MerossBrokerConfig(this: Node, def: BrokerDef): void {
    RED.nodes.createNode(this, def);
    const node = this as unknown as MerossBrokerNode;
    const creds = ((this as Node & { credentials?: { password?: string } }).credentials ?? {}) as { password?: string };
    const password = typeof creds.password === "string" ? creds.password : "";
    const certDir = (): string => {
      const userDir = (RED.settings as { userDir?: string }).userDir || path.join(os.homedir(), ".node-red");
      return path.join(userDir, "meross-broker", node.id.replace(/[^A-Za-z0-9_-]/g, "_"));
    };
    const fleet: FleetBase =
      def.mode === "existing"
        ? new ExistingFleet({
            password,
            settings: () => {
              const url = typeof def.url === "string" ? def.url : "";
              const ca = url.trim() ? readCa(def.ca) : undefined;
              return { url, ca, rejectUnauthorized: flag(def.rejectUnauthorized) ?? ca !== undefined, username: isBlank(def.username) ? undefined : String(def.username) };
            },
          })
        : new EmbeddedFleet({
            settings: () => ({
              port: parsePort(def.port),
              host: isBlank(def.bindHost) ? "0.0.0.0" : String(def.bindHost).trim(),
              certHost: isBlank(def.certHost) ? firstLanAddress() : String(def.certHost).trim(),
              allowAnonymous: flag(def.allowAnonymous) === true,
            }),
            certs: (s) => {
              const dir = certDir();
              try {
                return loadOrCreateCertificates(dir, s.certHost, { mosquittoPort: s.port || MQTT_TLS_PORT });
              } catch (err) {
                if (err instanceof MerossError) throw err;
                throw bad(`The broker certificates could not be written to ${dir} (${err instanceof Error ? err.message : String(err)}). Check that Node-RED's user directory is writable.`);
              }
            },
          });
    const embedded = fleet.mode === "embedded";
    // Not enumerable: the fleet holds the password and live sockets, which must never be serialised with the node.
    Object.defineProperty(node, "fleet", { value: fleet, enumerable: false });
    Object.defineProperty(node, "events", { value: fleet.events, enumerable: false });
    Object.assign(node, {
      mode: fleet.mode,
      connection: () => fleet.connection(),
      currentConnection: () => fleet.currentConnection(),
      devices: () => fleet.devices(),
      device: (uuid: string) => fleet.device(uuid),
      isListening: (uuid: string) => fleet.isListening(uuid),
      endpoint: () => fleet.endpoint(),
      useKeys: (owner: string, keys: () => readonly string[]) => fleet.useKeys(owner, keys),
      secrets: () => fleet.secrets(),
    });

    const showCount = (): void => {
      if (fleet.isClosed) return;
      const n = fleet.devices().length;
      if (fleet.online()) node.status({ fill: "green", shape: "dot", text: `${n} device${n === 1 ? "" : "s"}` });
      else node.status({ fill: "yellow", shape: "ring", text: embedded ? "starting" : "connecting" });
    };
    const offs = [
      fleet.events.on("device", showCount),
      fleet.events.on("gone", showCount),
      fleet.events.on("running", showCount),
      fleet.events.on("stopped", () => {
        if (!embedded && !fleet.isClosed) node.status({ fill: "red", shape: "ring", text: "disconnected" });
      }),
      fleet.events.on("refused", (r) => node.log(`refused a login from ${r.ip || "an unknown address"} (${r.clientId}): ${r.reason}`)),
    ];
    const failure = fleet instanceof ExistingFleet ? fleet.settingsError : undefined;
    if (failure) {
      node.status({ fill: "red", shape: "ring", text: "invalid settings" });
      node.error(toMerossError(failure, [password]).message);
    } else {
      node.status({ fill: "yellow", shape: "ring", text: embedded ? "starting" : "connecting" });
    }
    if (embedded) {
      fleet.connection().catch((err: unknown) => {
        if (fleet.isClosed) return;
        const e = toMerossError(err, [password]);
        node.status({ fill: "red", shape: "ring", text: e.code === "BAD_INPUT" ? "cannot start" : "stopped" });
        node.error(e.message);
      });
    }

    node.on("close", (_removed: boolean, done: () => void) => {
      for (const off of offs.splice(0)) off();
      const bound = setTimeout(done, CLOSE_BOUND_MS);
      fleet
        .close("the meross-broker node was stopped (redeploy or removal)")
        .catch(() => undefined)
        .finally(() => {
          clearTimeout(bound);
          done();
        });
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
