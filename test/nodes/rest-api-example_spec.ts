import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { NodeAPI } from "node-red";
import configModule = require("../../src/nodes/meross-config");
import lightModule = require("../../src/nodes/meross-light");
import toggleModule = require("../../src/nodes/meross-toggle");
import requestModule = require("../../src/nodes/meross-request");
import type { SimulatedDevice } from "../../src/simulator";
import { helper, KEY, startDevice, useRuntime, type FlowNode } from "./helpers";

/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED's own nodes, as the runtime loads them */
const httpInModuleRaw = require("@node-red/nodes/core/network/21-httpin.js") as (RED: NodeAPI) => void;
const functionModuleRaw = require("@node-red/nodes/core/function/10-function.js") as (RED: NodeAPI) => void;
const catchModuleRaw = require("@node-red/nodes/core/common/25-catch.js") as (RED: NodeAPI) => void;
const commentModuleRaw = require("@node-red/nodes/core/common/90-comment.js") as (RED: NodeAPI) => void;
/* eslint-enable @typescript-eslint/no-require-imports */
/** Node-RED 5's test runtime registers its core nodes itself: loading them again is not an error. */
const once =
  (mod: (RED: NodeAPI) => void) =>
  (RED: NodeAPI): void => {
    try {
      mod(RED);
    } catch (err) {
      if (!/already registered/.test(String((err as Error).message))) throw err;
    }
  };
const httpInModule = once(httpInModuleRaw);
const functionModule = once(functionModuleRaw);
const catchModule = once(catchModuleRaw);
const commentModule = once(commentModuleRaw);

const EXAMPLE = path.resolve(__dirname, "..", "..", "examples", "rest-api.json");

/**
 * The example "A REST API for my devices" as a user runs it: its endpoints on Node-RED's http
 * port, answering over HTTP for a simulated plug and bulb named like the example's devices.
 */
describe("example: A REST API for my devices", function () {
  this.timeout(20000);
  const sims: SimulatedDevice[] = [];
  let server: http.Server | undefined;
  useRuntime(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
    for (const s of sims.splice(0)) await s.stop();
  });

  /** The example with its two devices pointed at simulators; resolves with the base URL of its endpoints. */
  async function start(): Promise<{ base: string; plug: SimulatedDevice; bulb: SimulatedDevice }> {
    const plug = await startDevice({ model: "mss310" });
    const bulb = await startDevice({ model: "msl120" });
    sims.push(plug, bulb);
    const flow = JSON.parse(fs.readFileSync(EXAMPLE, "utf8")) as FlowNode[];
    for (const n of flow) {
      if (n.id === "ex-rest-plug-cfg") n.host = plug.address;
      if (n.id === "ex-rest-bulb-cfg") n.host = bulb.address;
    }
    // Node-RED serves http-in routes on its node app: catch it as the runtime hands it to nodes.
    let nodeApp: http.RequestListener | undefined;
    const capture = (RED: NodeAPI): void => {
      nodeApp = RED.httpNode as unknown as http.RequestListener;
    };
    const creds = { "ex-rest-plug-cfg": { key: KEY }, "ex-rest-bulb-cfg": { key: KEY } };
    await helper.load(
      [capture, configModule, lightModule, toggleModule, requestModule, httpInModule, functionModule, catchModule, commentModule],
      flow,
      creds,
    );
    assert.ok(nodeApp, "no http node app");
    const srv = http.createServer(nodeApp);
    server = srv;
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const port = (srv.address() as { port: number }).port;
    return { base: `http://127.0.0.1:${port}`, plug, bulb };
  }

  async function call(url: string, method = "GET", body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it("lists the devices, switches and reads the plug, dims the bulb, and answers a bad request with a sentence", async () => {
    const { base, plug, bulb } = await start();
    const plugUrl = `${base}/meross/${encodeURIComponent("Example REST plug")}`;
    const bulbUrl = `${base}/meross/${encodeURIComponent("Example REST bulb")}`;

    const list = await call(`${base}/meross/devices`);
    assert.equal(list.status, 200);
    assert.deepEqual(
      (list.json as unknown as Array<{ name: string }>).map((d) => d.name),
      ["Example REST plug", "Example REST bulb"],
    );

    const on = await call(`${plugUrl}/on`, "POST");
    assert.equal(on.status, 200, JSON.stringify(on.json));
    assert.equal(on.json.on, true);
    assert.equal(plug.state.channels[0]?.on, true);

    const toggled = await call(`${plugUrl}/toggle`, "POST");
    assert.equal(toggled.json.on, false);
    assert.equal(plug.state.channels[0]?.on, false);

    const read = await call(plugUrl);
    assert.equal(read.status, 200);
    assert.equal(read.json.uuid, plug.uuid);
    assert.deepEqual(read.json.on, [false]);

    const dim = await call(`${bulbUrl}/level`, "POST", { level: 40 });
    assert.equal(dim.status, 200, JSON.stringify(dim.json));
    assert.equal(dim.json.brightness, 40);
    assert.equal(bulb.state.light?.luminance, 40);

    const badLevel = await call(`${bulbUrl}/level`, "POST", { level: 400 });
    assert.equal(badLevel.status, 400);
    assert.match(String(badLevel.json.error), /number from 0 to 100/);

    const unknown = await call(`${base}/meross/${encodeURIComponent("Garden pump")}/on`, "POST");
    assert.equal(unknown.status, 400);
    assert.match(String(unknown.json.error), /Garden pump/);
    assert.ok(!JSON.stringify(unknown.json).includes(KEY), "no key in an answer");
  });
});
