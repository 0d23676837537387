/**
 * Where a node's device comes from: "fixed" (the meross-config picked in its dialog; also when
 * the property is missing, so flows made before this option keep working) or a typed property
 * read from each message (msg, flow or global; by default msg.device, else msg.topic) naming a
 * meross-config by its node name, the device's name or its uuid.
 */
import type { NodeAPI, Node, NodeMessage } from "node-red";
import { MerossError, describeValue } from "../../core";
import { deviceDirectory } from "./device-directory";
import { kindOf } from "./device-fit";
import type { MerossConfigNode } from "./types";

/** The node properties that choose the device. */
export interface DeviceSourceDef {
  device?: unknown;
  /** "fixed" (default), or the typed input's type: "msg", "flow" or "global". */
  deviceSource?: unknown;
  /** The property path for msg/flow/global (default "device"). */
  deviceProperty?: unknown;
}

export interface DeviceSource {
  /** False for "fixed". */
  fromMessage: boolean;
  /** What the help and the sentences call it: "msg.device (or msg.topic)", "flow.lamp". */
  where: string;
  /** The config this message names; BAD_INPUT (with the devices there are) when none fits. */
  resolve(msg: NodeMessage): MerossConfigNode;
}

const TYPES = new Set(["msg", "flow", "global"]);

const blank = (v: unknown): boolean => v === undefined || v === null || (typeof v === "string" && v.trim() === "");

export function deviceSource(RED: NodeAPI, node: Node, def: DeviceSourceDef): DeviceSource {
  const type = typeof def.deviceSource === "string" && TYPES.has(def.deviceSource) ? def.deviceSource : "fixed";
  const prop = typeof def.deviceProperty === "string" && def.deviceProperty.trim() ? def.deviceProperty.trim() : "device";
  // Only the default msg.device falls back to msg.topic: a flow naming another property means that one.
  const topicToo = type === "msg" && prop === "device";
  const where = topicToo ? "msg.device (or msg.topic)" : `${type}.${prop}`;
  const kind = kindOf(node.type);

  const read = (msg: NodeMessage): unknown => {
    let v: unknown;
    try {
      v = RED.util.evaluateNodeProperty(prop, type, node, msg);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new MerossError("BAD_INPUT", `${where} could not be read (${why}). Check the property named in the node's Device field.`);
    }
    return blank(v) && topicToo ? msg.topic : v;
  };

  return {
    fromMessage: type !== "fixed",
    where,
    resolve(msg) {
      const directory = deviceDirectory(RED);
      const v = read(msg);
      if (blank(v)) {
        throw new MerossError(
          "BAD_INPUT",
          `This ${node.type} node takes its device from ${where}, and this message names none. ` +
            `Set it to a device's name or uuid; ${directory.offered(kind)}.`,
        );
      }
      if (typeof v !== "string") {
        throw new MerossError(
          "BAD_INPUT",
          `${where} must be a device's name or uuid (text), not ${describeValue(v)}; ${directory.offered(kind)}.`,
        );
      }
      return directory.find(v, kind);
    },
  };
}
