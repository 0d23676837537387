/**
 * What `npm start` prints: Node-RED's own log, each line prefixed once, and the banner
 * with the addresses a newcomer needs. Kept apart from start.ts so tests can check both.
 */

/**
 * Prefixes each complete line once. Output arrives in chunks that split lines anywhere; a
 * per-chunk prefix would also prefix the empty remainder after a chunk's last newline and
 * then the next chunk's start again ("[node-red]   [node-red] …").
 */
export class LinePrefixer {
  private partial = "";

  constructor(
    private readonly prefix: string,
    private readonly write: (text: string) => void,
  ) {}

  push(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split("\n");
    this.partial = lines.pop() ?? "";
    if (lines.length > 0) this.write(lines.map((l) => this.prefix + l + "\n").join(""));
  }

  /** Writes a last line that had no newline (the process ended). */
  flush(): void {
    if (this.partial) this.write(this.prefix + this.partial + "\n");
    this.partial = "";
  }
}

export interface BannerDevice {
  name: string;
  model: string;
  mode: "ap" | "normal";
  address: string;
  uuid: string;
}

/** The lines printed once Node-RED runs: where everything is, and the demo fleet's key and addresses. */
export function banner(opts: {
  editorUrl: string;
  statusUrl: string;
  brokerUrl: string;
  key: string;
  /** The demo Wi-Fi the out-of-the-box device can join, and its password (simulated, like the key). */
  wifi: { ssid: string; password: string };
  /** The simulated Meross account service and its demo sign-in (demo values, like the key). */
  cloud?: { url: string; email: string; password: string };
  devices: BannerDevice[];
}): string[] {
  const nameWidth = Math.max(...opts.devices.map((d) => d.name.length), 4) + 2;
  // Widest model name plus a space, so a longer model (msl320cpr) never runs into the state.
  const modelWidth = Math.max("Model".length, ...opts.devices.map((d) => d.model.length)) + 2;
  const addressWidth = Math.max(...opts.devices.map((d) => d.address.length), 7) + 2;
  return [
    "",
    `Node-RED editor:        ${opts.editorUrl}`,
    `Simulated devices page: ${opts.statusUrl}`,
    `Embedded MQTT broker:   ${opts.brokerUrl} (run by Node-RED's meross-broker node)`,
    // A key of simulated devices only, made for this demo (in .demo/demo-devices.json): a new
    // Meross device node for one of them needs it, and it opens nothing real.
    `Demo device key:        ${opts.key}   (simulated devices only; \`npm start -- --reset\` makes a new one)`,
    `Demo Wi-Fi network:     ${opts.wifi.ssid}   password: ${opts.wifi.password}   (to onboard the device in access-point mode)`,
    ...(opts.cloud
      ? [
          `Simulated Meross account: ${opts.cloud.url}   e-mail: ${opts.cloud.email}   password: ${opts.cloud.password}   ` +
            `(demo values: meross cloud --api ${opts.cloud.url})`,
        ]
      : []),
    "Other ports or options: npm start -- --help",
    "",
    `  ${"Device".padEnd(nameWidth)}${"Model".padEnd(modelWidth)}${"State".padEnd(19)}${"Address".padEnd(addressWidth)}UUID`,
    ...opts.devices.map((d) => {
      const state = d.mode === "ap" ? "access-point mode" : "ready";
      return `  ${d.name.padEnd(nameWidth)}${d.model.padEnd(modelWidth)}${state.padEnd(19)}${d.address.padEnd(addressWidth)}${d.uuid}`;
    }),
    "",
    "Open the editor, click an inject button on the 'Meross demo' tab and watch the devices page;",
    "press a device's button on that page and watch the 'Pushed state' debug output.",
    "Import more flows from the menu: Import → Examples → node-red-contrib-meross-local.",
    "Press Ctrl+C to stop. `npm start -- --reset` rebuilds the demo flow.",
    "",
  ];
}
