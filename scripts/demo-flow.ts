/**
 * The demo flow `npm start` deploys: every node of the package wired to the simulated
 * fleet, so a newcomer can click an inject and watch the status page change.
 * Credentials (device keys, Wi-Fi password) go to flows_cred.json, never into the flow.
 */
export interface DemoDevice {
  id: string;
  name: string;
  address: string;
  key: string;
  uuid: string;
}

export interface DemoFleet {
  rgbBulb: DemoDevice;
  whiteBulb: DemoDevice;
  plug: DemoDevice;
  unconfigured: { address: string; ssid: string; wifiPassword: string; key: string };
}

type FlowNode = Record<string, unknown> & { id: string; type: string };

const TAB = "meross-demo-tab";

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

export function demoFlow(fleet: DemoFleet): { flows: FlowNode[]; credentials: Record<string, Record<string, string>> } {
  const cfg = (d: DemoDevice): FlowNode => ({ id: d.id, type: "meross-config", name: d.name, host: d.address, userId: "0" });
  const flows: FlowNode[] = [
    { id: TAB, type: "tab", label: "Meross demo", disabled: false, info: "Simulated Meross devices; open the status page printed by npm start to watch them." },
    {
      id: "demo-comment", type: "comment", z: TAB, name: "Click an inject button, then watch the simulator's status page",
      info: "These nodes talk to simulated devices on 127.0.0.1. To use a real device, open a meross-config node and enter its IP address and key.",
      x: 260, y: 40, wires: [],
    },
    cfg(fleet.rgbBulb), cfg(fleet.whiteBulb), cfg(fleet.plug),

    { id: "demo-light-rgb", type: "meross-light", z: TAB, name: "RGB bulb", device: fleet.rgbBulb.id, x: 420, y: 120, wires: [["demo-debug-rgb"]] },
    inject("demo-inj-red", "Red", "#ff0000", 150, 100, "demo-light-rgb"),
    inject("demo-inj-blue", "Blue at 40%", { rgb: "#0050ff", brightness: 40 }, 150, 140, "demo-light-rgb"),
    inject("demo-inj-warm", "Warm white", "2700K", 150, 180, "demo-light-rgb"),
    inject("demo-inj-rgb-off", "Off", "off", 150, 220, "demo-light-rgb"),
    debug("demo-debug-rgb", "RGB bulb state", 650, 120),

    { id: "demo-light-white", type: "meross-light", z: TAB, name: "White bulb", device: fleet.whiteBulb.id, x: 420, y: 300, wires: [["demo-debug-white"]] },
    inject("demo-inj-dim", "Dim to 20", 20, 150, 280, "demo-light-white"),
    inject("demo-inj-cool", "Cool white", "6500K", 150, 320, "demo-light-white"),
    debug("demo-debug-white", "White bulb state", 650, 300),

    { id: "demo-toggle", type: "meross-toggle", z: TAB, name: "Plug", device: fleet.plug.id, channel: "0", x: 410, y: 400, wires: [["demo-debug-plug"]] },
    inject("demo-inj-plug-toggle", "Toggle plug", "toggle", 150, 380, "demo-toggle"),
    inject("demo-inj-plug-read", "Read plug", "", 150, 420, "demo-toggle"),
    debug("demo-debug-plug", "Plug on?", 650, 400),

    { id: "demo-request", type: "meross-request", z: TAB, name: "Read power", device: fleet.plug.id, method: "GET", namespace: "Appliance.Control.Electricity", x: 420, y: 480, wires: [["demo-debug-power"]] },
    inject("demo-inj-power", "Power", { electricity: {} }, 150, 480, "demo-request"),
    debug("demo-debug-power", "Electricity", 650, 480),

    {
      id: "demo-onboard-comment", type: "comment", z: TAB, name: "Onboarding: an unconfigured device in access-point mode",
      info: "A factory-fresh Meross device opens its own Wi-Fi network (Meross_XX_xxxx) and answers at 10.10.10.1. Here a simulated one stands in for it. Press Scan in the node's dialog, pick a network, then click Onboard.",
      x: 270, y: 560, wires: [],
    },
    {
      id: "demo-onboard", type: "meross-onboard", z: TAB, name: "Onboard new device",
      address: fleet.unconfigured.address, ssid: fleet.unconfigured.ssid, bssid: "", channel: "", encryption: "", cipher: "",
      mqttHost: "127.0.0.1", mqttPort: "8883", userId: "0",
      x: 430, y: 620, wires: [["demo-debug-onboard"]],
    },
    inject("demo-inj-scan", "Scan", "scan", 150, 600, "demo-onboard"),
    inject("demo-inj-onboard", "Onboard", "", 150, 640, "demo-onboard"),
    debug("demo-debug-onboard", "Onboarding log", 680, 620),
  ];
  const credentials: Record<string, Record<string, string>> = {
    [fleet.rgbBulb.id]: { key: fleet.rgbBulb.key },
    [fleet.whiteBulb.id]: { key: fleet.whiteBulb.key },
    [fleet.plug.id]: { key: fleet.plug.key },
    "demo-onboard": { wifiPassword: fleet.unconfigured.wifiPassword, key: fleet.unconfigured.key },
  };
  return { flows, credentials };
}
