import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { CHROMIUM, CHROMIUM_HINT, startDemoEditor, type DemoEditor } from "./browser";
import type { Fleet } from "../../src/simulator/fleet";
import { configId, type DemoSetup } from "../../scripts/demo-flow";
import { requireProgram, type NodeRed } from "./harness";

const KEY = "demo-key";
const TAB = "meross-demo-tab";

/**
 * One meross-light for several bulbs, set up in the editor as a user would: its Device field
 * switched to "from the message", deployed, and two inject buttons naming two demo bulbs. Its
 * device list offers only devices that can light (no shutter).
 */
describe("editor: one node for many devices", function () {
  this.timeout(180000);
  let fleet: Fleet;
  let setup: DemoSetup;
  let red: NodeRed;
  let env: DemoEditor | undefined;
  let page: Page;
  let pageErrors: string[] = [];

  before(async function () {
    if (!requireProgram(this, CHROMIUM, "Chromium", CHROMIUM_HINT)) return;
    env = await startDemoEditor({
      key: KEY,
      wifiPassword: "pw-12345678",
      ready: "#red-ui-workspace-chart g.red-ui-flow-node",
    });
    ({ fleet, red, page, pageErrors } = env);
    setup = env.setup;
  });

  after(async () => {
    await env?.stop();
  });

  const open = async (id: string): Promise<void> => {
    await page.locator(`#red-ui-workspace-chart g#${id}`).dblclick();
    await page.waitForSelector(".red-ui-tray #node-input-name");
  };

  /** Waits until the runtime knows what each demo device can do (its session read the ability list). */
  async function abilitiesKnown(ids: string[]): Promise<void> {
    const t0 = Date.now();
    for (;;) {
      const kinds = ((await red.get("/meross-config/kinds")).json() as { kinds: Record<string, unknown> }).kinds;
      if (ids.every((id) => Array.isArray(kinds[id]))) return;
      if (Date.now() - t0 > 30000) throw new Error(`abilities never known: ${JSON.stringify(kinds)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it("the light dialog's device list offers the bulbs, not the shutter, garage or plugs", async () => {
    await abilitiesKnown([configId("shutter"), configId("bulb"), configId("plug")]);
    await open("demo-light-rgb");
    await page.waitForSelector("#node-input-device[data-meross-filtered]", { state: "attached" });
    const offered = await page.locator("#node-input-device option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.ok(offered.includes(configId("bulb")) && offered.includes(configId("whiteBulb")), offered.join(", "));
    for (const role of ["shutter", "garage", "plug"])
      assert.ok(!offered.includes(configId(role)), `${role} offered: ${offered.join(", ")}`);
    // A fixed device is the default: the property field stays hidden.
    assert.equal(await page.locator("#meross-device-source").inputValue(), "fixed");
    assert.equal(await page.locator(".meross-device-message-row").isVisible(), false);
    await page.locator("#node-dialog-cancel").click();
    await page.waitForSelector(".red-ui-tray #node-input-name", { state: "detached" });
  });

  it('set to "from the message" in its dialog, one meross-light drives two demo bulbs named by two injects', async () => {
    // Two inject buttons, each naming a bulb in msg.topic, wired to the demo's colour bulb node.
    // No named functions inside evaluate(): the test's transpiler would wrap them in a helper the page lacks.
    await page.evaluate(
      (rows) => {
        const RED = (window as unknown as { RED: Record<string, Record<string, (...a: unknown[]) => unknown>> }).RED;
        RED.nodes.import(
          rows.map((r) => ({
            id: r.id,
            type: "inject",
            z: r.tab,
            name: r.topic,
            props: [{ p: "payload" }, { p: "topic", vt: "str" }],
            topic: r.topic,
            payload: r.payload,
            payloadType: "str",
            repeat: "",
            crontab: "",
            once: false,
            x: 170,
            y: r.y,
            wires: [[]],
          })),
        );
        // A wire to a node outside the import is dropped by import(): link them as a drag would.
        const N = RED.nodes as unknown as { node(id: string): unknown; addLink(l: unknown): void };
        for (const r of rows) N.addLink({ source: N.node(r.id), sourcePort: 0, target: N.node("demo-light-rgb") });
        RED.nodes.dirty(true);
        RED.view.redraw(true);
      },
      [
        { id: "inj-desk", tab: TAB, topic: setup.bulb.name, payload: "#00ff00", y: 1400 },
        { id: "inj-porch", tab: TAB, topic: setup.whiteBulb.name, payload: "20", y: 1470 },
      ],
    );
    await open("demo-light-rgb");
    await page.locator("#meross-device-source").selectOption("message");
    assert.equal(await page.locator(".meross-device-message-row").isVisible(), true);
    assert.equal(await page.locator("#node-input-deviceProperty").inputValue(), "device", "msg.device is the default");
    await page.locator("#node-dialog-ok").click();
    await page.waitForSelector(".red-ui-tray #node-input-name", { state: "detached" });
    const stored = await page.evaluate(() => {
      const RED = (window as unknown as { RED: { nodes: { node(id: string): Record<string, unknown> } } }).RED;
      const n = RED.nodes.node("demo-light-rgb");
      return { source: n.deviceSource, property: n.deviceProperty, valid: n.valid };
    });
    assert.deepEqual(stored, { source: "msg", property: "device", valid: true });

    await page.locator("#red-ui-header-button-deploy").click();
    await page
      .locator(".red-ui-notification", { hasText: /deployed/i })
      .first()
      .waitFor({ timeout: 20000 });
    await red.waitForLog(/Started flows[\s\S]*Started flows/);

    const rgb = fleet.devices.find((d) => d.uuid === setup.bulb.uuid)!;
    const white = fleet.devices.find((d) => d.uuid === setup.whiteBulb.uuid)!;
    await page.locator("#red-ui-workspace-chart g#inj-desk .red-ui-flow-node-button").click();
    await waitUntil(() => rgb.state.channels[0].on === true && rgb.state.light?.rgb === 0x00ff00, "the colour bulb to turn green").catch(
      (e) => {
        throw new Error(`${(e as Error).message} ${JSON.stringify(rgb.state.light)}\n${red.log().slice(-3000)}`);
      },
    );
    await page
      .locator("#red-ui-workspace-chart g#demo-light-rgb .red-ui-flow-node-status-label", { hasText: setup.bulb.name })
      .waitFor({ timeout: 15000 });
    await page.locator("#red-ui-workspace-chart g#inj-porch .red-ui-flow-node-button").click();
    await waitUntil(() => white.state.channels[0].on === true && white.state.light?.luminance === 20, "the white bulb to go on at 20 %");
    assert.equal(rgb.state.channels[0].on, true, "the colour bulb stayed on");
    // The status is about the bulb the node acted on last.
    await page
      .locator("#red-ui-workspace-chart g#demo-light-rgb .red-ui-flow-node-status-label", { hasText: setup.whiteBulb.name })
      .waitFor({ timeout: 15000 });
    assert.deepEqual(pageErrors, []);
  });
});

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 15000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
