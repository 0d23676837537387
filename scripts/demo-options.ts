/**
 * `npm start` options: --help, --reset and the five kinds of port the demo listens on, each
 * settable by a flag or an environment variable. Ports are fixed (flows saved in the demo folder
 * point at them), so a busy one stops the demo with a sentence instead of a silent move.
 */
import net from "node:net";

export interface DemoPorts {
  /** The Node-RED editor. */
  editor: number;
  /** The simulated devices page. */
  status: number;
  /** The embedded MQTT broker the meross-broker node runs. */
  broker: number;
  /** The first simulated device; the others follow one port each. */
  devices: number;
  /** The simulated Meross account service (sign in with the demo e-mail and password). */
  cloud: number;
}

export interface DemoOptions {
  help: boolean;
  reset: boolean;
  ports: DemoPorts;
}

export const DEFAULT_PORTS: DemoPorts = { editor: 1880, status: 18100, broker: 18883, devices: 18101, cloud: 18090 };

/** Per port: its flag, its environment variable, and what listens on it. */
const PORT_SOURCES: Record<keyof DemoPorts, { flag: string; env: string; what: string }> = {
  editor: { flag: "--port", env: "PORT", what: "the Node-RED editor" },
  status: { flag: "--status-port", env: "MEROSS_STATUS_PORT", what: "the simulated devices page" },
  broker: { flag: "--broker-port", env: "MEROSS_BROKER_PORT", what: "the embedded MQTT broker" },
  devices: { flag: "--device-port", env: "MEROSS_DEVICE_PORT", what: "the first simulated device (the others follow)" },
  cloud: { flag: "--cloud-port", env: "MEROSS_CLOUD_PORT", what: "the simulated Meross account service" },
};

export const DEMO_HELP = `Usage: npm start [-- options]

Starts Node-RED with this package and a fleet of simulated Meross devices on 127.0.0.1,
with a demo flow. Prints the editor, devices page and broker addresses, the demo device key,
the demo Wi-Fi network and password (for onboarding the out-of-the-box plug), and the
simulated Meross account's address, e-mail and password (for "meross cloud" and migrating).

Options (a flag wins over its environment variable):
  --port N          Node-RED editor port            (PORT, default ${DEFAULT_PORTS.editor})
  --status-port N   simulated devices page port     (MEROSS_STATUS_PORT, default ${DEFAULT_PORTS.status})
  --broker-port N   embedded MQTT broker port       (MEROSS_BROKER_PORT, default ${DEFAULT_PORTS.broker})
  --device-port N   first simulated device's port; each further device takes the next one
                                                    (MEROSS_DEVICE_PORT, default ${DEFAULT_PORTS.devices})
  --cloud-port N    simulated Meross account port   (MEROSS_CLOUD_PORT, default ${DEFAULT_PORTS.cloud})
  --reset           new demo key and a fresh demo flow
  --help            this text; nothing is started

The demo folder is .demo/ in the package (MEROSS_DEMO_DIR to use another). A port already in
use stops the demo with its number: free it, or choose another with the flag above.

Example: npm start -- --port 1881 --status-port 18200
`;

export class DemoUsageError extends Error {}

function portValue(name: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new DemoUsageError(
      `${name} ${JSON.stringify(text)} is not a port: use a whole number from 1 to 65535 (npm start -- --help lists the ports).`,
    );
  }
  return n;
}

/** Reads the flags (after `npm start --`) and the environment; unknown flags are refused. */
export function parseDemoArgs(argv: readonly string[], env: Record<string, string | undefined>): DemoOptions {
  const ports: DemoPorts = { ...DEFAULT_PORTS };
  for (const key of Object.keys(PORT_SOURCES) as Array<keyof DemoPorts>) {
    const v = env[PORT_SOURCES[key].env];
    if (v !== undefined && v !== "") ports[key] = portValue(PORT_SOURCES[key].env, v);
  }
  const out: DemoOptions = { help: false, reset: false, ports };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (flag === "--help" || flag === "-h") out.help = true;
    else if (flag === "--reset") out.reset = true;
    else {
      const key = (Object.keys(PORT_SOURCES) as Array<keyof DemoPorts>).find((k) => PORT_SOURCES[k].flag === flag);
      if (!key) throw new DemoUsageError(`Unknown option ${JSON.stringify(arg)}. npm start -- --help lists the options.`);
      const value = inline ?? argv[++i];
      if (value === undefined) throw new DemoUsageError(`${flag} needs a port number, for example ${flag} ${DEFAULT_PORTS[key] + 100}.`);
      ports[key] = portValue(flag, value);
    }
  }
  return out;
}

/** Every port the demo will listen on, with what uses it; `deviceCount` devices from ports.devices on. */
export function demoPortList(
  ports: DemoPorts,
  deviceNames: readonly string[],
): Array<{ port: number; kind: keyof DemoPorts; what: string }> {
  const list: Array<{ port: number; kind: keyof DemoPorts; what: string }> = [
    { port: ports.editor, kind: "editor", what: PORT_SOURCES.editor.what },
    { port: ports.status, kind: "status", what: PORT_SOURCES.status.what },
    { port: ports.broker, kind: "broker", what: PORT_SOURCES.broker.what },
    { port: ports.cloud, kind: "cloud", what: PORT_SOURCES.cloud.what },
  ];
  deviceNames.forEach((name, i) => list.push({ port: ports.devices + i, kind: "devices", what: `the simulated device "${name}"` }));
  return list;
}

/** The sentence for a port in use: which, for what, and how to choose another. */
export function busyPortMessage(
  entry: { port: number; kind: keyof DemoPorts; what: string },
  ports: DemoPorts,
  deviceCount: number,
): string {
  const src = PORT_SOURCES[entry.kind];
  const suggestion = entry.kind === "devices" ? ports.devices + 1000 : entry.port + 100;
  const range = entry.kind === "devices" ? ` (devices use ports ${ports.devices}–${ports.devices + deviceCount - 1})` : "";
  return (
    `Port ${entry.port} on 127.0.0.1, for ${entry.what}${range}, is already in use, so the demo did not start. ` +
    `Stop what uses it (an earlier npm start?), or choose another port: npm start -- ${src.flag} ${suggestion} ` +
    `(or set ${src.env}=${suggestion}).`
  );
}

export function portFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** Refuses with busyPortMessage for the first port in use, or a port given twice. */
export async function checkDemoPorts(ports: DemoPorts, deviceNames: readonly string[], host = "127.0.0.1"): Promise<void> {
  const list = demoPortList(ports, deviceNames);
  const seen = new Map<number, string>();
  for (const e of list) {
    const other = seen.get(e.port);
    if (other) {
      throw new DemoUsageError(`Port ${e.port} is chosen for both ${other} and ${e.what}. Choose different ports (npm start -- --help).`);
    }
    seen.set(e.port, e.what);
    if (e.port > 65535)
      throw new DemoUsageError(
        `${PORT_SOURCES.devices.flag} ${ports.devices} leaves no room for ${deviceNames.length} devices: choose a lower port.`,
      );
  }
  for (const e of list) if (!(await portFree(e.port, host))) throw new DemoUsageError(busyPortMessage(e, ports, deviceNames.length));
}
