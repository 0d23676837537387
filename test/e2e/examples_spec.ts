import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Fleet } from "../../src/simulator/fleet";
import { ROOT, startNodeRed, type NodeRed } from "./harness";

/**
 * Every example is listed by Node-RED under Import → Examples, imports (deploys) without
 * errors once its device addresses point at simulators, and together the examples use
 * every node type of the package except the config node.
 */
const EXAMPLES = path.join(ROOT, "examples");

describe("examples", function () {
  this.timeout(90000);
  let fleet: Fleet;
  let red: NodeRed;

  before(async () => {
    fleet = await Fleet.start([
      { name: "bulb", model: "msl120", host: "127.0.0.1", port: 0, key: "" },
      { name: "fresh", model: "msl120", host: "127.0.0.1", port: 0, unconfigured: true },
    ]);
    red = await startNodeRed();
  });

  after(async () => {
    await red?.stop();
    await fleet?.stop();
  });

  const files = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith(".json"));

  it("use every non-config node type of the package", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { "node-red": { nodes: Record<string, string> } };
    const used = new Set(files.flatMap((f) => (JSON.parse(fs.readFileSync(path.join(EXAMPLES, f), "utf8")) as Array<{ type: string }>).map((n) => n.type)));
    const configTypes = new Set(["meross-config", "meross-broker"]);
    const missing = Object.keys(pkg["node-red"].nodes).filter((t) => !configTypes.has(t) && !used.has(t));
    assert.deepEqual(missing, [], `node types with no example: ${missing.join(", ")}`);
  });

  it("are offered by Node-RED under Import → Examples (each file is fetched through the library API below)", async () => {
    const res = await red.get("/library/examples/flows/");
    assert.equal(res.status, 200);
    assert.ok((res.json() as string[]).includes("node-red-contrib-meross-local"), `the package is not listed: ${res.body}`);
  });

  for (const file of files) {
    it(`${file} deploys and runs against simulated devices`, async () => {
      const name = path.basename(file, ".json");
      const res = await red.get(`/library/examples/flows/node-red-contrib-meross-local/${encodeURIComponent(name)}`);
      assert.equal(res.status, 200, res.body);
      const flow = res.json() as Array<Record<string, unknown>>;
      const [bulb, fresh] = fleet.devices;
      // Point the example's placeholder addresses at the simulators: tests talk only to 127.0.0.1.
      for (const n of flow) {
        if (n.type === "meross-config") n.host = bulb.address;
        if (n.type === "meross-onboard") n.address = fresh.address;
        // An embedded broker in an example listens on 8883 on every interface; tests use a free port on loopback.
        if (n.type === "meross-broker") Object.assign(n, { port: "0", bindHost: "127.0.0.1", certHost: "127.0.0.1" });
      }
      const mark = red.log().length;
      await red.deploy(flow);
      await new Promise((r) => setTimeout(r, 500));
      const newLog = red.log().slice(mark);
      assert.doesNotMatch(newLog, /\[error\]|Unknown type|type not found|Waiting for missing types/i, newLog);
    });
  }
});
