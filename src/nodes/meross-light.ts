/**
 * meross-light: on/off, brightness, colour and white temperature for Meross bulbs.
 * Commands go through one Coalescer per device channel (shared via the config node), so
 * a slider sending 100 msgs/s ends quickly in its last position without flooding the bulb.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow, NodeStatus } from "node-red";
import { Coalescer } from "../core/coalescer";
import { NS, type MerossDevice } from "../core/session/device";
import { MerossError, explain } from "../core/errors";
import { buildLightSet, intToHex, deviceToKelvin, lightStateToOutput, type LightState } from "../core/capabilities/light";
import { isBlank } from "./shared/inputs";
import { hasLevels, mergeLightRequests, parseLightInput, type LightRequest } from "./shared/light-input";
import { linkToConfig, noDeviceError } from "./shared/user-node";
import type { MerossConfigNode } from "./shared/types";

interface LightDef extends NodeDef {
  device?: string;
  transition?: string | number;
}

/** Bulbs have one light channel in every trace we have except fan lights (protocol.md §6.7). */
const LIGHT_CHANNEL = 0;

function lightStatus(l: LightState): NodeStatus {
  if (l.on === false) return { fill: "grey", shape: "dot", text: "off" };
  const tone = l.mode === "rgb" ? intToHex(l.rgb) : l.mode === "temperature" ? `${deviceToKelvin(l.temperature)}K` : "";
  const text = `${l.on === undefined ? "" : "on "}${l.luminance}%${tone ? ` ${tone}` : ""}`;
  return { fill: "green", shape: "dot", text };
}

/** Refuses, before queueing, what this bulb cannot do, so one bad message cannot spoil a merged burst. */
function checkCapability(device: MerossDevice, req: LightRequest): void {
  if (!device.has(NS.LIGHT)) {
    const model = device.info?.model ?? "device";
    throw new MerossError(
      "UNSUPPORTED",
      explain.unsupported(device.address, "SET", NS.LIGHT, `this ${model} is not a light; use meross-toggle for plugs`),
      { host: device.address, namespace: NS.LIGHT },
    );
  }
  if (hasLevels(req)) {
    buildLightSet({ channel: LIGHT_CHANNEL, rgb: req.rgb, temperature: req.temperature, luminance: req.luminance }, device.lightCapacity);
  }
}

async function applyLight(device: MerossDevice, req: LightRequest, signal?: AbortSignal): Promise<LightState> {
  let on = req.on;
  if (on === "toggle") {
    const known = device.toggles.get(LIGHT_CHANNEL) ?? device.light?.on;
    on = !(known ?? (await device.getLight({ signal })).on ?? false);
  }
  if (!hasLevels(req) && on === undefined) return device.getLight({ signal });
  const cmd = { channel: LIGHT_CHANNEL, rgb: req.rgb, temperature: req.temperature, luminance: req.luminance, on };
  return device.setLight(cmd, { signal });
}

function schedulerFor(config: MerossConfigNode): Coalescer<LightRequest, LightState> {
  return config.shared(`light:${LIGHT_CHANNEL}`, () =>
    new Coalescer<LightRequest, LightState>({
      execute: async (req, signal) => applyLight(await config.getDevice(), req, signal),
      merge: mergeLightRequests,
    }),
  );
}

export = function (RED: NodeAPI): void {
  function MerossLight(this: Node, def: LightDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const link = linkToConfig(RED, node, def.device, (ev) => {
      if (ev.type === "light" && (ev.light.channel ?? 0) === LIGHT_CHANNEL) link.show(lightStatus(ev.light));
    });

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      const run = async (): Promise<void> => {
        const req = parseLightInput(msg.payload);
        const config = link.config;
        if (!config) throw noDeviceError("meross-light");
        // Once the session knows its abilities, skip the await so messages keep their order cheaply.
        const device = config.device?.abilities ? config.device : await config.getDevice();
        checkCapability(device, req);
        const outcome = await schedulerFor(config).submit(req, { signal: link.signal });
        if (outcome.status !== "done") {
          // Superseded by a newer message whose output will carry the final state (or the node closed).
          done();
          return;
        }
        link.show(lightStatus(outcome.result));
        const m = msg as NodeMessageInFlow & { meross?: unknown };
        m.payload = lightStateToOutput(outcome.result);
        // A topic the flow set is kept; otherwise the device's name says where the state came from.
        if (isBlank(m.topic)) m.topic = link.name();
        m.meross = { uuid: device.info?.uuid ?? "", model: device.info?.model ?? "", address: device.address };
        send(m);
        done();
      };
      run().catch((err: unknown) => link.fail(err, done));
    });
  }

  RED.nodes.registerType("meross-light", MerossLight);
};
