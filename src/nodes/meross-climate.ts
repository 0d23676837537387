/**
 * meross-climate: a thermostat (mts200, mts960, mts300) or one radiator valve of a hub (its
 * sub-device id). msg.payload `{on, mode, target}`, a number (target °C) or "" (read); it answers
 * with `{on, mode, target, current, heating, windowOpen}` (the mts300 adds cooling, humidity), one
 * message per input. What the device
 * pushes by itself (room temperature, heating, an open window) sets the status, and goes out
 * only when "also send changes" is ticked. On a diffuser, `{spray}` sets the spray mode, `{light}`
 * the light (either alone or both) and the answer is `{spray, light}`.
 */
import type { NodeAPI, Node, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from "node-red";
import {
  climateOutput,
  parseClimateInput,
  setThermostat,
  type ClimateState,
  setValve,
  valveOutput,
  diffuserOutput,
  hasDiffuser,
  setDiffuser,
  type DiffuserState,
  MerossError,
  describeValue,
  isObject,
} from "../core";
import { isBlank } from "./shared/inputs";
import type { DeviceSourceDef } from "./shared/device-source";
import { linkToConfig, reportsChanges } from "./shared/user-node";

interface ClimateDef extends NodeDef, DeviceSourceDef {
  subId?: string;
  reportChanges?: boolean;
}

type ClimateMsg = NodeMessageInFlow & { subId?: unknown; meross?: unknown };

/** Hub sub-device ids are 8 or 12 hex characters (docs/protocol-devices.md §10.2). */
function resolveSubId(configured: string | undefined, fromMsg: unknown): string | undefined {
  const v = !isBlank(configured) ? configured : fromMsg;
  if (isBlank(v)) return undefined;
  if (typeof v !== "string" || !/^[0-9a-f]{8}([0-9a-f]{4})?$/i.test(v.trim())) {
    throw new MerossError(
      "BAD_INPUT",
      `The sub-device id ${describeValue(v)} is not a hub sub-device id: use the 8 or 12 hex characters the hub lists (e.g. 01008C11).`,
    );
  }
  return v.trim().toUpperCase();
}

function climateStatus(c: ClimateState): NodeStatus {
  if (!c.on) return { fill: "grey", shape: "ring", text: `off · ${c.current} °C` };
  const what = c.windowOpen ? "window open" : c.heating ? "heating" : "idle";
  // Heating is not an error: a warm yellow, never the red of a failure.
  return { fill: c.heating ? "yellow" : "green", shape: "dot", text: `${c.current} → ${c.target} °C · ${what}` };
}

function diffuserStatus(d: DiffuserState): NodeStatus {
  return { fill: d.spray === "off" ? "grey" : "blue", shape: "dot", text: `spray ${d.spray}${d.light.on ? " · light on" : ""}` };
}

export = function (RED: NodeAPI): void {
  function MerossClimate(this: Node, def: ClimateDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let configuredSub: string | undefined;
    try {
      configuredSub = resolveSubId(def.subId, undefined);
    } catch (err) {
      node.error(err instanceof Error ? err.message : String(err));
    }

    const sendChanges = reportsChanges(def);
    /** The last payload the flow got, so a push repeating a command's answer is not sent twice. */
    let lastSent = "";
    const emit = (payload: ClimateState | DiffuserState, status: NodeStatus): void => {
      link.show(status);
      const text = JSON.stringify(payload);
      if (!sendChanges || text === lastSent) return;
      lastSent = text;
      const d = link.config?.device;
      const msg: NodeMessage & { meross?: unknown } = { topic: link.name(), payload };
      if (link.fromMessage && d) msg.meross = { uuid: link.config?.uuid() ?? "", name: link.name(), model: d.info?.model ?? "" };
      node.send(msg);
    };
    // Pushes only: our own commands answer through the input message.
    const link = linkToConfig(RED, node, def, (ev) => {
      if (ev.type === "info" || ev.source !== "push") return;
      if (ev.type === "thermostat" && !configuredSub && ev.thermostat.channel === 0)
        emit(climateOutput(ev.thermostat), climateStatus(ev.thermostat));
      if (ev.type === "subdevice" && configuredSub && ev.sub.id === configuredSub && ev.sub.valve) {
        const out = valveOutput(ev.sub.valve);
        emit(out, climateStatus(out));
      }
      if (ev.type === "diffuser" && !configuredSub) emit(diffuserOutput(ev.diffuser), diffuserStatus(ev.diffuser));
    });

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      link.handle(msg, done, async (t) => {
        const m = msg as ClimateMsg;
        const subId = resolveSubId(def.subId, m.subId);
        const device = await t.device();
        const session = await t.session();
        let payload: ClimateState | DiffuserState;
        if (
          !subId &&
          hasDiffuser(device) &&
          (isBlank(m.payload) || (isObject(m.payload) && ("spray" in m.payload || "light" in m.payload)) || typeof m.payload === "string")
        ) {
          const d = await setDiffuser(session, m.payload);
          payload = diffuserOutput(d);
          t.show(diffuserStatus(d));
        } else {
          const cmd = parseClimateInput(m.payload);
          payload = subId ? await setValve(session, subId, cmd) : climateOutput(await setThermostat(session, cmd));
          t.show(climateStatus(payload));
        }
        m.payload = payload;
        lastSent = JSON.stringify(payload);
        // A topic the flow set is kept; otherwise the device's name says where the state came from.
        if (isBlank(m.topic)) m.topic = t.name();
        m.meross = { ...t.identity(device), ...(subId ? { subId } : {}) };
        send(m);
        done();
      });
    });
  }

  RED.nodes.registerType("meross-climate", MerossClimate);
};
