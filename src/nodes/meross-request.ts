/**
 * meross-request: any namespace, any method, for everything the dedicated nodes do not
 * cover. It shares the config's session and queue, so raw requests never overlap the
 * toggle/light nodes' traffic on a device that serves one request at a time.
 */
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from "node-red";
import { failMessage } from "./shared/errors";
import { resolveRequest } from "./shared/request-input";
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
        link.show({ fill: "blue", shape: "dot", text: `${req.method} ${req.namespace.replace(/^Appliance\./, "")}` });
        const reply = await device.request(req.method, req.namespace, req.payload);
        link.show({ fill: "green", shape: "dot", text: `${String(reply.header.method)} ${req.namespace.replace(/^Appliance\./, "")}` });
        m.payload = reply.payload;
        m.meross = { header: reply.header, payload: reply.payload };
        send(m);
        done();
      };
      run().catch((err: unknown) => failMessage(node, err, done, link.secrets()));
    });
  }

  RED.nodes.registerType("meross-request", MerossRequest);
};
