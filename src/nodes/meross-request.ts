/**
 * meross-request: any namespace, any method, for everything the dedicated nodes do not
 * cover. It shares the config's session and queue, so raw requests never overlap the
 * toggle/light nodes' traffic on a device that serves one request at a time.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from "node-red";
import { isBlank } from "./shared/inputs";
import { requestStatusText, resolveRequest } from "./shared/request-input";
import { linkToConfig } from "./shared/user-node";

interface RequestDef extends NodeDef {
  device?: string;
  method?: string;
  namespace?: string;
}

export = function (RED: NodeAPI): void {
  function MerossRequest(this: Node, def: RequestDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const link = linkToConfig(RED, node, def.device);

    node.on("input", (msg: NodeMessageInFlow, send, done) => {
      const run = async (): Promise<void> => {
        const m = msg as NodeMessageInFlow & { method?: unknown; namespace?: unknown; meross?: unknown };
        const req = resolveRequest({ method: def.method, namespace: def.namespace }, m);
        const device = await link.device();
        link.show({ fill: "blue", shape: "dot", text: requestStatusText(req.method, req.namespace, false) });
        const reply = await device.request(req.method, req.namespace, req.payload, { signal: link.signal });
        // With a broker the request may have gone over MQTT or HTTP: the status says which ("auto" switches).
        const cfg = link.config;
        const path = cfg && cfg.link.routeText() ? ` · ${cfg.path()}` : "";
        link.show({ fill: "green", shape: "dot", text: `${requestStatusText(req.method, req.namespace, true)}${path}` });
        m.payload = reply.payload;
        if (isBlank(m.topic)) m.topic = link.name();
        m.meross = { header: reply.header, payload: reply.payload };
        send(m);
        done();
      };
      run().catch((err: unknown) => link.fail(err, done));
    });
  }

  RED.nodes.registerType("meross-request", MerossRequest);
};
