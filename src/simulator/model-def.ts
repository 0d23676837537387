/**
 * What a simulated model is: its catalogue entry (models.ts writes one per model) and the facts
 * read off its ability list. Kept apart so the catalogue itself stays a list of models.
 */
import type { CapabilitySpec } from "./capabilities/types";
import type { PlaintextRefusal } from "./types";

export type Ability = Record<string, Record<string, unknown>>;

/** One simulated hardware/firmware combination, as the catalogue in models.ts writes it. */
export interface DeviceModelEntry {
  name: string;
  /** hardware.type as the device reports it. */
  type: string;
  /** hardware.subType. */
  subType?: string;
  hardwareVersion: string;
  firmwareVersion: string;
  compileTime?: string;
  chip: string;
  /** Relays (outlets); a bulb has one. */
  channels: number;
  features: string[];
  description: string;
  /** What the device answers to System.Ability. */
  ability: Ability;
  /** The capabilities answering the ability list, each with the settings of its trace. */
  capabilities: CapabilitySpec[];
  /** Encrypted models: how a refused plaintext request is answered (default "drop", docs/protocol.md §4.2). */
  refusePlaintext?: PlaintextRefusal;
  /** False: lists Encrypt.ECDHE but answers the exchange with ERROR (pair with `encrypt({ ecdhe: false })`). */
  keyExchange?: boolean;
}

/** A catalogue entry with the facts listings need, read off its ability list. */
export interface DeviceModel extends DeviceModelEntry {
  /** Appliance.Control.Light capacity from the ability list; undefined = not a light. */
  lightCapacity?: number;
  /** Lists Control.Electricity. */
  metering: boolean;
  /** Legacy MT7688 firmware: lists Control.Toggle instead of ToggleX. */
  legacyToggle: boolean;
  /** Onboards with Config.WifiX (encrypted Wi-Fi password, docs/protocol.md §3.5). */
  wifiX: boolean;
  /**
   * LAN encryption (Encrypt.ECDHE in the ability list, docs/protocol.md §4): plaintext requests
   * other than System.Ability and the key exchange are dropped like mss110 fw 7.3.x does.
   */
  encrypted: boolean;
  /** Performs the ECDHE exchange (§4.3 b). */
  ecdhe: boolean;
}

/** Completes a catalogue entry with the facts read off its ability list. */
export function defineModel(entry: DeviceModelEntry): DeviceModel {
  const capacity = entry.ability["Appliance.Control.Light"]?.capacity;
  return {
    ...entry,
    lightCapacity: typeof capacity === "number" ? capacity : undefined,
    metering: "Appliance.Control.Electricity" in entry.ability,
    legacyToggle: "Appliance.Control.Toggle" in entry.ability,
    wifiX: "Appliance.Config.WifiX" in entry.ability,
    encrypted: "Appliance.Encrypt.ECDHE" in entry.ability || "Appliance.Encrypt.Suite" in entry.ability,
    ecdhe: "Appliance.Encrypt.ECDHE" in entry.ability && entry.keyExchange !== false,
  };
}
