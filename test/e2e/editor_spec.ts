import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { CHROMIUM, CHROMIUM_HINT, startDemoEditor, type DemoEditor } from "./browser";
import type { Fleet } from "../../src/simulator/fleet";
import { DEMO_BROKER_ID } from "../../scripts/demo-flow";
import { devicesRead, requireProgram, ROOT, type NodeRed } from "./harness";

const SESSION_NAMESPACES = new Set(["Appliance.System.Time", "Appliance.System.Clock", "Appliance.Control.Bind"]);
/** Config nodes (meross-config) are not in the palette; they are created from a node's dialog. */
const TYPES = ["meross-toggle", "meross-light", "meross-request", "meross-onboard", "meross-state", "meross-energy", "meross-climate"];
/** Screenshots for the README, refreshed by every run of this test. */
const IMAGES = path.join(ROOT, "docs", "images");
const KEY = "demo-key";

/** Names of the placeholders in the open dialog whose text is wider than their field. */
async function cutOffPlaceholders(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const canvas = document.createElement("canvas");
    const g = canvas.getContext("2d")!;
    const cut: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLInputElement>(".red-ui-tray input[placeholder]"))) {
      if (!el.placeholder || el.offsetParent === null) continue;
      const cs = getComputedStyle(el);
      g.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      const room = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
      if (g.measureText(el.placeholder).width > room) cut.push(`#${el.id} "${el.placeholder}"`);
    }
    return cut;
  });
}

/**
 * The editor in a real headless Chromium, as a newcomer uses it after `npm start`: the
 * palette, every dialog of the package, a deploy whose inject button shows on the
 * simulator's status page, a device picked from the broker and read, every example
 * imported from the menu and deployed without any node firing by itself, and an error read
 * in the debug sidebar. It also refreshes the README's screenshots in docs/images/.
 */
