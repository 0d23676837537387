import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Fleet } from "../../src/simulator/fleet";
import { injectNode, startNodeRed, type NodeRed } from "./harness";

/**
 * A flow with every node, deployed through the admin API like the editor does, then
 * exported and exercised: the device key, the Wi-Fi password, the onboarding key and the broker
 * passwords (Node-RED's and the Mosquitto admin login's) must
 * not appear in the export, flows.json, the log, any msg (debug to console), any status
 * (status node to console) or any error (catch node to console).
 */
const DEVICE_KEY = "k3y-S3cret-0f-the-bulb";
const WRONG_KEY = "wr0ng-K3y-typed-by-user";
const WIFI_PASSWORD = "w1fi-Passw0rd-home";
const ONBOARD_KEY = "n3w-Dev1ce-K3y";
const BROKER_PASSWORD = "br0ker-Passw0rd-nodered";
const ADMIN_PASSWORD = "m0squitto-Adm1n-Passw0rd";
const SECRETS = [DEVICE_KEY, WRONG_KEY, WIFI_PASSWORD, ONBOARD_KEY, BROKER_PASSWORD, ADMIN_PASSWORD];

function assertNoSecret(where: string, text: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${where} contains a secret (${s.slice(0, 4)}…)`);
}

describe("secrets never leak (real Node-RED, admin API)", function () {
  this.timeout(90000);
  let fleet: Fleet;
  let red: NodeRed;

  before(async () => {
    fleet = await Fleet.start([
      { name: "bulb", model: "msl120", host: "127.0.0.1", port: 0, key: DEVICE_KEY },
      { name: "fresh", model: "msl120", host: "127.0.0.1", port: 0, unconfigured: true },
    ]);
    red = await startNodeRed();
  });

  after(async () => {
    await red?.stop();
    await fleet?.stop();
  });

  it("keeps keys and passwords out of exports, flows.json, logs, messages, status and errors", async () => {
    const [bulb, fresh] = fleet.devices;
    const ssid = fresh.networks[0].ssid;
    fresh.expectWifiPassword(ssid, WIFI_PASSWORD);
    const z = "sec-tab";
    const dbg = (id: string) => ({
      id,
      type: "debug",
      z,
      name: id,
      active: true,
      tosidebar: false,
      console: true,
      complete: "true",
      targetType: "full",
      wires: [],
    });
    const inj = (id: string, payload: string, wire: string) => injectNode(z, id, payload, wire);
    const flows = [
      { id: z, type: "tab", label: "secrets" },
      { id: "cfg-good", type: "meross-config", name: "bulb", host: bulb.address, userId: "0", credentials: { key: DEVICE_KEY } },
      { id: "cfg-wrong", type: "meross-config", name: "bulb wrong key", host: bulb.address, userId: "0", credentials: { key: WRONG_KEY } },
      {
        id: "mosq",
        type: "meross-broker",
        name: "mosquitto",
        mode: "existing",
        url: "mqtts://127.0.0.1:1",
        username: "nodered",
        adminUser: "meross-admin",
        credentials: { password: BROKER_PASSWORD, adminPassword: ADMIN_PASSWORD },
      },
      { id: "light", type: "meross-light", z, device: "cfg-good", wires: [["out"]] },
      { id: "toggle", type: "meross-toggle", z, device: "cfg-good", channel: "0", wires: [["out"]] },
      { id: "request", type: "meross-request", z, device: "cfg-good", method: "GET", namespace: "Appliance.System.All", wires: [["out"]] },
      { id: "wrong", type: "meross-toggle", z, device: "cfg-wrong", channel: "0", wires: [["out"]] },
      {
        id: "onboard",
        type: "meross-onboard",
        z,
        address: fresh.address,
        ssid,
        bssid: "",
        channel: "",
        encryption: "",
        cipher: "",
        mqttHost: "127.0.0.1",
        mqttPort: "8883",
        userId: "0",
        credentials: { wifiPassword: WIFI_PASSWORD, key: ONBOARD_KEY },
        wires: [["out"]],
      },
      inj("i-light", "#00ff00", "light"),
      inj("i-toggle", "toggle", "toggle"),
      inj("i-request", "", "request"),
      inj("i-wrong", "on", "wrong"),
      inj("i-scan", "scan", "onboard"),
      inj("i-onboard", "", "onboard"),
      dbg("out"),
      { id: "catch", type: "catch", z, scope: null, uncaught: false, wires: [["errors"]] },
      dbg("errors"),
      { id: "status", type: "status", z, scope: null, wires: [["statuses"]] },
      dbg("statuses"),
    ];
    // Nodes without x/y are taken for config nodes by the runtime: place every tab node.
    await red.deploy(flows.map((n) => ("z" in n ? { x: 100, y: 100, ...n } : n)));

    const fire = async (id: string, expect: RegExp) => {
      const res = await red.post(`/inject/${id}`, {});
      assert.equal(res.status, 200, `inject ${id}: ${res.body}`);
      await red.waitForLog(expect, 20000);
    };
    // Debug nodes print msgs with util.inspect: `rgb: '#00ff00'`, `payload: true`.
    await fire("i-light", /rgb: '#00ff00'/);
    await fire("i-toggle", /meross-toggle|channel: 0/);
    await fire("i-request", /hardware/);
    await fire("i-wrong", /WRONG_KEY/);
    await fire("i-scan", new RegExp(ssid));
    await fire("i-onboard", /steps:/);
    await red.waitForLog(/\[debug:statuses\]/);

    // The onboarding really used the credentials, and the device now wants the new key.
    assert.equal(fresh.key, ONBOARD_KEY);

    const exported = await red.get("/flows");
    assert.equal(exported.status, 200);
    assertNoSecret("GET /flows (export)", exported.body);
    assert.match(exported.body, /meross-config/);
    assertNoSecret("flows.json", fs.readFileSync(path.join(red.userDir, "flows.json"), "utf8"));
    assertNoSecret("the Node-RED log (debug output, status, errors)", red.log());
    // The credentials did go where Node-RED keeps them, so the search above was not vacuous.
    const creds = fs.readFileSync(path.join(red.userDir, "flows_cred.json"), "utf8");
    assert.ok(creds.includes(DEVICE_KEY) && creds.includes(WIFI_PASSWORD), "credentials are stored in flows_cred.json");
    assert.ok(creds.includes(ADMIN_PASSWORD) && creds.includes(BROKER_PASSWORD), "the broker passwords are stored in flows_cred.json");
  });
});
