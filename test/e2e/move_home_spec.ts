import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { CHROMIUM, CHROMIUM_HINT, startDemoEditor, type DemoEditor } from "./browser";
import type { Fleet } from "../../src/simulator/fleet";
import type { SimulatedDevice } from "../../src/simulator";
import { SimulatedCloud } from "../../src/simulator/cloud";
import { DEMO_ACCOUNT, demoCloudAccount } from "../../src/simulator/demo";
import { DEMO_BROKER_ID } from "../../scripts/demo-flow";
import { requireProgram, type NodeRed } from "./harness";

const KEY = "demo-key";

interface DebugMsg {
  name?: string;
  msg?: string;
}

/**
 * Issue 18 from the editor alone, in a real headless Chromium on the demo: sign in to the
 * simulated Meross account from the Meross device dialog (the key lands in the hidden Key field),
 * find the devices on the LAN and pick one, then move the app-paired plug with the `move-home`
 * example: sign in and Find devices in meross-onboard's re-bind mode, Move all found devices,
 * deploy, click Move, one line per device in the debug.
 */
describe("moving a home from the Meross app, in a real browser", function () {
  this.timeout(240000);
  let fleet: Fleet;
  let red: NodeRed;
  let env: DemoEditor | undefined;
  let cloud: SimulatedCloud | undefined;
  let page: Page;
  let pageErrors: string[] = [];
  let patio: SimulatedDevice;
  let thermostat: SimulatedDevice;

  before(async function () {
    if (!requireProgram(this, CHROMIUM, "Chromium", CHROMIUM_HINT)) return;
    env = await startDemoEditor({ key: KEY, wifiPassword: "pw-12345678", ready: "#red-ui-palette .red-ui-palette-node" });
    ({ fleet, red, page, pageErrors } = env);
    cloud = await SimulatedCloud.start([demoCloudAccount(fleet)]);
    patio = fleet.devices.find((d) => d.name === "Patio plug (set up by the app)")!;
    thermostat = fleet.devices.find((d) => d.name === "Living room thermostat")!;
    await page.evaluate(() => {
      const w = window as unknown as {
        merossDebug: unknown[];
        RED: { comms: { subscribe(topic: string, f: (t: string, m: unknown) => void): void } };
      };
      w.merossDebug = [];
      w.RED.comms.subscribe("debug", (_t, m) => w.merossDebug.push(m));
    });
  });

  after(async () => {
    await cloud?.stop();
    await env?.stop();
  });

  /** Opens the sign-in panel of `type`'s dialog, signs in to the simulated account, waits for the answer. */
  async function signIn(type: string): Promise<string> {
    const p = `#meross-account-${type}-`;
    await page.locator(`${p}open`).click();
    await page.locator(`${p}email`).fill(DEMO_ACCOUNT.email);
    await page.locator(`${p}password`).fill(DEMO_ACCOUNT.password);
    await page.locator(`${p}api`).fill(cloud!.url);
    await page.locator(`${p}go`).click();
    const result = page.locator(`${p}result`);
    await result.filter({ hasText: `Account user id ${DEMO_ACCOUNT.userId}` }).waitFor({ timeout: 20000 });
    assert.equal(await page.locator(`${p}password`).inputValue(), "", "the password stays in the dialog");
    const text = await result.innerText();
    assert.match(text, /Patio plug \(set up by the app\)/);
    assert.match(text, /Signed out again/);
    assert.ok(!text.includes(KEY) && !text.includes(DEMO_ACCOUNT.password), "a secret is shown in plain text");
    return text;
  }

  async function find(type: string, targets: string): Promise<void> {
    const p = `#meross-find-${type}-`;
    await page.locator(`${p}targets`).fill(targets);
    await page.locator(`${p}go`).click();
    await page.locator(`.meross-find-device[data-uuid="${patio.uuid}"]`).waitFor({ timeout: 30000 });
  }

  it("signs in from the Meross device dialog, finds the devices on the LAN and fills the dialog from a pick", async () => {
    await page.locator("#red-ui-workspace-chart g#demo-light-white").dblclick();
    await page.waitForSelector(".red-ui-tray #node-input-name");
    await page.locator("#node-input-btn-device-add").click();
    await page.waitForSelector("#node-config-input-host");
    await page.locator("#node-config-input-broker").selectOption(DEMO_BROKER_ID);
    await signIn("meross-config");
    // The account key is in the password-type Key field (and nowhere in text).
    assert.equal(await page.locator("#node-config-input-key").getAttribute("type"), "password");
    assert.equal(await page.locator("#node-config-input-key").inputValue(), KEY);
    await find("meross-config", `${patio.address}, ${thermostat.address}`);
    const row = page.locator(`.meross-find-device[data-uuid="${patio.uuid}"]`);
    const text = await row.innerText();
    assert.match(text, /Patio plug \(set up by the app\)/);
    assert.match(text, /key fits/);
    assert.match(text, /bound to the Meross cloud/);
    assert.match(await page.locator(`.meross-find-device[data-uuid="${thermostat.uuid}"]`).innerText(), /bound to this broker/);
    await row.click();
    assert.equal(await page.locator("#node-config-input-host").inputValue(), patio.address);
    assert.equal(await page.locator("#node-config-input-uuid").inputValue(), patio.uuid);
    assert.equal(await page.locator("#node-config-input-name").inputValue(), "Patio plug (set up by the app)");
    // A /8 is refused with a sentence.
    await page.locator("#meross-find-meross-config-targets").fill("10.0.0.0/8");
    await page.locator("#meross-find-meross-config-go").click();
    await page.locator("#meross-find-meross-config-list", { hasText: "too many to scan" }).waitFor({ timeout: 10000 });
    await page.locator("#node-config-dialog-cancel").click();
    await page.waitForSelector("#node-config-input-host", { state: "detached" });
    await page.locator("#node-dialog-cancel").click();
  });

  it("moves the app-paired plug with the move-home example: one line per device, then it is on the broker", async () => {
    // Import → Examples → node-red-contrib-meross-local → move-home.
    await page.locator("#red-ui-header-button-sidemenu").click();
    await page.locator("#menu-item-import").click();
    await page.locator('#red-ui-clipboard-dialog-import-tabs a[href="#red-ui-clipboard-dialog-import-tab-examples"]').click();
    const tab = page.locator("#red-ui-clipboard-dialog-import-tab-examples");
    const file = tab.locator(".red-ui-treeList-label", { hasText: /^\s*move-home\s*$/ }).first();
    if (!(await file.isVisible()))
      await tab.locator(".red-ui-treeList-label", { hasText: "node-red-contrib-meross-local" }).first().click();
    await file.click();
    await page.locator("#red-ui-clipboard-dialog-ok").click();
    await page.locator("#red-ui-clipboard-dialog").waitFor({ state: "hidden" });
    await page.evaluate(() =>
      (window as unknown as { RED: { workspaces: { show(id: string): void } } }).RED.workspaces.show("ex-move-tab"),
    );

    await page.locator("#red-ui-workspace-chart g#ex-move").dblclick();
    await page.waitForSelector(".red-ui-tray #node-input-name");
    assert.equal(await page.locator("#node-input-mode").inputValue(), "rebind");
    await page.locator("#node-input-broker").selectOption(DEMO_BROKER_ID);
    await signIn("meross-onboard");
    assert.equal(await page.locator("#node-input-currentKey").inputValue(), KEY, "the account key is not in Current key");
    await find("meross-onboard", `${patio.address}, ${thermostat.address}`);
    await page.locator("#meross-find-meross-onboard-all").click();
    assert.equal(await page.locator("#node-input-address").inputValue(), `${patio.address}, ${thermostat.address}`);
    await page.locator("#node-input-key").fill(KEY);
    await page.locator("#node-dialog-ok").click();
    await page.waitForSelector(".red-ui-tray #node-input-name", { state: "detached" });

    const started = (red.log().match(/Started flows/g) ?? []).length;
    await page.locator("#red-ui-header-button-deploy").click();
    await red.waitForLog(new RegExp(`(Started flows[\\s\\S]*){${started + 1}}`));
    await page.locator("#red-ui-workspace-chart g#ex-move-go .red-ui-flow-node-button").click();
    let lines: DebugMsg[] = [];
    for (let i = 0; i < 600 && lines.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      lines = await page.evaluate(() =>
        (window as unknown as { merossDebug: DebugMsg[] }).merossDebug.filter((m) => m.name === "One line per device"),
      );
    }
    assert.equal(lines.length, 1, `no lines in the debug; log: ${red.log().slice(-1500)}`);
    const shown = String(lines[0].msg);
    assert.match(shown, new RegExp(`"address":"${patio.address}"[^}]*"outcome":"moved"`));
    assert.match(shown, new RegExp(`"address":"${thermostat.address}"[^}]*"outcome":"already moved"`));
    assert.ok(!shown.includes(KEY) && !shown.includes(DEMO_ACCOUNT.password), "a secret reached the debug sidebar");
    const devices = JSON.parse((await red.get(`/meross-broker/${DEMO_BROKER_ID}/devices`)).body) as Array<{ uuid: string }>;
    assert.ok(
      devices.some((d) => d.uuid === patio.uuid),
      "the plug is not on the broker",
    );
    assert.doesNotMatch(red.log(), new RegExp(DEMO_ACCOUNT.password));
  });

  it("raised no error in the page", () => {
    assert.deepEqual(pageErrors, []);
  });
});
