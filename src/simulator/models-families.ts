/**
 * Devices as real homes have them (issue 20), spread into the catalogue by models.ts: an msh300hk
 * that lists no Appliance.Digest.Hub with radiator valves and an ms130, a hub with 16 valves whose
 * full `Hub.Mts100.All` reply is cut at 4,000 bytes, an mts300 HVAC thermostat (Thermostat.ModeC)
 * and a purifier fan (Control.Fan without a light). Shapes from the captures and
 * docs/protocol-devices.md §13.5, §14, §16.1; each ⚠ says where a shape is not captured.
 */
import { config } from "./capabilities/config";
import { fan } from "./capabilities/fan";
import { hub } from "./capabilities/hub";
import type { SubType } from "./capabilities/hub-sensors";
import { multiple } from "./capabilities/multiple";
import { schedule } from "./capabilities/schedule";
import { system } from "./capabilities/system";
import { thermostatModeC } from "./capabilities/thermostat-modec";
import { toggle } from "./capabilities/toggle";
import { CONFIG_BASE, DIGEST_BASE, SYSTEM_BASE, TOGGLEX_BASE, type Ability } from "./abilities";
import { defineModel, type DeviceModel } from "./model-def";
import { msh300hkAbility } from "./models-climate";

/** mts300 fw 9.1.12 ([T …25]) without the namespaces nothing here answers (Matter, Weather, Sensor.*, AlertConfig). */
const mts300Ability = (): Ability => ({
  ...CONFIG_BASE,
  "Appliance.Config.WifiX": {},
  "Appliance.Config.Info": {},
  ...SYSTEM_BASE,
  "Appliance.Mcu.Firmware": {},
  "Appliance.Control.Multiple": { maxCmdNum: 3 },
  "Appliance.Control.Bind": {},
  "Appliance.Control.Unbind": {},
  "Appliance.Control.Upgrade": {},
  "Appliance.Control.PhysicalLock": {},
  "Appliance.Control.Screen.Brightness": {},
  "Appliance.Control.TempUnit": {},
  "Appliance.Control.FilterMaintenance": {},
  "Appliance.Control.Thermostat.Calibration": {},
  "Appliance.Control.Thermostat.HoldAction": {},
  "Appliance.Control.Thermostat.ModeC": {},
  "Appliance.Control.Thermostat.ScheduleB": {},
  "Appliance.Control.Thermostat.System": {},
  ...DIGEST_BASE,
});

/**
 * map100 air purifier (§16.1): Control.Fan on channel 0 with no Control.Light, FilterMaintenance,
 * PhysicalLock, DNDMode. ⚠ The map100 capture is not kept in the project; ToggleX on channel 0
 * is assumed as on the other fan devices.
 */
const map100Ability = (): Ability => ({
  ...CONFIG_BASE,
  ...SYSTEM_BASE,
  "Appliance.System.DNDMode": {},
  ...TOGGLEX_BASE,
  "Appliance.Control.Fan": {},
  "Appliance.Control.FilterMaintenance": {},
  "Appliance.Control.PhysicalLock": {},
  ...DIGEST_BASE,
});

/** 16 radiator valves with made-up 8-hex-digit ids (§10.2). */
const SIXTEEN_VALVES: Array<{ id: string; type: SubType }> = Array.from({ length: 16 }, (_, i) => ({
  id: `0100${(0xa0 + i).toString(16).toUpperCase()}11`,
  type: "mts100v3",
}));

const HUB_VERSIONS = {
  subType: "un",
  // ⚠ Versions and chip of the msh300 capture: the msh300hk's are not in the project's notes.
  hardwareVersion: "4.0.0",
  firmwareVersion: "4.1.26",
  compileTime: "2020/11/07 16:29:31 GMT +08:00",
  chip: "mt7686",
  channels: 0,
};

export function familyModels(): Record<string, DeviceModel> {
  return {
    "msh300hk-valves": defineModel({
      name: "msh300hk-valves",
      type: "msh300hk",
      ...HUB_VERSIONS,
      features: ["hub", "radiator valves", "sensors", "no Digest.Hub"],
      description:
        "Smart hub (msh300hk) without Appliance.Digest.Hub, as every msh300hk capture: two radiator valves (mts150, mts100v3) and an ms130 sensor (hundredths of °C)",
      ability: msh300hkAbility(),
      capabilities: [
        system(),
        config(),
        hub({
          subs: [
            { id: "03004404", type: "mts150" },
            { id: "01005C75", type: "mts100v3" },
            { id: "4B00C8A2E1F0", type: "ms130", battery: 80 },
          ],
          replyLimit: 4000,
        }),
        multiple({ maxReplyBytes: 2900 }),
      ],
    }),
    "msh300hk-16": defineModel({
      name: "msh300hk-16",
      type: "msh300hk",
      ...HUB_VERSIONS,
      features: ["hub", "radiator valves", "4 KB replies"],
      description:
        "Smart hub (msh300hk, no Digest.Hub) with 16 radiator valves: its full Hub.Mts100.All reply is cut at 4,000 bytes, as real ones are",
      ability: msh300hkAbility(),
      capabilities: [system(), config(), hub({ subs: SIXTEEN_VALVES, replyLimit: 4000 }), multiple({ maxReplyBytes: 2900 })],
    }),
    mts300: defineModel({
      name: "mts300",
      type: "mts300",
      subType: "us",
      hardwareVersion: "9.0.0",
      firmwareVersion: "9.1.12",
      compileTime: "2024/12/25-10:24:50",
      chip: "rtl8720cm",
      channels: 0,
      features: ["thermostat", "hvac", "wifix"],
      description: "HVAC thermostat (mts300): heat, cool and auto through Thermostat.ModeC; hundredths of °C, humidity",
      ability: mts300Ability(),
      capabilities: [system(), config(), thermostatModeC(), multiple({ maxReplyBytes: 2900 })],
    }),
    map100: defineModel({
      name: "map100",
      type: "map100",
      subType: "us",
      // ⚠ Versions and chip not in the project's notes.
      hardwareVersion: "8.0.0",
      firmwareVersion: "8.3.2",
      chip: "rtl8720cf",
      channels: 1,
      features: ["fan", "purifier"],
      description: "Air purifier (map100): fan speeds 0-3 on channel 0 (Control.Fan), no light",
      ability: map100Ability(),
      capabilities: [system(), config(), toggle(), schedule(), fan({ channel: 0, maxSpeed: 3 }), multiple({ maxReplyBytes: 2900 })],
    }),
  };
}
