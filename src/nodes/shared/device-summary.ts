/**
 * What the editor shows about a device ("Read device" and the deployed-config info):
 * identity and a plain summary of its abilities. Built only from what the device said;
 * it never includes the key.
 */
import {
  NS,
  type MerossDevice,
  LIGHT_CAPACITY,
  describeCapacity,
  deviceDisplayName,
  hasGarage,
  hasRoller,
  hasThermostat,
  isHub,
  hasDiffuser,
} from "../../core";

export interface DeviceSummary {
  /** What the nodes call the device (core/naming.ts): `name` when given, else "model …uuid end". */
  displayName: string;
  model: string;
  uuid: string;
  mac: string;
  firmware: string;
  hardware: string;
  address: string;
  /** What the device is, from its abilities: "thermostat", "garage door opener", "hub", "plug with energy metering"… */
  kind: string;
  abilities: {
    count: number;
    onOff: "ToggleX" | "Toggle (legacy)" | "none";
    light: string | null;
    colour: boolean;
    metering: boolean;
    namespaces: string[];
  };
}

/** What a person would call the device, decided from its ability list (the most specific first). */
export function deviceKind(device: MerossDevice): string {
  if (isHub(device)) return "hub (sensors and radiator valves)";
  if (hasThermostat(device)) return "thermostat";
  if (hasGarage(device)) return "garage door opener";
  if (hasRoller(device)) return "roller shutter";
  if (hasDiffuser(device)) return "aroma diffuser";
  if (device.has(NS.LIGHT)) return `light (${describeCapacity(device.lightCapacity)})`;
  const outlets = device.toggles.size > 1 ? `power strip (${device.toggles.size} outlets)` : "plug or switch";
  if (device.has(NS.ELECTRICITY)) return `${outlets} with energy metering`;
  if (device.has(NS.TOGGLEX) || device.has(NS.TOGGLE)) return outlets;
  return "Meross device";
}

export function summarizeDevice(device: MerossDevice, name = ""): DeviceSummary {
  const info = device.info;
  const abilities = device.abilities ?? {};
  const namespaces = Object.keys(abilities).sort();
  const cap = device.has(NS.LIGHT) ? device.lightCapacity : 0;
  return {
    displayName: deviceDisplayName({ name, model: info?.model, uuid: info?.uuid, address: device.address }),
    model: info?.model ?? "",
    uuid: info?.uuid ?? "",
    mac: info?.mac ?? "",
    firmware: info?.firmwareVersion ?? "",
    hardware: info?.hardwareVersion ?? "",
    address: device.address,
    kind: deviceKind(device),
    abilities: {
      count: namespaces.length,
      onOff: device.has(NS.TOGGLEX) ? "ToggleX" : device.has(NS.TOGGLE) ? "Toggle (legacy)" : "none",
      light: device.has(NS.LIGHT) ? describeCapacity(cap) : null,
      colour: (cap & LIGHT_CAPACITY.RGB) !== 0,
      metering: device.has(NS.ELECTRICITY),
      namespaces,
    },
  };
}
