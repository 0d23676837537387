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
  garage: DemoDevice;
  shutter: DemoDevice;
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
    garage: byModel("msg100"),
    shutter: byModel("mrs100"),
    fresh: { address: fresh.address, ssid, wifiPassword: opts.wifiPassword },
    key: opts.key,
    brokerPort: opts.brokerPort,
  };
}

const TAB = "meross-demo-tab";
/** Vertical distance between rows: a node (30 px) plus its status line below it, with air. */
export const ROW = 70;
const INJECT_X = 170;
const NODE_X = 470;
const DEBUG_X = 760;
export const DEMO_BROKER_ID = "demo-broker";

function inject(id: string, name: string, payload: unknown, x: number, y: number, wire: string): FlowNode {
  const isString = typeof payload === "string";
  return {
    id,
    type: "inject",
    z: TAB,
    name,
    props: [{ p: "payload" }],
    repeat: "",
    crontab: "",
    once: false,
    onceDelay: 0.1,
    topic: "",
    payload: isString ? payload : JSON.stringify(payload),
    payloadType: isString ? "str" : typeof payload === "boolean" ? "bool" : typeof payload === "number" ? "num" : "json",
    x,
    y,
    wires: [[wire]],
  };
}

function debug(id: string, name: string, x: number, y: number): FlowNode {
  return {
    id,
    type: "debug",
    z: TAB,
    name,
    active: true,
    tosidebar: true,
    console: false,
    tostatus: true,
    complete: "payload",
    targetType: "msg",
    statusVal: "",
    statusType: "auto",
    x,
    y,
    wires: [],
  };
}

export function configId(role: string): string {
  return `demo-cfg-${role}`;
}

