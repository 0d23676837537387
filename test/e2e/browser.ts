/**
 * What every browser test starts with: the demo fleet and flow of `npm start` on free ports, a
 * real Node-RED, and the editor open in a headless Chromium (a throwaway profile), with the
 * page's uncaught errors collected for the tests to assert on.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import type { Fleet } from "../../src/simulator/fleet";
import { startDemo } from "../../src/simulator/demo";
import { demoFlow, setupFromFleet, type DemoSetup } from "../../scripts/demo-flow";
import { freePort, startNodeRed, type NodeRed } from "./harness";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_HINT = "install it with `apt-get install chromium` (or set CHROMIUM_PATH)";

export interface DemoEditor {
  fleet: Fleet;
  setup: DemoSetup;
  red: NodeRed;
  ctx: BrowserContext;
  page: Page;
  /** Uncaught errors of the editor page, in order. */
  pageErrors: string[];
  stop(): Promise<void>;
}

export interface DemoEditorOptions {
  key: string;
  wifiPassword: string;
  /** Changes the fleet before the flow is made from it (an extra network, …). */
  prepare?: (fleet: Fleet) => void;
  /** A selector that shows the editor is ready for this test. */
  ready: string;
}

export async function startDemoEditor(o: DemoEditorOptions): Promise<DemoEditor> {
  const brokerPort = await freePort();
  const fleet = await startDemo({ key: o.key, gateway: { host: "127.0.0.1", port: brokerPort }, userId: "0" });
  let red: NodeRed | undefined;
  let ctx: BrowserContext | undefined;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "meross-chrome-"));
  const stop = async (): Promise<void> => {
    await ctx?.close();
    fs.rmSync(profile, { recursive: true, force: true });
    await red?.stop();
    await fleet.stop();
  };
  try {
    o.prepare?.(fleet);
    const setup = setupFromFleet(fleet, { key: o.key, wifiPassword: o.wifiPassword, brokerPort });
    const demo = demoFlow(setup);
    red = await startNodeRed({ flows: demo.flows, credentials: demo.credentials });
    const { chromium } = await import("playwright-core");
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1500, height: 950 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(red.url + "/");
    await page.waitForSelector(o.ready, { timeout: 60000 });
    return { fleet, setup, red, ctx, page, pageErrors, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
