/**
 * The demo fleet behind `npm start`: one device of each kind a newcomer is likely to own,
 * with fixed seeds so uuids stay the same from run to run (bookmarks and flows keep working).
 */
import { Fleet } from "./fleet";
import type { SimulatorOptions } from "./device";
import { DEMO_ACCOUNT, type SimCloudAccount } from "./cloud";

export { DEMO_ACCOUNT };

export const DEMO_FLEET: Array<SimulatorOptions & { name: string }> = [
  { name: "Living room bulb", model: "msl120", seed: "demo-living-room" },
  { name: "Bedside lamp", model: "msl100", seed: "demo-bedside" },
  { name: "Coffee machine plug", model: "mss310", seed: "demo-coffee" },
  { name: "Old hallway plug", model: "mss210", seed: "demo-hallway" },
  { name: "Desk power strip", model: "mss425", seed: "demo-desk" },
  { name: "New plug (out of the box)", model: "mss305", seed: "demo-new-plug", unconfigured: true },
  // Newer firmware that drops plaintext (docs/protocol.md §4): users meet it after an update.
  { name: "Kitchen plug (encrypted firmware)", model: "mss110", seed: "demo-kitchen" },
  { name: "Reading lamp (encrypted firmware)", model: "hp110a", seed: "demo-reading" },
  { name: "House energy meter", model: "em06", seed: "demo-meter" },
  { name: "TV light strip", model: "msl320cpr", seed: "demo-strip" },
  { name: "Ceiling fan (synthetic model)", model: "mfc-like", seed: "demo-ceiling-fan" },
  { name: "Garage door", model: "msg100", seed: "demo-garage" },
  { name: "Bedroom shutter", model: "mrs100", seed: "demo-shutter" },
  // Synthetic fw 8.x-like plug: plaintext gets HTTP 500 with an empty body, no ECDHE exchange.
  { name: "Garage plug (fw 8 encryption)", model: "mss110v8", seed: "demo-garage-plug" },
  // Set up by the Meross app: configured, pointing at the Meross cloud; re-bind it to try that.
  { name: "Patio plug (set up by the app)", model: "mss310", seed: "demo-patio", appPaired: true },
  { name: "Living room thermostat", model: "mts200b", seed: "demo-thermostat" },
  { name: "Home hub", model: "msh300", seed: "demo-hub" },
  { name: "Bedroom diffuser", model: "mod100", seed: "demo-diffuser" },
];

/**
 * Starts the demo fleet; device ports are free ports unless `basePort` is given. With a
 * `gateway`, the configured devices also connect to that MQTT broker, as bound devices do.
 */
export async function startDemo(
  opts: { statusPort?: number; basePort?: number; key?: string; gateway?: { host: string; port: number }; userId?: string } = {},
): Promise<Fleet> {
  const specs = DEMO_FLEET.map((spec, i) => ({
    ...spec,
    key: spec.unconfigured ? undefined : (opts.key ?? ""),
    port: opts.basePort ? opts.basePort + i : 0,
    gateway: spec.unconfigured || spec.appPaired ? undefined : opts.gateway,
    // Devices that power up together do not retry in step: every demo device dials from 127.0.0.1,
    // and the broker turns away a ninth login waiting from one address (core/broker/limits.ts).
    mqttReconnectMs: 5000 + i * 250,
    userId: opts.userId,
  }));
  return Fleet.start(specs, { statusPort: opts.statusPort ?? 0 });
}

/**
 * The demo account as the simulated service holds it: its devices are the fleet's app-paired
 * ones, and its key is the key they sign with (the demo key), as an app-paired device signs
 * with its account's key.
 */
export function demoCloudAccount(fleet: Fleet): SimCloudAccount {
  const paired = new Set(DEMO_FLEET.filter((s) => s.appPaired).map((s) => s.name));
  const devices = fleet.devices.filter((d) => paired.has(d.name ?? ""));
  return {
    ...DEMO_ACCOUNT,
    key: devices[0]?.key || DEMO_ACCOUNT.key,
    devices: devices.map((d) => ({
      uuid: d.uuid,
      name: d.name ?? d.model.name,
      model: d.model.name,
      firmware: d.model.firmwareVersion,
      hardware: d.model.hardwareVersion,
    })),
  };
}
