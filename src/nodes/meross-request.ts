/**
 * meross-request: any namespace, any method, for everything the dedicated nodes do not
 * cover. It shares the config's session and queue, so raw requests never overlap the
 * toggle/light nodes' traffic on a device that serves one request at a time. A few words in
 * msg.payload ("dnd on", "dnd off", "info", "sync time") run the device-care commands of the core
 * instead of a raw request: no JSON payload is a bare word, so the two never collide.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from "node-red";
import { parseCareCommand, readDeviceReport, setDnd, syncTime, type CareCommand, type MerossDevice, MerossError } from "../core";
import { isBlank } from "./shared/inputs";
import { requestStatusText, resolveRequest } from "./shared/request-input";
import type { DeviceSourceDef } from "./shared/device-source";
import { linkToConfig } from "./shared/user-node";

interface RequestDef extends NodeDef, DeviceSourceDef {
  method?: string;
  namespace?: string;
}

/** Runs a care word; the reply's payload is what it did or read. */
async function care(device: MerossDevice, cmd: CareCommand, timeZone: unknown): Promise<{ status: string; payload: unknown }> {
  if (cmd.kind === "dnd") {
    const dnd = await setDnd(device, cmd.on);
    return { status: dnd ? "do not disturb (LED off)" : "LED on", payload: { dnd } };
  }
  if (cmd.kind === "info") {
    const report = await readDeviceReport(device);
    return { status: `${report.model} ${report.firmwareVersion}`.trim(), payload: report };
  }
  if (timeZone !== undefined && typeof timeZone !== "string") {
    const example = '"Europe/Berlin"';
    const text = `msg.timezone must be an IANA time zone name such as ${example}, or absent for this computer's zone.`;
    throw new MerossError("BAD_INPUT", text);
  }
  const set = await syncTime(device, isBlank(timeZone) ? undefined : (timeZone as string).trim());
  return { status: `time set (${set.timezone})`, payload: set };
}

export = function (RED: NodeAPI): void {
  function MerossRequest(this: Node, def: RequestDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const link = linkToConfig(RED, node, def);

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      link.handle(msg, done, async (t) => {
        const m = msg as NodeMessageInFlow & { method?: unknown; namespace?: unknown; meross?: unknown; timezone?: unknown };
        const cmd = parseCareCommand(m.payload);
        if (cmd) {
          const device = await t.device();
          const result = await care(device, cmd, m.timezone);
          t.show({ fill: "green", shape: "dot", text: result.status });
          m.payload = result.payload;
          if (isBlank(m.topic)) m.topic = t.name();
          if (link.fromMessage) m.meross = t.identity(device);
          send(m);
          done();
          return;
        }
        const req = resolveRequest({ method: def.method, namespace: def.namespace }, m);
        const device = await t.device();
        t.show({ fill: "blue", shape: "dot", text: requestStatusText(req.method, req.namespace, false) });
        const reply = await device.request(req.method, req.namespace, req.payload, { signal: link.signal });
        // With a broker the request may have gone over MQTT or HTTP: the status says which ("auto" switches).
        const cfg = t.config;
        const path = cfg.link.routeText() ? ` · ${cfg.path()}` : "";
        t.show({ fill: "green", shape: "dot", text: `${requestStatusText(req.method, req.namespace, true)}${path}` });
        m.payload = reply.payload;
        if (isBlank(m.topic)) m.topic = t.name();
        const who = t.identity(device);
        m.meross = { header: reply.header, payload: reply.payload, uuid: who.uuid, name: who.name };
        send(m);
        done();
      });
    });
  }

  RED.nodes.registerType("meross-request", MerossRequest);
};
