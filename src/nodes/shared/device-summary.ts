/**
 * What the editor shows about a device ("Read device" and the deployed-config info):
 * identity and a plain summary of its abilities. Built only from what the device said;
 * it never includes the key.
 */
import { NS, type MerossDevice } from "../../core/session/device";
import { LIGHT_CAPACITY, describeCapacity } from "../../core/capabilities/light";
import { deviceDisplayName } from "../../core/naming";

export interface DeviceSummary {
  /** What the nodes call the device (core/naming.ts): `name` when given, else "model …uuid end". */
  displayName: string;
  model: string;
  uuid: string;
  mac: string;
  firmware: string;
  hardware: string;
  address: string;
  abilities: {
    count: number;
    onOff: "ToggleX" | "Toggle (legacy)" | "none";
    light: string | null;
    colour: boolean;
    metering: boolean;
    namespaces: string[];
  };
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