describe("editor in a real browser", function () {
  this.timeout(180000);
  let fleet: Fleet;
  let red: NodeRed;
  let env: DemoEditor | undefined;
  let page: Page;
  let pageErrors: string[] = [];

  before(async function () {
    if (!requireProgram(this, CHROMIUM, "Chromium", CHROMIUM_HINT)) return;
    // The same fleet and flow as `npm start`, on free ports.
    env = await startDemoEditor({
      key: KEY,
      wifiPassword: "pw-12345678",
      // A 5 GHz network next to the simulator's 2.4 GHz ones: the onboarding dialog must warn about it.
      prepare: (f) =>
        f.devices
          .find((d) => d.mode === "ap")!
          .networks.push({ ssid: "Attic 5G", bssid: "a4:2b:b0:5e:10:55", channel: 36, signal: 70, encryption: 6, cipher: 3 }),
      ready: "#red-ui-palette .red-ui-palette-node",
    });
    ({ fleet, red, page, pageErrors } = env);
    await page.waitForSelector("#red-ui-workspace-chart g.red-ui-flow-node", { timeout: 30000 });
    assert.deepEqual(pageErrors, [], `page errors while loading the editor: ${pageErrors.join("; ")}`);
  });

  after(async () => {
    await env?.stop();
  });

  const open = async (id: string): Promise<void> => {
    await page.locator(`#red-ui-workspace-chart g#${id}`).dblclick();
    await page.waitForSelector(".red-ui-tray #node-input-name");
  };
  const cancel = async (): Promise<void> => {
    await page.locator("#node-dialog-cancel").click();
    await page.waitForSelector(".red-ui-tray #node-input-name", { state: "detached" });
  };

  it("shows every meross node in the palette, each label on one line", async () => {
    const oneLine = await page
      .locator('#red-ui-palette .red-ui-palette-node[data-palette-type="inject"]')
      .evaluate((e) => (e as HTMLElement).offsetHeight);
    for (const t of TYPES) {
      const node = page.locator(`#red-ui-palette .red-ui-palette-node[data-palette-type="${t}"]`);
      assert.equal(await node.count(), 1, `${t} is not in the palette`);
      const height = await node.evaluate((e) => (e as HTMLElement).offsetHeight);
      assert.equal(height, oneLine, `the palette label of ${t} ("${await node.innerText()}") wraps onto two lines`);
    }
  });

  it("serves the dialogs' shared editor script from the package's resources/, and loading it again keeps the same helpers", async () => {
    const url = `${red.url}/resources/node-red-contrib-meross-local/meross-editor.js`;
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /javascript/);
    assert.match(await res.text(), /MerossEditor/);
    // The editor has run it once per html that loads it (config, onboard, broker and every device node); a further load changes nothing.
    type Win = { MerossEditor?: Record<string, unknown> };
    const before = await page.evaluate(() => Object.keys((window as unknown as Win).MerossEditor ?? {}).sort());
    assert.deepEqual(before, [
      "brokerDevices",
      "channelOf",
      "deviceLabel",
      "deviceSource",
      "deviceValid",
      "errorText",
      "isPicked",
      "moveBrokerUrlCredentials",
      "onConfigChange",
      "outletOf",
      "pickList",
      "postJSON",
      "splitBrokerUrl",
    ]);
    await page.evaluate(() => ((window as unknown as { merossBefore?: unknown }).merossBefore = (window as unknown as Win).MerossEditor));
    await page.addScriptTag({ url });
    const same = await page.evaluate(
      () => (window as unknown as { merossBefore?: unknown }).merossBefore === (window as unknown as Win).MerossEditor,
    );
    assert.equal(same, true, "loading the script again replaced window.MerossEditor");
    // Its pick-list stylesheet is served too and linked once (the dialog tests below check its look on the lists).
    const css = await fetch(url.replace(/\.js$/, ".css"));
    assert.equal(css.status, 200);
    assert.match(css.headers.get("content-type") ?? "", /text\/css/);
    const sheets = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLLinkElement>("link[href$='meross-editor.css']")).map((l) => l.sheet?.cssRules.length ?? 0),
    );
    assert.equal(sheets.length, 1, "the stylesheet is linked once");
    assert.ok(sheets[0] > 0, "the stylesheet did not load");
    assert.deepEqual(pageErrors, []);
  });

  it("opens the meross-light dialog with its device field, labels from the locale and the Transition field", async () => {
    await open("demo-light-rgb");
    await page.waitForSelector("#node-input-device", { state: "attached" });
    const tray = await page.locator(".red-ui-tray").last().innerText();
    assert.doesNotMatch(tray, /meross-light\.label\./, "an i18n key was shown instead of its text");
    assert.match(tray, /Transition/, "the dialog offers the fade time now that fades work");
    assert.equal(await page.locator("#node-input-transition").count(), 1);
    await cancel();
  });

  it("shows a strip's channel as the outlet number on its label (1..n) and stores it 0-based", async () => {
    await open("demo-toggle-strip");
    assert.equal(await page.locator("#meross-toggle-outlet").inputValue(), "3", "channel 2 is outlet 3 on the strip");
    assert.deepEqual(await cutOffPlaceholders(page), []);
    await page.locator("#meross-toggle-outlet").fill("4");
    await page.locator("#node-dialog-ok").click();
    await page.waitForSelector(".red-ui-tray #node-input-name", { state: "detached" });
    const stored = await page.evaluate(
      () =>
        (window as unknown as { RED: { nodes: { node(id: string): { channel: string } } } }).RED.nodes.node("demo-toggle-strip").channel,
    );
    assert.equal(stored, "3");
    await open("demo-toggle-strip");
    await page.locator("#meross-toggle-outlet").fill("3");
    await page.locator("#node-dialog-ok").click();
    await page.waitForSelector(".red-ui-tray #node-input-name", { state: "detached" });
  });

  it("labels an unnamed toggle or light with its device's name (and outlet), not 'meross toggle'", async () => {
    // No named functions inside evaluate(): the test's transpiler would wrap them in a helper the page lacks.
    const labels = await page.evaluate(() => {
      const RED = (
        window as unknown as {
          RED: {
            nodes: { node(id: string): Record<string, unknown>; getType(t: string): { label(this: Record<string, unknown>): string } };
            _: (k: string) => string;
          };
        }
      ).RED;
      const strip = RED.nodes.node("demo-toggle-strip");
      const light = RED.nodes.node("demo-light-rgb");
      return {
        toggle: RED.nodes.getType("meross-toggle").label.call({ ...strip, name: "", _: RED._ }),
        light: RED.nodes.getType("meross-light").label.call({ ...light, name: "", _: RED._ }),
        stripDevice: String(RED.nodes.node(String(strip.device)).name),
        lightDevice: String(RED.nodes.node(String(light.device)).name),
      };
    });
    assert.ok(labels.toggle.startsWith(labels.stripDevice), `toggle label: ${labels.toggle}`);
    assert.match(labels.toggle, /3$/, `toggle label names outlet 3: ${labels.toggle}`);
    assert.equal(labels.light, labels.lightDevice);
  });

  it("opens the meross-onboard dialog with its stored MQTT host/port; Scan fills Wi-Fi fields with named encryption, and warns about 5 GHz", async () => {
    const fresh = fleet.devices.find((d) => d.mode === "ap")!;
    const target = fresh.networks.find((n) => n.ssid === "HomeNet")!;
    await open("demo-onboard");
    assert.equal(await page.locator("#node-input-mqttHost").inputValue(), "127.0.0.1", "the stored MQTT host was blanked");
    assert.notEqual(await page.locator("#node-input-mqttPort").inputValue(), "", "the stored MQTT port was blanked");
    assert.deepEqual(await cutOffPlaceholders(page), []);
    await page.locator("#node-input-ssid").fill("");
    await page.locator("#meross-onboard-scan").click();
    const item = page.locator(".meross-onboard-network", { hasText: target.ssid }).first();
    await item.waitFor({ timeout: 30000 });
    // The shared pick-list style: one full-width line per network, not Node-RED's inline button.
    assert.equal(await item.evaluate((e) => getComputedStyle(e).display), "block");
    await item.click();
    assert.equal(await page.locator("#node-input-ssid").inputValue(), target.ssid);
    assert.equal(await page.locator("#node-input-bssid").inputValue(), target.bssid);
    // Names people know from their router, not the protocol's codes ("6 WPA2PSK", "3 AES").
    assert.equal(await page.locator("#node-input-encryption option:checked").innerText(), "WPA2 with password (PSK): most home networks");
    assert.equal(await page.locator("#node-input-cipher option:checked").innerText(), "AES: most home networks");
    assert.equal(await page.locator("#meross-onboard-5ghz").isVisible(), false);
    await page.locator(".meross-onboard-network", { hasText: "Attic 5G" }).first().click();
    assert.equal(await page.locator("#meross-onboard-5ghz").isVisible(), true, "no warning for a 5 GHz network");
    assert.match(await page.locator("#meross-onboard-5ghz").innerText(), /2\.4 GHz/);
    await cancel();
  });

  it("deploys the demo, and an inject button changes the bulb on the simulator's status page (screenshots for the README)", async () => {
    // Rename a node so the flow has a change to deploy, then deploy from the editor.
    await open("demo-light-rgb");
    await page.locator("#node-input-name").fill("Living room bulb");
    await page.locator("#node-dialog-ok").click();
    await page.locator("#red-ui-header-button-deploy").click();
    await page
      .locator(".red-ui-notification", { hasText: /deployed/i })
      .first()
      .waitFor({ timeout: 20000 });
    await red.waitForLog(/Started flows[\s\S]*Started flows/);

    const rgb = fleet.devices.find((d) => d.model.name === "msl120")!;
    const status = await env!.ctx.newPage();
    await status.setViewportSize({ width: 1300, height: 900 });
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
    await page
      .locator("#red-ui-workspace-chart g#demo-light-rgb .red-ui-flow-node-status-label", { hasText: /./ })
      .first()
      .waitFor({ timeout: 15000 });
    // For the picture only: devices reconnect to the redeployed broker; a still-connecting badge is not a failure.
    await status
      .locator("text=MQTT connecting")
      .first()
      .waitFor({ state: "detached", timeout: 20000 })
      .catch(() => undefined);
    fs.mkdirSync(IMAGES, { recursive: true });
    await status.screenshot({ path: path.join(IMAGES, "status-page.png") });
    await page.locator(".red-ui-notification").evaluateAll((els) => els.forEach((e) => ((e as HTMLElement).style.display = "none")));
    await page.screenshot({ path: path.join(IMAGES, "editor-demo.png") });
    await status.close();
  });

  it("picks a device from the broker's list (name, model, address with its port) and reads it; a failed read shows in red", async () => {
    const rgb = fleet.devices.find((d) => d.model.name === "msl120")!;
    await open("demo-light-white");
    // A new Meross device node, as a user adds one from a node's Device field.
    await page.locator("#node-input-btn-device-add").click();
    await page.waitForSelector("#node-config-input-host");
    assert.equal(await page.locator("#node-config-input-transport").inputValue(), "http");
    assert.equal(
      await page.locator("#node-config-input-transport option[value='auto']").isDisabled(),
      true,
      "Auto is offered without a broker",
    );
    await page.locator("#node-config-input-broker").selectOption(DEMO_BROKER_ID);
    assert.equal(await page.locator("#node-config-input-transport").inputValue(), "auto", "picking a broker did not switch HTTP to Auto");

    await page.locator("#node-config-meross-discover").click();
    const entry = page.locator(`.meross-config-device[data-uuid="${rgb.uuid}"]`);
    await entry.waitFor({ timeout: 20000 });
    const text = await entry.innerText();
    assert.match(text, /Living room bulb/);
    assert.match(text, /msl120/);
    const fontPx = await entry.evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    assert.ok(fontPx >= 12, `the device list is in a ${fontPx} px font`);
    assert.equal(await entry.evaluate((e) => getComputedStyle(e).display), "block", "the device list lost its shared pick-list style");
    await entry.click();
    // The simulator listens on a port other than 80: the address must keep it.
    assert.equal(await page.locator("#node-config-input-host").inputValue(), rgb.address);
    assert.equal(await page.locator("#node-config-input-uuid").inputValue(), rgb.uuid);
    assert.deepEqual(await cutOffPlaceholders(page), []);

    await page.locator("#node-config-input-key").fill(KEY);
    await page.locator("#node-config-meross-read").click();
    const result = page.locator("#node-config-meross-read-result");
    await result.filter({ hasText: "msl120" }).waitFor({ timeout: 20000 });
    assert.match(await result.innerText(), new RegExp(rgb.uuid));

    await page.locator("#node-config-input-key").fill("not-the-key");
    await page.locator("#node-config-meross-read").click();
    await page.locator("#node-config-meross-read-result.meross-config-error").waitFor({ timeout: 20000 });
    const color = await result.evaluate((e) => getComputedStyle(e).color);
    const [r, g, b] = (color.match(/\d+/g) ?? []).map(Number);
    assert.ok(r > g + 40 && r > b + 40, `the read error is not shown in red (${color})`);

    await page.locator("#node-config-dialog-cancel").click();
    await page.waitForSelector("#node-config-input-host", { state: "detached" });
    await cancel();
  });

  it("lists the devices the broker has seen in its own dialog (Refresh)", async () => {
    const rgb = fleet.devices.find((d) => d.model.name === "msl120")!;
    await page.evaluate((id) => {
      (window as unknown as { RED: { editor: { editConfig(n: string, t: string, id: string): void } } }).RED.editor.editConfig(
        "",
        "meross-broker",
        id,
      );
    }, DEMO_BROKER_ID);
    await page.waitForSelector("#meross-broker-refresh");
    await page.locator("#meross-broker-refresh").click();
    await page.locator("#meross-broker-devices", { hasText: rgb.uuid }).waitFor({ timeout: 20000 });
    assert.match(await page.locator("#meross-broker-devices").innerText(), /msl120/);
    await page.locator("#node-config-dialog-cancel").click();
    await page.waitForSelector("#meross-broker-refresh", { state: "detached" });
  });

  it("imports every example from the menu (Import → Examples), deploys them against the demo fleet and none fires by itself", async () => {
    const res = await red.get("/library/examples/flows/node-red-contrib-meross-local");
    const names = fs
      .readdirSync(path.join(ROOT, "examples"))
      .filter((f) => f.endsWith(".json"))
      .map((f) => path.basename(f, ".json"));
    assert.equal(res.status, 200);
    for (const name of names) {
      await page.locator("#red-ui-header-button-sidemenu").click();
      await page.locator("#menu-item-import").click();
      await page.locator('#red-ui-clipboard-dialog-import-tabs a[href="#red-ui-clipboard-dialog-import-tab-examples"]').click();
      const tab = page.locator("#red-ui-clipboard-dialog-import-tab-examples");
      const moduleFolder = tab.locator(".red-ui-treeList-label", { hasText: "node-red-contrib-meross-local" }).first();
      const file = tab.locator(".red-ui-treeList-label", { hasText: new RegExp(`^\\s*${name}\\s*$`) }).first();
      if (!(await file.isVisible())) await moduleFolder.click();
      await file.click();
      await page.locator("#red-ui-clipboard-dialog-ok").click();
      await page.locator("#red-ui-clipboard-dialog").waitFor({ state: "hidden" });
    }

    // The last import lands in the workspace a moment after its dialog closes: wait for every example's device.
    const readExample = (n: string) =>
      JSON.parse(fs.readFileSync(path.join(ROOT, "examples", `${n}.json`), "utf8")) as Array<{ type: string }>;
    const onDisk = names.flatMap(readExample);
    const expected = onDisk.filter((n) => n.type === "meross-config").length;
    await page.waitForFunction(
      (n) => {
        let count = 0;
        const RED = (window as unknown as { RED: { nodes: { eachConfig(f: (c: { type: string; name?: string }) => void): void } } }).RED;
        RED.nodes.eachConfig((c) => {
          if (c.type === "meross-config" && String(c.name).startsWith("Example ")) count++;
        });
        return count >= n;
      },
      expected,
      { timeout: 20000 },
    );

    // What a user does next: point the examples' devices at their own (here: the demo's), with the key.
    const byModel = (m: string) => fleet.devices.find((d) => d.model.name === m && d.mode === "normal")!;
    const targets = {
      // A white-only bulb: the colour presets end in an error the "Why it failed" debug shows.
      "Example bulb (dim and colour)": byModel("msl100").address,
      "Example bulb (motion)": byModel("msl120").address,
      "Example garage door": byModel("msg100").address,
      "Example roller shutter": byModel("mrs100").address,
      fallback: byModel("mss310").address,
    };
    const fresh = fleet.devices.find((d) => d.mode === "ap")!;
    const imported = await page.evaluate(
      ({ targets, key, freshAddress }) => {
        type N = Record<string, unknown> & {
          id: string;
          type: string;
          credentials?: Record<string, string>;
          changed?: boolean;
          dirty?: boolean;
        };
        const RED = (
          window as unknown as {
            RED: {
              nodes: { eachConfig(f: (n: N) => void): void; eachNode(f: (n: N) => void): void; dirty(d: boolean): void };
              editor: { validateNode(n: N): void };
            };
          }
        ).RED;
        const seen: string[] = [];
        RED.nodes.eachConfig((n) => {
          if (n.type === "meross-config" && String(n.name).startsWith("Example ")) {
            n.host = (targets as Record<string, string>)[String(n.name)] ?? targets.fallback;
            n.credentials = { key };
            n.changed = true;
            seen.push(String(n.name));
          }
          // An example's embedded broker would listen on 8883 on every interface; here: any free port on loopback.
          if (n.type === "meross-broker" && n.id !== "demo-broker")
            Object.assign(n, { port: "0", bindHost: "127.0.0.1", certHost: "127.0.0.1", changed: true });
        });
        RED.nodes.eachNode((n) => {
          if (n.type === "meross-onboard" && n.address === "10.10.10.1")
            Object.assign(n, { address: freshAddress, changed: true, dirty: true });
        });
        // Shipped without an address, they were flagged as not configured; the editor checks them again after an edit.
        RED.nodes.eachConfig((n) => RED.editor.validateNode(n));
        RED.nodes.eachNode((n) => RED.editor.validateNode(n));
        RED.nodes.dirty(true);
        return seen;
      },
      { targets, key: KEY, freshAddress: fresh.address },
    );
    // One device per example meross-config: every one was imported and pointed at the demo fleet.
    const exampleDevices = names.flatMap((n) =>
      (JSON.parse(fs.readFileSync(path.join(ROOT, "examples", `${n}.json`), "utf8")) as Array<{ type: string }>).filter(
        (x) => x.type === "meross-config",
      ),
    );
    assert.equal(imported.length, exampleDevices.length, `example devices in the workspace: ${imported.join(", ")}`);

    const commands: string[] = [];
    const onRequest = (r: { method: string; namespace: string }) => {
      // The broker's cloud role sets a (re)connecting device's clock (docs/protocol.md §5.4): bookkeeping, not a command.
      if (r.method !== "GET" && !SESSION_NAMESPACES.has(r.namespace)) commands.push(`${r.method} ${r.namespace}`);
    };
    const changes: string[] = [];
    const onChange = fleet.devices.map((d) => () => changes.push(d.name));
    fleet.devices.forEach((d, i) => {
      d.on("request", onRequest);
      d.on("change", onChange[i]);
    });
    try {
      const started = (red.log().match(/Started flows/g) ?? []).length;
      await page.locator("#red-ui-header-button-deploy").click();
      await page
        .locator(".red-ui-notification", { hasText: /deployed/i })
        .first()
        .waitFor({ timeout: 20000 });
      await red.waitForLog(new RegExp(`(Started flows[\\s\\S]*){${started + 1}}`));
      // Start-up is over once every device is read; what the nodes' timers do later (a start delay,
      // a sweep, polls) is tested on a fake clock in test/nodes/quiet-start_spec.ts.
      await devicesRead(red, (await red.get("/flows")).json() as Array<Record<string, unknown>>);
    } finally {
      fleet.devices.forEach((d, i) => {
        d.off("request", onRequest);
        d.off("change", onChange[i]);
      });
    }
    assert.deepEqual(commands, [], `nodes sent commands nobody clicked: ${commands.join(", ")}`);
    assert.deepEqual(changes, [], `devices changed with nobody clicking: ${changes.join(", ")}`);
    assert.doesNotMatch(red.log(), /\[error\]|Unknown type|Waiting for missing types/i);
  });

  it("shows the error in the example's 'Why it failed' debug (a colour for a white-only bulb)", async () => {
    await page.evaluate(() => {
      const RED = (window as unknown as { RED: { sidebar: { show(id: string): void }; workspaces: { show(id: string): void } } }).RED;
      RED.workspaces.show("ex-bulb-tab");
      RED.sidebar.show("debug");
    });
    await page.locator("#red-ui-workspace-chart g#ex-bulb-orange .red-ui-flow-node-button").click();
    const msg = page.locator(".red-ui-debug-msg", { hasText: "Why it failed" }).first();
    await msg.waitFor({ timeout: 20000 });
    const text = await msg.innerText();
    // A plain sentence, starting with the device's name, not an object to expand.
    assert.match(text, /msg\.error\.message/, `the debug does not show msg.error.message: ${text}`);
    assert.match(text, /Example bulb[^:]*: .*This bulb has no/, `the error has no sentence: ${text}`);
  });

  it("runs the motion example against the demo fleet: motion switches the bulb on at a time-of-day brightness, the door the plug", async () => {
    const byModel = (m: string) => fleet.devices.find((d) => d.model.name === m && d.mode === "normal")!;
    const bulb = byModel("msl120");
    const plug = byModel("mss310");
    const until = async (what: string, ok: () => boolean): Promise<void> => {
      for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(ok(), `never happened: ${what}`);
    };
    await page.evaluate(() =>
      (window as unknown as { RED: { workspaces: { show(id: string): void } } }).RED.workspaces.show("ex-motion-tab"),
    );
    const click = (id: string) => page.locator(`#red-ui-workspace-chart g#${id} .red-ui-flow-node-button`).click();

    await click("ex-motion-inject");
    await until(
      "the bulb is on at 100, 40 or 5 %",
      () => bulb.state.channels[0]?.on === true && [100, 40, 5].includes(bulb.state.light?.luminance ?? -1),
    );
    await click("ex-door-open");
    await until("the plug is on after the door opened", () => plug.state.channels[0]?.on === true);
    await click("ex-door-closed");
    await until("the plug is off after the door closed", () => plug.state.channels[0]?.on === false);
  });

  it("raised no error in the page", () => {
    assert.deepEqual(pageErrors, []);
  });
});
