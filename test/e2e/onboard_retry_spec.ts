import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { CHROMIUM, CHROMIUM_HINT, startDemoEditor, type DemoEditor } from "./browser";
import type { Fleet } from "../../src/simulator/fleet";
import type { SimulatedDevice } from "../../src/simulator/device";
import { DEMO_BROKER_ID } from "../../scripts/demo-flow";
import { requireProgram, type NodeRed } from "./harness";

const KEY = "demo-key";
const WIFI_PASSWORD = "pw-12345678";

/**
 * Issue 17 in a real browser: onboarding the demo's out-of-the-box plug with a wrong Wi-Fi
 * password fails with a sentence that says what happened and what to do; the user corrects the
 * password in the dialog, deploys, clicks again, and the device arrives on the broker.
 */
describe("onboarding retry in a real browser", function () {
  this.timeout(180000);
  let fleet: Fleet;
  let fresh: SimulatedDevice;
  let red: NodeRed;
  let env: DemoEditor | undefined;
  let page: Page;
  let pageErrors: string[] = [];

  before(async function () {
    if (!requireProgram(this, CHROMIUM, "Chromium", CHROMIUM_HINT)) return;
    env = await startDemoEditor({
      key: KEY,
      wifiPassword: WIFI_PASSWORD,
      ready: "#red-ui-workspace-chart g#demo-onboard",
    });
    ({ fleet, red, page, pageErrors } = env);
    fresh = fleet.devices.find((d) => d.mode === "ap")!;
  });

  after(async () => {
    await env?.stop();
  });

  /** Types the Wi-Fi password (and a short arrival wait) into the onboard node's dialog, then deploys. */
  async function setPasswordAndDeploy(password: string, timeoutS: string): Promise<void> {
    const started = (red.log().match(/Started flows/g) ?? []).length;
    await page.locator("#red-ui-workspace-chart g#demo-onboard").dblclick();
    await page.waitForSelector(".red-ui-tray #node-input-wifiPassword");
    await page.locator("#node-input-wifiPassword").fill(password);
    await page.locator("#node-input-timeout").fill(timeoutS);
    await page.locator("#node-dialog-ok").click();
    await page.waitForSelector(".red-ui-tray #node-input-wifiPassword", { state: "detached" });
    await page.locator("#red-ui-header-button-deploy").click();
    await red.waitForLog(new RegExp(`(Started flows[\\s\\S]*){${started + 1}}`));
  }

  const statusText = (): Promise<string> =>
    page
      .locator("#red-ui-workspace-chart g#demo-onboard .red-ui-flow-node-status-label")
      .textContent({ timeout: 1000 })
      .then((t) => t ?? "")
      .catch(() => "");

  async function waitForStatus(pattern: RegExp, ms: number): Promise<string> {
    const t0 = Date.now();
    let text = await statusText();
    while (!pattern.test(text) && Date.now() - t0 < ms) {
      await new Promise((r) => setTimeout(r, 200));
      text = await statusText();
    }
    assert.match(text, pattern, `the onboard node's status reads "${text}"; Node-RED's log ends:\n${red.log().slice(-1500)}`);
    return text;
  }

  it("a wrong Wi-Fi password fails with a sentence naming access-point mode and the password; a retry with the right one succeeds", async () => {
    await page.evaluate(() => (window as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show("debug"));
    await setPasswordAndDeploy("not-the-wifi-password", "4");
    await page.locator("#red-ui-workspace-chart g#demo-inj-onboard .red-ui-flow-node-button").click();
    await waitForStatus(/stayed in AP mode: check Wi-Fi password/, 60000);
    // The collapsed debug line (its first 80 characters) already says what happened.
    const error = page.locator(".red-ui-debug-msg", { hasText: "The device stayed in access-point mode: it probably could n" }).first();
    await error.waitFor({ timeout: 20000 }).catch(async (err: unknown) => {
      const shown = await page
        .locator("#red-ui-sidebar-content")
        .innerText()
        .catch(() => "?");
      throw new Error(`${String(err)}\nsidebar: ${shown.slice(0, 3000)}\nlog: ${red.log().slice(-2000)}`);
    });
    await error.locator(".red-ui-debug-msg-type-string").first().click(); // expands the whole sentence
    const sentence = await error.innerText();
    assert.match(sentence, /it probably could not join "HomeNet" — check the Wi-Fi password and that the network is 2\.4 GHz/);
    assert.match(sentence, /then retry/);
    assert.doesNotMatch(sentence, /not-the-wifi-password|demo-key/, "a secret reached the debug sidebar");
    assert.equal(fresh.mode, "ap");

    await setPasswordAndDeploy(WIFI_PASSWORD, "30");
    await page.locator("#red-ui-workspace-chart g#demo-inj-onboard .red-ui-flow-node-button").click();
    await waitForStatus(/^arrived at 127\.0\.0\.1$/, 60000);
    assert.equal(fresh.mode, "normal");
    assert.equal(fresh.wifi?.ssid, "HomeNet");
    assert.equal(
      await page.locator(".red-ui-debug-msg", { hasText: "not signed with this device's key" }).count(),
      0,
      "the retry was refused as another device's reply",
    );
  });

  it("the onboarded plug picked from 'Devices on the broker': no address without its port, the dialog says why, Read device reads it over MQTT", async () => {
    assert.equal(fresh.mode, "normal", "runs after the onboarding above");
    await page.locator("#red-ui-workspace-chart g#demo-light-white").dblclick();
    await page.waitForSelector(".red-ui-tray #node-input-name");
    await page.locator("#node-input-btn-device-add").click();
    await page.waitForSelector("#node-config-input-host");
    await page.locator("#node-config-input-broker").selectOption(DEMO_BROKER_ID);
    assert.equal(await page.locator("#node-config-input-transport").inputValue(), "auto");
    await page.locator("#node-config-meross-discover").click();
    const entry = page.locator(`.meross-config-device[data-uuid="${fresh.uuid}"]`);
    await entry.waitFor({ timeout: 20000 });
    await entry.click();
    // It connects from 127.0.0.1 and listens on another port than 80, which the broker cannot know.
    assert.equal(await page.locator("#node-config-input-host").inputValue(), "", "an address without the port was filled in");
    assert.equal(await page.locator("#node-config-input-uuid").inputValue(), fresh.uuid);
    assert.match(
      await page.locator(".meross-config-port-note").innerText(),
      /cannot know its HTTP port.*With Transport Auto or MQTT the node reaches it over the broker/,
    );
    await page.locator("#node-config-input-key").fill(KEY);
    await page.locator("#node-config-meross-read").click();
    const result = page.locator("#node-config-meross-read-result");
    await result.filter({ hasText: fresh.model.type }).waitFor({ timeout: 20000 });
    assert.match(await result.innerText(), /Read over: MQTT, through the broker/);
    await page.locator("#node-config-dialog-cancel").click();
    await page.waitForSelector("#node-config-input-host", { state: "detached" });
    await page.locator("#node-dialog-cancel").click();
  });

  it("raised no error in the page", () => {
    assert.deepEqual(pageErrors, []);
  });
});
