/**
 * meross-light: on/off, brightness, colour and white temperature for Meross bulbs.
 * The node keeps properties, status and msg; the light's controller in the core (one per device,
 * src/core/light/controller.ts) decides and sends, so a slider burst ends in its last position.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow, NodeStatus } from "node-red";
import { parseTransition, intToHex, deviceToKelvin, lightChannel, lightStateToOutput, type LightState } from "../core";
import { isBlank } from "./shared/inputs";
import { parseLightInput } from "./shared/light-input";
import { lightFor } from "./shared/light-run";
import type { DeviceSourceDef } from "./shared/device-source";
import { linkToConfig, reportsChanges } from "./shared/user-node";

interface LightDef extends NodeDef, DeviceSourceDef {
  /** Default fade in seconds for messages that give no transition; "" or 0 = instant. */
  transition?: string | number;
  reportChanges?: boolean;
}

/** The node's default transition in ms; a value the editor would refuse counts as instant. */
function defaultTransition(v: unknown): number {
  if (v === undefined || v === "") return 0;
  try {
    return parseTransition(v);
  } catch {
    return 0;
  }
}

function lightStatus(l: LightState): NodeStatus {
  if (l.on === false) return { fill: "grey", shape: "dot", text: "off" };
  const tone = l.mode === "rgb" ? intToHex(l.rgb) : l.mode === "temperature" ? `${deviceToKelvin(l.temperature)}K` : "";
  const text = `${l.on === undefined ? "" : "on "}${l.luminance}%${tone ? ` ${tone}` : ""}`;
  return { fill: "green", shape: "dot", text };
}

export = function (RED: NodeAPI): void {
  function MerossLight(this: Node, def: LightDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const transitionMs = defaultTransition(def.transition);
    const sendChanges = reportsChanges(def);
    /** The last payload the flow got, so a push repeating a command's answer is not sent again. */
    let lastSent = "";
    /** With "also send changes": what the bulb reports by itself (never our own answers, fade steps included). */
    const report = (light: LightState): void => {
      const device = link.config?.device;
      const payload = lightStateToOutput(light, device?.lightCapacity);
      const text = JSON.stringify(payload);
      if (text === lastSent) return;
      lastSent = text;
      const meross = {
        uuid: device?.info?.uuid ?? "",
        name: link.name(),
        model: device?.info?.model ?? "",
        address: device?.address ?? "",
      };
      node.send({ topic: link.name(), payload, meross });
    };
    const link = linkToConfig(RED, node, def, (ev) => {
      const device = link.config?.device;
      const channel = device ? lightChannel(device) : 0;
      if (ev.type === "light" && (ev.light.channel ?? 0) === channel) {
        link.show(lightStatus(ev.light));
        if (sendChanges && ev.source === "push") report(ev.light);
      } else if (ev.type === "toggle" && ev.channel === channel && sendChanges && ev.source === "push" && device?.light) {
        report({ ...device.light, on: ev.on });
      }
    });

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      link.handle(msg, done, async (t) => {
        const req = parseLightInput(msg.payload);
        const result = await lightFor(t.config).run(req, { signal: link.signal, defaultMs: transitionMs });
        // Closed meanwhile: nothing more to say. Superseded: the newer message's output carries the final state.
        if (link.signal.aborted) return;
        if (result.status !== "done") return done();
        if (result.light) t.show(lightStatus(result.light));
        const m = msg as NodeMessageInFlow & { meross?: unknown };
        m.payload = result.payload;
        lastSent = JSON.stringify(result.payload);
        // A topic the flow set is kept; otherwise the device's name says where the state came from.
        if (isBlank(m.topic)) m.topic = t.name();
        m.meross = t.identity(await t.device());
        send(m);
        done();
      });
    });
  }

  RED.nodes.registerType("meross-light", MerossLight);
};
