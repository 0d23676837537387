/**
 * The demo flow `npm start` deploys: every node of the package wired to the simulated
 * fleet and to an embedded MQTT broker, so a newcomer can click an inject and watch the
 * status page change, press a device's button there and watch the live state arrive.
 * Credentials (device key, Wi-Fi password) go to flows_cred.json, never into the flow.
 */
import type { Fleet } from "../src/simulator/fleet";

export interface DemoDevice {
  name: string;
  model: string;
  address: string;
  uuid: string;
}

export interface DemoSetup {
  /** Configured devices, by role. */
  bulb: DemoDevice;
  whiteBulb: DemoDevice;
  plug: DemoDevice;
  legacyPlug: DemoDevice;
  strip: DemoDevice;
  encryptedPlug: DemoDevice;
  encryptedLamp: DemoDevice;
  /** The device waiting in access-point mode. */
  fresh: { address: string; ssid: string; wifiPassword: string };
  /** One key for the whole demo fleet (a real home would have one per account). */
  key: string;
  brokerPort: number;
}

type FlowNode = Record<string, unknown> & { id: string; type: string };

/** The demo's roles, found in a started demo fleet (src/simulator/demo.ts) by model. */
export function setupFromFleet(fleet: Fleet, opts: { key: string; wifiPassword: string; brokerPort: number }): DemoSetup {
  const byModel = (model: string): DemoDevice => {
    const d = fleet.devices.find((x) => x.model.name === model && x.mode === "normal");
    if (!d) throw new Error(`the demo fleet has no configured ${model}`);
    return { name: d.name ?? d.model.name, model: d.model.name, address: d.address, uuid: d.uuid };
  };
  const fresh = fleet.devices.find((d) => d.mode === "ap");
  if (!fresh) throw new Error("the demo fleet has no unconfigured device");
  const ssid = fresh.networks[0]?.ssid ?? "HomeNet";
  fresh.expectWifiPassword(ssid, opts.wifiPassword);
  return {
    bulb: byModel("msl120"),
    whiteBulb: byModel("msl100"),
    plug: byModel("mss310"),
    legacyPlug: byModel("mss210"),
    strip: byModel("mss425"),
    encryptedPlug: byModel("mss110"),
    encryptedLamp: byModel("hp110a"),
    fresh: { address: fresh.address, ssid, wifiPassword: opts.wifiPassword },
    key: opts.key,
    brokerPort: opts.brokerPort,
  };
}

const TAB = "meross-demo-tab";
export const DEMO_BROKER_ID = "demo-broker";

function inject(id: string, name: string, payload: unknown, x: number, y: number, wire: string): FlowNode {
  const isString = typeof payload === "string";
  return {
    id, type: "inject", z: TAB, name,
    props: [{ p: "payload" }],
    repeat: "", crontab: "", once: false, onceDelay: 0.1, topic: "",
    payload: isString ? payload : JSON.stringify(payload),
    payloadType: isString ? "str" : typeof payload === "boolean" ? "bool" : typeof payload === "number" ? "num" : "json",
    x, y, wires: [[wire]],
  };
}

function debug(id: string, name: string, x: number, y: number): FlowNode {
  return { id, type: "debug", z: TAB, name, active: true, tosidebar: true, console: false, tostatus: true, complete: "payload", targetType: "msg", statusVal: "", statusType: "auto", x, y, wires: [] };
}

export function configId(role: string): string {
  return `demo-cfg-${role}`;
}

