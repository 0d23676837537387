import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import type { Fleet } from "../../src/simulator/fleet";
import { startDemo } from "../../src/simulator/demo";
import { demoFlow, setupFromFleet } from "../../scripts/demo-flow";
import { freePort, requireProgram, startNodeRed, type NodeRed } from "./harness";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Config nodes (meross-config) are not in the palette; they are created from a node's dialog. */
const TYPES = ["meross-toggle", "meross-light", "meross-request", "meross-onboard", "meross-state"];

/**
 * The editor in a real headless Chromium: the palette, the light and onboarding dialogs
 * (Scan lists the simulator's networks), a deploy, and an inject button whose effect shows
 * on the simulator's status page — what a newcomer does after `npm start`.
 */
describe("editor in a real browser", function () {
  this.timeout(120000);
  let fleet: Fleet;
  let red: NodeRed;
  let ctx: BrowserContext | undefined;
  let page: Page;
  let profile: string;

  before(async function () {
    if (!requireProgram(this, CHROMIUM, "Chromium", "install it with `apt-get install chromium` (or set CHROMIUM_PATH)")) return;
    // The same fleet and flow as `npm start`, on free ports.
    const brokerPort = await freePort();
    fleet = await startDemo({ key: "demo-key", gateway: { host: "127.0.0.1", port: brokerPort }, userId: "0" });
    const demo = demoFlow(setupFromFleet(fleet, { key: "demo-key", wifiPassword: "pw-12345678", brokerPort }));
    red = await startNodeRed({ flows: demo.flows, credentials: demo.credentials });
    const { chromium } = await import("playwright-core");
    profile = fs.mkdtempSync(path.join(os.tmpdir(), "meross-chrome-"));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1500, height: 950 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(red.url + "/");
    await page.waitForSelector("#red-ui-palette .red-ui-palette-node", { timeout: 60000 });
    await page.waitForSelector("#red-ui-workspace-chart g.red-ui-flow-node", { timeout: 30000 });
    assert.deepEqual(pageErrors, [], `page errors while loading the editor: ${pageErrors.join("; ")}`);
  });

  after(async () => {
    await ctx?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    await red?.stop();
    await fleet?.stop();
  });

  it("shows every meross node in the palette", async () => {
    for (const t of TYPES) {
      const n = await page.locator(`#red-ui-palette .red-ui-palette-node[data-palette-type="${t}"]`).count();
      assert.equal(n, 1, `${t} is not in the palette`);
    }
  });

  it("opens the meross-light dialog with its device field and labels from the locale", async () => {
    await page.locator("#red-ui-workspace-chart g#demo-light-rgb").dblclick();
    await page.waitForSelector("#node-input-device", { state: "attached" });
    const tray = await page.locator(".red-ui-tray").last().innerText();
    assert.doesNotMatch(tray, /meross-light\.label\./, "an i18n key was shown instead of its text");
    await page.locator("#node-dialog-cancel").click();
    await page.waitForSelector("#node-input-device", { state: "detached" });
  });

  it("opens the meross-onboard dialog, Scan lists the simulator's networks and picking one fills the Wi-Fi fields", async () => {
    const fresh = fleet.devices.find((d) => d.mode === "ap")!;
    const target = fresh.networks[1] ?? fresh.networks[0];
    await page.locator("#red-ui-workspace-chart g#demo-onboard").dblclick();
    await page.waitForSelector("#node-input-ssid");
    await page.locator("#node-input-ssid").fill("");
    await page.locator("#meross-onboard-scan").click();
    const item = page.locator(".meross-onboard-network", { hasText: target.ssid }).first();
    await item.waitFor({ timeout: 30000 });
    await item.click();
    assert.equal(await page.locator("#node-input-ssid").inputValue(), target.ssid);
    assert.equal(await page.locator("#node-input-bssid").inputValue(), target.bssid);
    await page.locator("#node-dialog-cancel").click();
  });

  it("deploys the demo, and an inject button changes the bulb on the simulator's status page", async () => {
    // Rename a node so the flow has a change to deploy, then deploy from the editor.
    await page.locator("#red-ui-workspace-chart g#demo-light-rgb").dblclick();
    await page.locator("#node-input-name").fill("Living room bulb");
    await page.locator("#node-dialog-ok").click();
    await page.locator("#red-ui-header-button-deploy").click();
    await page.locator(".red-ui-notification", { hasText: /deployed/i }).first().waitFor({ timeout: 20000 });
    await red.waitForLog(/Started flows[\s\S]*Started flows/);

    const rgb = fleet.devices.find((d) => d.model.name === "msl120")!;
    const status = await ctx!.newPage();
    await status.goto(fleet.statusUrl);
    const bulb = status.locator(`[data-testid="bulb-${rgb.uuid}"]`);
    await bulb.waitFor();

    await page.locator("#red-ui-workspace-chart g#demo-inj-red .red-ui-flow-node-button").click();
    await status.waitForFunction(
      (uuid) => document.querySelector(`[data-testid="bulb-${uuid}"]`)?.getAttribute("data-rgb") === "#ff0000",
      rgb.uuid,
      { timeout: 15000 },
    );
    assert.equal(await bulb.getAttribute("data-on"), "true");
    await status.screenshot({ path: path.join(os.tmpdir(), "meross-status-page.png") });
    await page.screenshot({ path: path.join(os.tmpdir(), "meross-editor.png") });
  });
});
