import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { CHROMIUM, CHROMIUM_HINT, startDemoEditor, type DemoEditor } from "./browser";
import type { Fleet } from "../../src/simulator/fleet";
import type { SimulatedDevice } from "../../src/simulator";
import { DEMO_BROKER_ID } from "../../scripts/demo-flow";
import { requireProgram, type NodeRed } from "./harness";

const KEY = "demo-key";

interface DebugMsg {
  name?: string;
  msg?: string;
  format?: string;
}

/**
 * What a new user does with an example, in the editor in a real headless Chromium after
 * `npm start`: import it from the menu, open one of its nodes, open its device with the
 * pencil, pick the demo's broker and a device from "Devices on the broker", type the key,
 * deploy, click its buttons, and see what the example's name promises on the simulated
 * device. Nothing is pointed at a device by editing the flow's JSON.
 */
describe("a new user's path through the examples, in a real browser", function () {
  this.timeout(240000);
  let fleet: Fleet;
  let red: NodeRed;
  let env: DemoEditor | undefined;
  let page: Page;
  let pageErrors: string[] = [];

  before(async function () {
    if (!requireProgram(this, CHROMIUM, "Chromium", CHROMIUM_HINT)) return;
    env = await startDemoEditor({
      key: KEY,
      wifiPassword: "pw-12345678",
      ready: "#red-ui-palette .red-ui-palette-node",
    });
    ({ fleet, red, page, pageErrors } = env);
    // What the debug sidebar receives, kept for the assertions (Node-RED's own editor channel).
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
    await env?.stop();
  });

  const byModel = (m: string): SimulatedDevice => fleet.devices.find((d) => d.model.name === m && d.mode === "normal")!;
  const until = async (what: string, ok: () => boolean | Promise<boolean>, tries = 300): Promise<void> => {
    for (let i = 0; i < tries && !(await ok()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(await ok(), `never happened: ${what}`);
  };
  const debugFrom = async (name: string): Promise<DebugMsg[]> =>
    page.evaluate((n) => (window as unknown as { merossDebug: DebugMsg[] }).merossDebug.filter((m) => m.name === n), name);
  const click = (id: string) => page.locator(`#red-ui-workspace-chart g#${id} .red-ui-flow-node-button`).click();
  const simPost = async (device: SimulatedDevice, action: string, query: string): Promise<void> => {
    // As the status page's own buttons do: the simulator refuses a POST without this header (no cross-site requests).
    const res = await fetch(`${fleet.statusUrl}api/devices/${device.uuid}/${action}?${query}`, {
      method: "POST",
      headers: { "X-Meross-Simulator": "1" },
    });
    assert.equal(res.status, 200, await res.text());
  };

  /** Import → Examples → node-red-contrib-meross-local → `name`, then show its tab. */
  async function importExample(name: string, tabId: string): Promise<void> {
    await page.locator("#red-ui-header-button-sidemenu").click();
    await page.locator("#menu-item-import").click();
    await page.locator('#red-ui-clipboard-dialog-import-tabs a[href="#red-ui-clipboard-dialog-import-tab-examples"]').click();
    const tab = page.locator("#red-ui-clipboard-dialog-import-tab-examples");
    const file = tab.locator(".red-ui-treeList-label", { hasText: new RegExp(`^\\s*${name}\\s*$`) }).first();
    if (!(await file.isVisible()))
      await tab.locator(".red-ui-treeList-label", { hasText: "node-red-contrib-meross-local" }).first().click();
    await file.click();
    await page.locator("#red-ui-clipboard-dialog-ok").click();
    await page.locator("#red-ui-clipboard-dialog").waitFor({ state: "hidden" });
    await page.waitForFunction(
      (id) => !!(window as unknown as { RED: { nodes: { workspace(id: string): unknown } } }).RED.nodes.workspace(id),
      tabId,
    );
    await page.evaluate((id) => (window as unknown as { RED: { workspaces: { show(id: string): void } } }).RED.workspaces.show(id), tabId);
  }

  /**
   * Opens node `nodeId`, its device with the pencil, and points that device at `device` the
   * way the README says: pick the demo broker, then the device from "Devices on the broker",
   * type the key.
   */
  async function pointAt(nodeId: string, device: SimulatedDevice): Promise<void> {
    await page.locator(`#red-ui-workspace-chart g#${nodeId}`).dblclick();
    await page.waitForSelector(".red-ui-tray #node-input-name");
    await page.locator("#node-input-btn-device-edit").click();
    await page.waitForSelector("#node-config-input-host");
    // As shipped: no address, and every dropdown shows a choice (none blank).
    assert.equal(await page.locator("#node-config-input-host").inputValue(), "");
    assert.equal(await page.locator("#node-config-input-transport").inputValue(), "http");
    assert.equal(await page.locator("#node-config-input-encryption").inputValue(), "auto");
    await page.locator("#node-config-input-broker").selectOption(DEMO_BROKER_ID);
    assert.equal(await page.locator("#node-config-input-transport").inputValue(), "auto", "picking a broker did not switch to Auto");
    // The list is what the broker holds when the button is pressed: a demo device still
    // retrying its first login (its back-off grew while Node-RED was starting) is not on it yet.
    await until(`${device.model.name} logged in to the demo broker`, async () =>
      (await red.get(`/meross-broker/${DEMO_BROKER_ID}/devices`)).body.includes(device.uuid),
    );
    await page.locator("#node-config-meross-discover").click();
    const entry = page.locator(`.meross-config-device[data-uuid="${device.uuid}"]`);
    await entry.waitFor({ timeout: 20000 });
    await entry.click();
    assert.equal(await page.locator("#node-config-input-uuid").inputValue(), device.uuid);
    await page.locator("#node-config-input-key").fill(KEY);
    await page.locator("#node-config-dialog-ok").click();
    await page.waitForSelector("#node-config-input-host", { state: "detached" });
    await page.locator("#node-dialog-ok").click();
    await page.waitForSelector(".red-ui-tray #node-input-name", { state: "detached" });
  }

  async function deploy(confirmUnconfigured = false): Promise<void> {
    const started = (red.log().match(/Started flows/g) ?? []).length;
    await page.locator("#red-ui-header-button-deploy").click();
    if (confirmUnconfigured) {
      // Node-RED asks before deploying nodes it finds not configured (here: on purpose).
      const confirm = page.getByRole("button", { name: "Confirm deploy" });
      // isVisible() does not wait: give the dialog time to open.
      const asked = await confirm.waitFor({ state: "visible", timeout: 5000 }).then(
        () => true,
        () => false,
      );
      if (asked) await confirm.click();
    }
    // Examples imported earlier are pointed at devices too; a confirm dialog would mean one was left unconfigured.
    await page
      .locator(".red-ui-notification:visible", { hasText: /deployed/i })
      .first()
      .waitFor({ timeout: 20000 });
    await red.waitForLog(new RegExp(`(Started flows[\\s\\S]*){${started + 1}}`));
    // Hidden (Node-RED removes them itself later); the next deploy waits for a visible one of its own.
    await page.locator(".red-ui-notification").evaluateAll((els) => els.forEach((e) => ((e as HTMLElement).style.display = "none")));
  }

  it("Eco when a window opens: the thermostat goes to eco with the window and stays there while it is open", async () => {
    const t = byModel("mts200b");
    await importExample("climate-eco-when-window-opens", "ex-climate-tab");
    await pointAt("ex-climate-node", t);
    await deploy();
    await click("ex-climate-read");
    await until("the thermostat's reading in the debug sidebar", async () => (await debugFrom("Thermostat")).length > 0);
    assert.notEqual(t.snapshot().climate?.mode, "eco", "the thermostat starts outside eco");

    const modes: string[] = [];
    const onChange = (): void => void modes.push(String(t.snapshot().climate?.mode));
    t.on("change", onChange);
    try {
      await simPost(t, "window", "open=1");
      await until("eco after the window opened", () => t.snapshot().climate?.mode === "eco");
      const fromEco = modes.length;
      // A Read while the window is open made the thermostat flip heat/eco before the fix: click it now.
      // Whatever its answer sets off in the flow (window changed? → eco/heat → the node) reaches the
      // device before a second Read is answered: two more lines in the debug sidebar show it has landed.
      const shown = (await debugFrom("Thermostat")).length;
      await click("ex-climate-read");
      await until("the Read's answer in the debug sidebar", async () => (await debugFrom("Thermostat")).length > shown);
      await click("ex-climate-read");
      await until("a second Read's answer in the debug sidebar", async () => (await debugFrom("Thermostat")).length > shown + 1);
      assert.equal(t.snapshot().climate?.mode, "eco");
      assert.deepEqual(
        modes.slice(fromEco).filter((m) => m !== "eco"),
        [],
        `left eco with the window open: ${modes.join(" → ")}`,
      );
      await simPost(t, "window", "open=0");
      await until("back to heat after the window closed", () => t.snapshot().climate?.mode === "heat");
    } finally {
      t.off("change", onChange);
    }
  });

  it("Garage: notify if open late: a door opened by hand is never closed by the flow", async () => {
    const g = byModel("msg100");
    const door = (): string => String(g.snapshot().covers?.[0]?.state);
    await importExample("garage-notify-if-open", "ex-garage-tab");
    await pointAt("ex-garage-cover", g);
    await deploy();
    await click("ex-garage-check");
    await until("the door state in the debug sidebar", async () => (await debugFrom("Door state")).length > 0);
    assert.equal(door(), "closed");

    const commands: string[] = [];
    const onRequest = (r: { method: string; namespace: string }): void => {
      if (r.method === "SET" && /GarageDoor/.test(r.namespace)) commands.push(r.namespace);
    };
    g.on("request", onRequest);
    try {
      // Someone opens the door with the wall button, at a time that is not the evening check.
      await simPost(g, "press", "channel=0");
      await until("the door opened by hand", () => door() === "open");
      // "Check now" twice: the first answer (open) goes through the flow, whatever it or the opening's
      // pushes set off reaches the door before the second answer comes back.
      const opened = async (): Promise<number> =>
        (await debugFrom("Door state")).filter((m) => /"state":\s*"open"/.test(String(m.msg))).length;
      const seen = await opened();
      await click("ex-garage-check");
      await until("a check answering open in the debug sidebar", async () => (await opened()) > seen);
      await click("ex-garage-check");
      await until("a second check answering open", async () => (await opened()) > seen + 1);
      assert.equal(door(), "open", "the flow moved the door");
      assert.deepEqual(commands, [], "the flow sent the door a command");
    } finally {
      g.off("request", onRequest);
      await simPost(g, "press", "channel=0");
    }
  });

  it("Raw requests: 'Power now' reads the plug's power as a number", async () => {
    const plug = byModel("mss310");
    await importExample("raw-requests", "ex-request-tab");
    await pointAt("ex-request-any", plug);
    await deploy();
    await click("ex-request-power");
    await until("a reply in the debug sidebar", async () => (await debugFrom("Reply payload")).length > 0);
    const errors = await debugFrom("Why it failed");
    assert.deepEqual(errors, [], `Power now failed: ${errors.map((e) => e.msg).join("; ")}`);
    const [reply] = await debugFrom("Reply payload");
    const payload = JSON.parse(String(reply.msg)) as { electricity?: { power?: unknown } };
    assert.equal(typeof payload.electricity?.power, "number", `no power reading: ${reply.msg}`);
  });

  /** Pairs of status lines on the shown tab that overlap each other or another node. */
  const overlaps = async (): Promise<string[]> => {
    type Rect = { left: number; right: number; top: number; bottom: number };
    // No named functions inside evaluate(): the test's transpiler would wrap them in a helper the page lacks.
    const found = await page.evaluate(() =>
      Array.from(document.querySelectorAll("#red-ui-workspace-chart g.red-ui-flow-node-group")).map((g) => {
        const body = g.querySelector("rect.red-ui-flow-node");
        const label = g.querySelector(".red-ui-flow-node-status-label");
        const text = (label?.textContent ?? "").trim();
        return {
          id: g.id,
          body: body ? (body.getBoundingClientRect().toJSON() as Rect) : undefined,
          status: label && text ? { text, r: label.getBoundingClientRect().toJSON() as Rect } : undefined,
        };
      }),
    );
    const hit = (a: Rect, b: Rect): boolean => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const out: string[] = [];
    for (const a of found) {
      if (!a.status) continue;
      for (const b of found) {
        if (b === a) continue;
        if (b.status && a.id < b.id && hit(a.status.r, b.status.r)) out.push(`"${a.status.text}" / "${b.status.text}"`);
        if (b.body && hit(a.status.r, b.body)) out.push(`"${a.status.text}" / node ${b.id}`);
      }
    }
    return out;
  };

  for (const ex of [
    {
      file: "energy-dashboard",
      tab: "ex-energy-tab",
      node: "ex-energy-power",
      clicks: ["ex-energy-read", "ex-energy-read-total", "ex-energy-info"],
    },
    { file: "live-state", tab: "ex-live-tab", node: "ex-live-state", clicks: ["ex-live-start", "ex-live-on"] },
  ]) {
    it(`${ex.file}: no status line overlaps another or a node once its buttons ran`, async () => {
      await importExample(ex.file, ex.tab);
      await pointAt(ex.node, byModel("mss310"));
      await deploy();
      for (const id of ex.clicks) await click(id);
      await until("every status line filled in", async () => {
        const texts = await page
          .locator("#red-ui-workspace-chart .red-ui-flow-node-status-label")
          .evaluateAll((els) => els.map((e) => e.textContent ?? ""));
        return texts.filter((t) => t.trim()).length >= ex.clicks.length + 1 && !texts.some((t) => /connecting/.test(t));
      });
      assert.deepEqual(await overlaps(), []);
    });
  }

  it("shows a hub's sub-devices on the status page one per line, each id apart from its details", async () => {
    const hub = byModel("msh300");
    const status = await env!.ctx.newPage();
    try {
      await status.goto(fleet.statusUrl);
      const rows = status.locator(`[data-testid^="sub-${hub.uuid}-"]`);
      await rows.first().waitFor();
      const subs = hub.snapshot().hub ?? [];
      assert.ok(subs.length >= 2, "the demo hub has several sub-devices");
      assert.equal(await rows.count(), subs.length);
      const boxes = await rows.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as { top: number; bottom: number }));
      for (let i = 1; i < boxes.length; i++) assert.ok(boxes[i].top >= boxes[i - 1].bottom, `sub-device ${i + 1} is not below ${i}`);
      for (const [i, sub] of subs.entries()) assert.equal(await rows.nth(i).locator("b").innerText(), sub.id);
    } finally {
      await status.close();
    }
  });

  it("names a broker's users in its dialog and on delete; after a deploy they say 'broker configuration missing: pick one'", async () => {
    const editBroker = () =>
      page.evaluate((id) => {
        (window as unknown as { RED: { editor: { editConfig(n: string, t: string, id: string): void } } }).RED.editor.editConfig(
          "",
          "meross-broker",
          id,
        );
      }, DEMO_BROKER_ID);
    await editBroker();
    await page.waitForSelector("#meross-broker-refresh");
    const users = page.locator("#meross-broker-users");
    assert.equal(await users.isVisible(), true, "the dialog does not say who uses the broker");
    assert.match(await users.innerText(), /Used by \d+: .*Coffee machine plug/);
    await page.locator(".red-ui-tray").last().getByRole("button", { name: "Delete", exact: true }).click();
    const warning = page.locator(".red-ui-notification", { hasText: "The deleted broker was used by" }).first();
    await warning.waitFor({ timeout: 10000 });
    assert.match(await warning.innerText(), /Coffee machine plug/);
    await page.waitForSelector("#meross-broker-refresh", { state: "detached" });
    await page.evaluate(() =>
      (window as unknown as { RED: { workspaces: { show(id: string): void } } }).RED.workspaces.show("meross-demo-tab"),
    );
    await deploy(true);
    await page
      .locator("#red-ui-workspace-chart g#demo-toggle .red-ui-flow-node-status-label", {
        hasText: "broker configuration missing: pick one",
      })
      .waitFor({ timeout: 20000 });
  });

  it("raised no error in the page", () => {
    assert.deepEqual(pageErrors, []);
  });
});