export function demoFlow(setup: DemoSetup): { flows: FlowNode[]; credentials: Record<string, Record<string, string>> } {
  const roles = ["bulb", "whiteBulb", "plug", "legacyPlug", "strip", "encryptedPlug", "encryptedLamp"] as const;
  const configs: FlowNode[] = roles.map((role) => {
    const d = setup[role];
    return { id: configId(role), type: "meross-config", name: d.name, host: d.address, userId: "0", transport: "auto", broker: DEMO_BROKER_ID, uuid: d.uuid, encryption: "auto" };
  });
  const flows: FlowNode[] = [
    { id: TAB, type: "tab", label: "Meross demo", disabled: false, info: "Simulated Meross devices; open the status page printed by npm start to watch them." },
    {
      id: "demo-comment", type: "comment", z: TAB, name: "Click an inject button, then watch the simulator's status page",
      info: "These nodes talk to simulated devices on 127.0.0.1, over MQTT through the embedded broker when the device is connected to it and over HTTP otherwise. To use a real device, open a meross-config node and enter its IP address and key.",
      x: 270, y: 40, wires: [],
    },
    {
      id: DEMO_BROKER_ID, type: "meross-broker", name: "Embedded broker", mode: "embedded", port: String(setup.brokerPort),
      bindHost: "127.0.0.1", certHost: "127.0.0.1", allowAnonymous: false, url: "", ca: "", username: "", rejectUnauthorized: "",
    },
    ...configs,

    { id: "demo-light-rgb", type: "meross-light", z: TAB, name: setup.bulb.name, device: configId("bulb"), x: 440, y: 120, wires: [["demo-debug-rgb"]] },
    inject("demo-inj-red", "Red", "#ff0000", 150, 100, "demo-light-rgb"),
    inject("demo-inj-blue", "Blue at 40%", { rgb: "#0050ff", brightness: 40 }, 150, 140, "demo-light-rgb"),
    inject("demo-inj-warm", "Warm white", "2700K", 150, 180, "demo-light-rgb"),
    inject("demo-inj-rgb-off", "Off", "off", 150, 220, "demo-light-rgb"),
    debug("demo-debug-rgb", "Bulb state", 700, 120),

    { id: "demo-light-white", type: "meross-light", z: TAB, name: setup.whiteBulb.name, device: configId("whiteBulb"), x: 440, y: 300, wires: [["demo-debug-white"]] },
    inject("demo-inj-dim", "Dim to 20", 20, 150, 280, "demo-light-white"),
    inject("demo-inj-cool", "Cool white", "6500K", 150, 320, "demo-light-white"),
    debug("demo-debug-white", "Lamp state", 700, 300),

    { id: "demo-toggle", type: "meross-toggle", z: TAB, name: setup.plug.name, device: configId("plug"), channel: "0", x: 440, y: 400, wires: [["demo-debug-plug"]] },
    inject("demo-inj-plug-toggle", "Toggle plug", "toggle", 150, 380, "demo-toggle"),
    inject("demo-inj-plug-read", "Read plug", "", 150, 420, "demo-toggle"),
    debug("demo-debug-plug", "Plug on?", 700, 400),

    { id: "demo-request", type: "meross-request", z: TAB, name: "Read power", device: configId("plug"), method: "GET", namespace: "Appliance.Control.Electricity", x: 440, y: 480, wires: [["demo-debug-power"]] },
    inject("demo-inj-power", "Power", { electricity: {} }, 150, 480, "demo-request"),
    debug("demo-debug-power", "Electricity", 700, 480),

    { id: "demo-toggle-legacy", type: "meross-toggle", z: TAB, name: setup.legacyPlug.name, device: configId("legacyPlug"), channel: "0", x: 440, y: 540, wires: [["demo-debug-more"]] },
    inject("demo-inj-legacy", "Toggle old plug", "toggle", 160, 540, "demo-toggle-legacy"),
    { id: "demo-toggle-strip", type: "meross-toggle", z: TAB, name: `${setup.strip.name} (socket 3)`, device: configId("strip"), channel: "2", x: 460, y: 580, wires: [["demo-debug-more"]] },
    inject("demo-inj-strip", "Toggle socket 3", "toggle", 160, 580, "demo-toggle-strip"),
    { id: "demo-toggle-enc", type: "meross-toggle", z: TAB, name: setup.encryptedPlug.name, device: configId("encryptedPlug"), channel: "0", x: 460, y: 620, wires: [["demo-debug-more"]] },
    inject("demo-inj-enc", "Toggle encrypted plug", "toggle", 170, 620, "demo-toggle-enc"),
    { id: "demo-light-enc", type: "meross-light", z: TAB, name: setup.encryptedLamp.name, device: configId("encryptedLamp"), x: 460, y: 660, wires: [["demo-debug-more"]] },
    inject("demo-inj-enc-lamp", "Orange lamp", "orange", 160, 660, "demo-light-enc"),
    debug("demo-debug-more", "More devices", 720, 600),

    {
      id: "demo-state-comment", type: "comment", z: TAB, name: "Live state: press a device's button on the status page",
      info: "meross-state sends every change a device pushes over MQTT (button presses, other apps), within milliseconds.",
      x: 250, y: 720, wires: [],
    },
    { id: "demo-state", type: "meross-state", z: TAB, name: "Every device", broker: DEMO_BROKER_ID, pollInterval: "0", x: 180, y: 760, wires: [["demo-debug-state"]] },
    debug("demo-debug-state", "Pushed state", 420, 760),

    {
      id: "demo-onboard-comment", type: "comment", z: TAB, name: "Onboarding: an unconfigured device in access-point mode",
      info: "A factory-fresh Meross device opens its own Wi-Fi network (Meross_XX_xxxx) and answers at 10.10.10.1. Here a simulated one stands in for it. Press Scan in the node's dialog, pick a network, then click Onboard: the node waits until the device logs in to the embedded broker.",
      x: 280, y: 820, wires: [],
    },
    {
      id: "demo-onboard", type: "meross-onboard", z: TAB, name: "Onboard new device",
      address: setup.fresh.address, ssid: setup.fresh.ssid, bssid: "", channel: "", encryption: "", cipher: "",
      mqttHost: "127.0.0.1", mqttPort: String(setup.brokerPort), userId: "0", broker: DEMO_BROKER_ID, timeout: "60",
      x: 440, y: 880, wires: [["demo-debug-onboard"]],
    },
    inject("demo-inj-scan", "Scan", "scan", 150, 860, "demo-onboard"),
    inject("demo-inj-onboard", "Onboard", "", 150, 900, "demo-onboard"),
    debug("demo-debug-onboard", "Onboarding log", 700, 880),
  ];
  const credentials: Record<string, Record<string, string>> = Object.fromEntries(roles.map((role) => [configId(role), { key: setup.key }]));
  credentials["demo-onboard"] = { wifiPassword: setup.fresh.wifiPassword, key: setup.key };
  return { flows, credentials };
}
