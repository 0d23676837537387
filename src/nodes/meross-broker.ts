/**
 * meross-broker: the MQTT side shared by every Meross node of a flow, a thin adapter
 * around one Fleet (src/core/fleet): an embedded TLS broker, or a connection to an existing
 * broker on which the fleet plays the cloud's part (docs/protocol.md §5.4). Here: the
 * node's properties, credentials and status, and the discovery endpoint of the editor.
 */
import * as os from "node:os";
import * as path from "node:path";
import type { NodeAPI, Node } from "node-red";
import type { Request, Response } from "express";
import { ExistingFleet, type FleetBase, describeChanges } from "../core";
import { toMerossError } from "./shared/errors";
import { adminLogins, fleetFor, type BrokerDef } from "./shared/broker-input";
import { isMerossBroker, type MerossBrokerNode } from "./shared/broker-types";
import { brokerHandover } from "./shared/broker-handover";

/** Stopping must leave most of the runtime's 15 s to the other nodes; aedes closes in milliseconds. */
const CLOSE_BOUND_MS = 5_000;

export = function (RED: NodeAPI): void {
  // A full deploy hands the running broker to the new node when its settings are unchanged: devices stay connected.
  const handover = brokerHandover(RED);
  function MerossBrokerConfig(this: Node, def: BrokerDef): void {
    RED.nodes.createNode(this, def);
    const node = this as unknown as MerossBrokerNode;
    const creds: { password?: unknown; adminPassword?: unknown } = (this as Node & { credentials?: object }).credentials ?? {};
    const [password, adminPassword] = [creds.password, creds.adminPassword].map((v) => (typeof v === "string" ? v : ""));
    const userDir = (RED.settings as { userDir?: string }).userDir || path.join(os.homedir(), ".node-red");
    const print = handover.fingerprint(def, password);
    const taken = handover.adopt(node.id, print);
    const certDir = path.join(userDir, "meross-broker", node.id.replace(/[^A-Za-z0-9_-]/g, "_"));
    const fleet = taken.fleet ?? fleetFor(def, password, certDir, taken.released);
    const restarted = taken.changed.length ? ` · restarted: ${describeChanges(taken.changed)}` : "";
    if (restarted) node.log(`the broker ${restarted.slice(3)}; devices reconnect to the new one`);
    const embedded = fleet.mode === "embedded";
    // Not enumerable: the fleet holds the password and live sockets, which must never be serialised with the node.
    Object.defineProperty(node, "fleet", { value: fleet, enumerable: false });
    Object.defineProperty(node, "events", { value: fleet.events, enumerable: false });
    Object.defineProperty(node, "addDeviceLogin", { value: adminLogins(def, adminPassword), enumerable: false });
    Object.assign(node, {
      mode: fleet.mode,
      connection: () => fleet.connection(),
      currentConnection: () => fleet.currentConnection(),
      devices: () => fleet.devices(),
      device: (uuid: string) => fleet.device(uuid),
      watchDevice: (uuid: string, fn: Parameters<FleetBase["watchDevice"]>[1]) => fleet.watchDevice(uuid, fn),
      isListening: (uuid: string) => fleet.isListening(uuid),
      endpoint: () => fleet.endpoint(),
      useKeys: (owner: string, keys: () => readonly string[], uuid?: () => string) => fleet.useKeys(owner, keys, uuid),
      secrets: () => fleet.secrets(),
      provenWith: (uuid: string, key: string) => fleet.provenWith(uuid, key),
      prove: (uuid: string, mac: string | undefined, key: string) => fleet.prove(uuid, mac, key),
    });

    const showCount = (): void => {
      if (fleet.isClosed) return;
      const n = fleet.deviceCount;
      const away = fleet.refusals().count;
      const refused = away > 0 ? `, ${away} ${embedded ? "refused" : "ignored"}` : "";
      if (fleet.online()) node.status({ fill: "green", shape: "dot", text: `${n} device${n === 1 ? "" : "s"}${refused}${restarted}` });
      else node.status({ fill: "yellow", shape: "ring", text: embedded ? "starting" : "connecting" });
    };
    const offs = [
      fleet.events.on("device", showCount),
      fleet.events.on("gone", showCount),
      fleet.events.on("running", showCount),
      fleet.events.on("stopped", () => {
        if (!embedded && !fleet.isClosed) node.status({ fill: "red", shape: "ring", text: "disconnected" });
      }),
      fleet.events.on("refused", (r) => {
        node.log(embedded ? `refused ${r.clientId || "a client"} from ${r.ip || "an unknown address"}: ${r.reason}` : r.reason);
        showCount();
      }),
    ];
    const failure = fleet instanceof ExistingFleet ? fleet.settingsError : undefined;
    if (failure) {
      node.status({ fill: "red", shape: "ring", text: "invalid settings" });
      node.error(toMerossError(failure, [password]).message);
    } else {
      showCount();
    }
    if (embedded) {
      fleet.connection().catch((err: unknown) => {
        if (fleet.isClosed) return;
        const e = toMerossError(err, [password]);
        node.status({ fill: "red", shape: "ring", text: e.code === "BAD_INPUT" ? "cannot start" : "stopped" });
        node.error(e.message);
      });
    }

    node.on("close", (removed: boolean, done: () => void) => {
      for (const off of offs.splice(0)) off();
      // A broker that is not up (could not start, settings unusable) starts afresh: the new node may succeed.
      if (!removed && fleet.online()) return void (handover.park(node.id, print, fleet), done());
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        clearTimeout(bound);
        done();
      };
      const bound = setTimeout(finish, CLOSE_BOUND_MS);
      fleet
        .close("the meross-broker node was stopped (redeploy or removal)")
        .catch(() => undefined)
        .finally(finish);
    });
  }

  RED.nodes.registerType("meross-broker", MerossBrokerConfig, {
    credentials: { password: { type: "password" }, adminPassword: { type: "password" } },
  });

  // Discovery for the meross-config dialog: the devices logged in to a deployed broker.
  RED.httpAdmin.get("/meross-broker/:id/devices", RED.auth.needsPermission("meross-broker.read"), (req: Request, res: Response) => {
    const b = RED.nodes.getNode(String(req.params.id));
    if (!isMerossBroker(b)) {
      res.status(404).json({
        error: {
          code: "NOT_FOUND",
          message: "No deployed meross-broker with this id. Deploy the flow first, then open this dialog again.",
        },
      });
      return;
    }
    res.json(
      b.devices().map((d) => ({
        uuid: d.uuid,
        model: d.model ?? "",
        ip: d.ip ?? "",
        mac: d.mac ?? "",
        listening: d.listening,
        since: d.since,
        proven: d.proven === true,
      })),
    );
  });
  // What the broker turned away (refused logins, ignored messages): the count and the latest reasons.
  RED.httpAdmin.get("/meross-broker/:id/refused", RED.auth.needsPermission("meross-broker.read"), (req: Request, res: Response) => {
    const b = RED.nodes.getNode(String(req.params.id)) as unknown;
    const fleet = isMerossBroker(b) ? (b.fleet as Partial<FleetBase>) : undefined;
    res.status(fleet?.refusals ? 200 : 404).json(fleet?.refusals ? fleet.refusals() : { count: 0, recent: [] });
  });
};
