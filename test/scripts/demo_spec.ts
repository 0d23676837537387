import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { DEMO_FLEET, startDemo } from "../../src/simulator/demo";
import type { Fleet } from "../../src/simulator/fleet";
import { demoFlow, ROW, setupFromFleet } from "../../scripts/demo-flow";
import { banner, LinePrefixer } from "../../scripts/demo-output";

/** What `npm start` prints and deploys, checked without starting Node-RED. */
describe("npm start demo", function () {
  this.timeout(30000);
  let fleet: Fleet;

  before(async () => {
    fleet = await startDemo({ key: "demo-key-1234" });
  });
  after(async () => {
    await fleet?.stop();
  });

  it("prefixes each Node-RED log line exactly once, however the output is split into chunks", () => {
    let out = "";
    const p = new LinePrefixer("  [node-red] ", (t) => (out += t));
    // Node-RED writes several lines per chunk and may split a line between chunks.
    p.push("29 Nov 15:00:00 - [info] Welcome\n29 Nov 15:00:00 - [info] Node-RED version: v4.1.15\n");
    p.push("29 Nov 15:00:01 - [info] Server now run");
    p.push("ning at http://127.0.0.1:1880/\n");
    p.push("29 Nov 15:00:01 - [info] Started flows");
    p.flush();
    const lines = out.split("\n").filter((l) => l !== "");
    assert.deepEqual(lines, [
      "  [node-red] 29 Nov 15:00:00 - [info] Welcome",
      "  [node-red] 29 Nov 15:00:00 - [info] Node-RED version: v4.1.15",
      "  [node-red] 29 Nov 15:00:01 - [info] Server now running at http://127.0.0.1:1880/",
      "  [node-red] 29 Nov 15:00:01 - [info] Started flows",
    ]);
    assert.doesNotMatch(out, /\[node-red\]\s+\[node-red\]/);
  });

  it("prints the demo key and every device's name, model and address", () => {
    const devices = fleet.devices.map((d) => ({
      name: d.name ?? d.model.name,
      model: d.model.name,
      mode: d.mode,
      address: d.address,
      uuid: d.uuid,
    }));
    const text = banner({
      editorUrl: "http://127.0.0.1:1880/",
      statusUrl: fleet.statusUrl,
      brokerUrl: "mqtts://127.0.0.1:18883",
      key: "demo-key-1234",
      devices,
    }).join("\n");
    assert.match(text, /Demo device key:\s+demo-key-1234/);
    for (const d of devices) {
      const line = text.split("\n").find((l) => l.includes(d.name));
      assert.ok(line, `${d.name} is not listed`);
      assert.ok(line.includes(d.address) && line.includes(d.model) && line.includes(d.uuid), `incomplete line: ${line}`);
    }
  });

  it("lays out the demo tab in rows far enough apart that a node's status is not hidden by the next row", () => {
    const setup = setupFromFleet(fleet, { key: "demo-key-1234", wifiPassword: "pw-12345678", brokerPort: 18883 });
    const nodes = demoFlow(setup).flows.filter((n) => typeof n.x === "number" && typeof n.y === "number" && n.type !== "tab");
    assert.ok(ROW >= 60, "a row must leave room for a 30 px node and its status line");
    for (const a of nodes) {
      for (const b of nodes) {
        if (a === b || Math.abs(Number(a.x) - Number(b.x)) > 200) continue;
        const dy = Math.abs(Number(a.y) - Number(b.y));
        // Same row (side by side) or at least one status line apart.
        assert.ok(dy === 0 || dy >= 60, `"${String(a.name)}" and "${String(b.name)}" are only ${dy} px apart`);
      }
    }
  });

  it("does not share device names with the examples (the device picker would list both)", () => {
    const dir = path.resolve(__dirname, "..", "..", "examples");
    const exampleNames = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .flatMap((f) =>
        (JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Array<{ type: string; name?: string }>)
          .filter((n) => n.type === "meross-config")
          .map((n) => n.name),
      );
    const clash = DEMO_FLEET.map((d) => d.name).filter((n) => exampleNames.includes(n));
    assert.deepEqual(clash, []);
  });
});