export function demoFlow(setup: DemoSetup): { flows: FlowNode[]; credentials: Record<string, Record<string, string>> } {
  const roles = ["bulb", "whiteBulb", "plug", "legacyPlug", "strip", "encryptedPlug", "encryptedLamp", "garage", "shutter"] as const;
  const configs: FlowNode[] = roles.map((role) => {
    const d = setup[role];
    return {
      id: configId(role),
      type: "meross-config",
      name: d.name,
      host: d.address,
      userId: "0",
      transport: "auto",
      broker: DEMO_BROKER_ID,
      uuid: d.uuid,
      encryption: "auto",
    };
  });
  // One row every ROW px: a node's status text sits under it and must not hide under the next row's node.
  let y = 40;
  const row = (): number => (y += ROW);
  const group = (rows: number): { ys: number[]; mid: number } => {
    const ys = Array.from({ length: rows }, () => row());
    return { ys, mid: (ys[0] + ys[ys.length - 1]) / 2 };
  };
  const comment = (id: string, name: string, info: string): FlowNode => ({
    id,
    type: "comment",
    z: TAB,
    name,
    info,
    x: 300,
    y: row(),
    wires: [],
  });

  const flows: FlowNode[] = [
    {
      id: TAB,
      type: "tab",
      label: "Meross demo",
      disabled: false,
      info: "Simulated Meross devices; open the status page printed by npm start to watch them.",
    },
    {
      id: "demo-comment",
      type: "comment",
      z: TAB,
      name: "Click an inject button, then watch the simulator's status page",
      info: "These nodes talk to simulated devices on 127.0.0.1, over MQTT through the embedded broker when the device is connected to it and over HTTP otherwise. To use a real device, open a Meross device (meross-config) node and enter its IP address and key.",
      x: 300,
      y,
      wires: [],
    },
    {
      id: DEMO_BROKER_ID,
      type: "meross-broker",
      name: "Embedded broker",
      mode: "embedded",
      port: String(setup.brokerPort),
      bindHost: "127.0.0.1",
      certHost: "127.0.0.1",
      allowAnonymous: false,
      url: "",
      ca: "",
      username: "",
      rejectUnauthorized: "",
    },
    ...configs,
  ];
  const add = (...nodes: FlowNode[]): void => {
    flows.push(...nodes);
  };

  {
    const g = group(4);
    add(
      {
        id: "demo-light-rgb",
        type: "meross-light",
        z: TAB,
        name: setup.bulb.name,
        device: configId("bulb"),
        x: NODE_X,
        y: g.mid,
        wires: [["demo-debug-rgb"]],
      },
      inject("demo-inj-red", "Red", "#ff0000", INJECT_X, g.ys[0], "demo-light-rgb"),
      inject("demo-inj-blue", "Blue at 40%", { rgb: "#0050ff", brightness: 40 }, INJECT_X, g.ys[1], "demo-light-rgb"),
      inject("demo-inj-warm", "Warm white", "2700K", INJECT_X, g.ys[2], "demo-light-rgb"),
      inject("demo-inj-rgb-off", "Off", "off", INJECT_X, g.ys[3], "demo-light-rgb"),
      debug("demo-debug-rgb", "Bulb state", DEBUG_X, g.mid),
    );
  }
  {
    const g = group(2);
    add(
      {
        id: "demo-light-white",
        type: "meross-light",
        z: TAB,
        name: setup.whiteBulb.name,
        device: configId("whiteBulb"),
        x: NODE_X,
        y: g.mid,
        wires: [["demo-debug-white"]],
      },
      inject("demo-inj-dim", "Dim to 20", 20, INJECT_X, g.ys[0], "demo-light-white"),
      inject("demo-inj-cool", "Cool white", "6500K", INJECT_X, g.ys[1], "demo-light-white"),
      debug("demo-debug-white", "Lamp state", DEBUG_X, g.mid),
    );
  }
  {
    const g = group(2);
    add(
      {
        id: "demo-toggle",
        type: "meross-toggle",
        z: TAB,
        name: setup.plug.name,
        device: configId("plug"),
        channel: "0",
        x: NODE_X,
        y: g.mid,
        wires: [["demo-debug-plug"]],
      },
      inject("demo-inj-plug-toggle", "Toggle plug", "toggle", INJECT_X, g.ys[0], "demo-toggle"),
      inject("demo-inj-plug-read", "Read plug", "", INJECT_X, g.ys[1], "demo-toggle"),
      debug("demo-debug-plug", "Plug on?", DEBUG_X, g.mid),
    );
  }
  {
    const r = row();
    add(
      {
        id: "demo-request",
        type: "meross-request",
        z: TAB,
        name: "Read power",
        device: configId("plug"),
        method: "GET",
        namespace: "Appliance.Control.Electricity",
        x: NODE_X,
        y: r,
        wires: [["demo-debug-power"]],
      },
      inject("demo-inj-power", "Power", { electricity: {} }, INJECT_X, r, "demo-request"),
      debug("demo-debug-power", "Electricity", DEBUG_X, r),
    );
  }
  {
    const g = group(4);
    add(
      {
        id: "demo-toggle-legacy",
        type: "meross-toggle",
        z: TAB,
        name: setup.legacyPlug.name,
        device: configId("legacyPlug"),
        channel: "0",
        x: NODE_X,
        y: g.ys[0],
        wires: [["demo-debug-more"]],
      },
      inject("demo-inj-legacy", "Toggle old plug", "toggle", INJECT_X, g.ys[0], "demo-toggle-legacy"),
      {
        id: "demo-toggle-strip",
        type: "meross-toggle",
        z: TAB,
        name: `${setup.strip.name} (outlet 3)`,
        device: configId("strip"),
        channel: "2",
        x: NODE_X,
        y: g.ys[1],
        wires: [["demo-debug-more"]],
      },
      inject("demo-inj-strip", "Toggle outlet 3", "toggle", INJECT_X, g.ys[1], "demo-toggle-strip"),
      {
        id: "demo-toggle-enc",
        type: "meross-toggle",
        z: TAB,
        name: setup.encryptedPlug.name,
        device: configId("encryptedPlug"),
        channel: "0",
        x: NODE_X,
        y: g.ys[2],
        wires: [["demo-debug-more"]],
      },
      inject("demo-inj-enc", "Toggle encrypted plug", "toggle", INJECT_X, g.ys[2], "demo-toggle-enc"),
      {
        id: "demo-light-enc",
        type: "meross-light",
        z: TAB,
        name: setup.encryptedLamp.name,
        device: configId("encryptedLamp"),
        x: NODE_X,
        y: g.ys[3],
        wires: [["demo-debug-more"]],
      },
      inject("demo-inj-enc-lamp", "Orange lamp", "orange", INJECT_X, g.ys[3], "demo-light-enc"),
      debug("demo-debug-more", "More devices", DEBUG_X, g.mid),
    );
  }
  {
    const g = group(4);
    add(
      {
        id: "demo-cover-garage",
        type: "meross-cover",
        z: TAB,
        name: setup.garage.name,
        device: configId("garage"),
        channel: "0",
        x: NODE_X,
        y: g.ys[0],
        wires: [["demo-debug-covers"]],
      },
      inject("demo-inj-garage-open", "Open garage", "open", INJECT_X, g.ys[0], "demo-cover-garage"),
      inject("demo-inj-garage-close", "Close garage", "close", INJECT_X, g.ys[1], "demo-cover-garage"),
      {
        id: "demo-cover-shutter",
        type: "meross-cover",
        z: TAB,
        name: setup.shutter.name,
        device: configId("shutter"),
        channel: "0",
        x: NODE_X,
        y: g.ys[2],
        wires: [["demo-debug-covers"]],
      },
      inject("demo-inj-shutter-40", "Shutter to 40 %", 40, INJECT_X, g.ys[2], "demo-cover-shutter"),
      inject("demo-inj-shutter-close", "Close shutter", "close", INJECT_X, g.ys[3], "demo-cover-shutter"),
      debug("demo-debug-covers", "Doors and shutters", DEBUG_X, g.mid),
    );
  }
  add(
    comment(
      "demo-state-comment",
      "Live state: press a device's button on the status page",
      "meross-state sends every change a device pushes over MQTT (button presses, other apps), within milliseconds.",
    ),
  );
  {
    const r = row();
    add(
      {
        id: "demo-state",
        type: "meross-state",
        z: TAB,
        name: "Every device",
        broker: DEMO_BROKER_ID,
        pollInterval: "0",
        x: NODE_X,
        y: r,
        wires: [["demo-debug-state"]],
      },
      debug("demo-debug-state", "Pushed state", DEBUG_X, r),
    );
  }
  add(
    comment(
      "demo-onboard-comment",
      "Onboarding: an unconfigured device in access-point mode",
      "A factory-fresh Meross device opens its own Wi-Fi network (Meross_XX_xxxx) and answers at 10.10.10.1. Here a simulated one stands in for it. Press Scan in the node's dialog, pick a network, then click Onboard: the node waits until the device logs in to the embedded broker.",
    ),
  );
  {
    const g = group(2);
    add(
      {
        id: "demo-onboard",
        type: "meross-onboard",
        z: TAB,
        name: "Onboard new device",
        address: setup.fresh.address,
        ssid: setup.fresh.ssid,
        bssid: "",
        channel: "",
        encryption: "",
        cipher: "",
        mqttHost: "127.0.0.1",
        mqttPort: String(setup.brokerPort),
        userId: "0",
        broker: DEMO_BROKER_ID,
        timeout: "60",
        x: NODE_X,
        y: g.mid,
        wires: [["demo-debug-onboard"]],
      },
      inject("demo-inj-scan", "Scan", "scan", INJECT_X, g.ys[0], "demo-onboard"),
      inject("demo-inj-onboard", "Onboard", "", INJECT_X, g.ys[1], "demo-onboard"),
      debug("demo-debug-onboard", "Onboarding log", DEBUG_X, g.mid),
    );
  }
  const credentials: Record<string, Record<string, string>> = Object.fromEntries(roles.map((role) => [configId(role), { key: setup.key }]));
  credentials["demo-onboard"] = { wifiPassword: setup.fresh.wifiPassword, key: setup.key };
  return { flows, credentials };
}
