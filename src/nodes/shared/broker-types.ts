/**
 * The contract between the meross-broker config node and the nodes that use it
 * (meross-config, meross-state, meross-onboard): the node is a Fleet. Kept apart from the
 * node's file because a file with `export =` cannot export types.
 */
import type { Node } from "node-red";
import type { Fleet, LoginAdder } from "../../core";

export type { BrokerEndpoint, BrokerPresence } from "../../core";

export type MerossBrokerNode = Node &
  Fleet & {
    /** Whoever watches arrivals needs the fleet itself (its events and presence), not the node. */
    readonly fleet: Fleet;
    /** Existing mode with the Mosquitto admin login: adds a device's login live. */
    readonly addDeviceLogin?: LoginAdder;
  };

export function isMerossBroker(node: unknown): node is MerossBrokerNode {
  return (
    !!node &&
    typeof node === "object" &&
    (node as Node).type === "meross-broker" &&
    typeof (node as MerossBrokerNode).useKeys === "function"
  );
}
