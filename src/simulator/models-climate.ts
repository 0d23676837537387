/**
 * Climate and home devices of the simulated catalogue (models.ts spreads them in): the mts200b
 * thermostat, the msh300 and msh300hk hubs with their sub-devices and the mod100 diffuser. Ability lists come from
 * the captures named beside each (docs/protocol-devices.md §10.3). Built on demand because
 * models.ts imports this file while it defines the shared ability parts.
 */
import { config } from "./capabilities/config";
import { diffuser } from "./capabilities/diffuser";
import { hub } from "./capabilities/hub";
import { multiple } from "./capabilities/multiple";
import { presence } from "./capabilities/presence";
import { schedule } from "./capabilities/schedule";
import { system } from "./capabilities/system";
import { thermostat } from "./capabilities/thermostat";
import { CONFIG_BASE, DIGEST_BASE, SYSTEM_BASE, type Ability } from "./abilities";
import { defineModel, type DeviceModel } from "./model-def";

/** mts200b fw 7.6.5 ([T …0C]): Thermostat.* namespaces, no ToggleX, WifiX onboarding. */
const mts200bAbility = (): Ability => ({
  ...CONFIG_BASE,
  "Appliance.Config.WifiX": {},
  "Appliance.Config.Info": {},
  ...SYSTEM_BASE,
  "Appliance.Mcu.Firmware": {},
  "Appliance.Control.Multiple": { maxCmdNum: 5 },
  "Appliance.Control.Bind": {},
  "Appliance.Control.Unbind": {},
  "Appliance.Control.Upgrade": {},
  "Appliance.Control.PhysicalLock": {},
  "Appliance.Control.Thermostat.HoldAction": {},
  "Appliance.Control.Thermostat.Mode": {},
  "Appliance.Control.Thermostat.Calibration": {},
  "Appliance.Control.Thermostat.DeadZone": {},
  "Appliance.Control.Thermostat.Frost": {},
  "Appliance.Control.Thermostat.Overheat": {},
  "Appliance.Control.Thermostat.WindowOpened": {},
  "Appliance.Control.Thermostat.Schedule": {},
  "Appliance.Control.Screen.Brightness": {},
  "Appliance.Control.Thermostat.Sensor": {},
  ...DIGEST_BASE,
});

/**
 * msh300 fw 4.1.26 ([T …0F]) plus Hub.Sensor.WaterLeak, which an ms400 leak sensor needs and that
 * capture (one ms100, two mts100v3) does not list ⚠.
 */
const msh300Ability = (): Ability => ({
  ...CONFIG_BASE,
  ...SYSTEM_BASE,
  "Appliance.System.DNDMode": {},
  "Appliance.Control.Multiple": { maxCmdNum: 5 },
  "Appliance.Control.Bind": {},
  "Appliance.Control.Unbind": {},
  "Appliance.Control.Upgrade": {},
  "Appliance.Digest.Hub": {},
  "Appliance.Hub.Online": {},
  "Appliance.Hub.ToggleX": {},
  "Appliance.Hub.Exception": {},
  "Appliance.Hub.SubdeviceList": {},
  "Appliance.Hub.Report": {},
  "Appliance.Hub.Battery": {},
  "Appliance.Hub.Mts100.All": {},
  "Appliance.Hub.Mts100.TimeSync": {},
  "Appliance.Hub.Mts100.Mode": {},
  "Appliance.Hub.Mts100.Temperature": {},
  "Appliance.Hub.Mts100.Adjust": {},
  "Appliance.Hub.Mts100.Schedule": { scheduleUnitTime: 30 },
  "Appliance.Hub.Mts100.ScheduleB": { scheduleUnitTime: 15 },
  "Appliance.Hub.Sensor.All": {},
  "Appliance.Hub.Sensor.Latest": {},
  "Appliance.Hub.Sensor.TempHum": {},
  "Appliance.Hub.Sensor.Adjust": {},
  "Appliance.Hub.Sensor.Alert": {},
  "Appliance.Hub.Sensor.WaterLeak": {},
});

/**
 * msh300hk with an ms200 door/window contact and a gs559 smoke alarm, the sensors of [T …11]
 * (docs/protocol-devices.md §14.3). ⚠ That capture is not kept in the project: the msh300 list
 * with Hub.Sensor.DoorWindow and Hub.Sensor.Smoke in place of WaterLeak, and without
 * Appliance.Digest.Hub, which no msh300hk capture lists (§14.1, issue 20): the sub-devices are
 * known only from the `digest.hub` of System.All.
 */
export const msh300hkAbility = (): Ability => {
  const { ["Appliance.Hub.Sensor.WaterLeak"]: _leak, ["Appliance.Digest.Hub"]: _digest, ...rest } = msh300Ability();
  return { ...rest, "Appliance.Hub.Sensor.DoorWindow": {}, "Appliance.Hub.Sensor.Smoke": {} };
};

/** mod100 fw 3.1.5 ([T …02]): Diffuser.Spray/Light/Sensor, TimerX/TriggerX, no ToggleX. */
const mod100Ability = (): Ability => ({
  ...CONFIG_BASE,
  ...SYSTEM_BASE,
  "Appliance.Control.Multiple": { maxCmdNum: 5 },
  "Appliance.Control.TimerX": { sunOffsetSupport: 1 },
  "Appliance.Control.TriggerX": {},
  "Appliance.Control.Bind": {},
  "Appliance.Control.Unbind": {},
  "Appliance.Control.Upgrade": {},
  ...DIGEST_BASE,
  "Appliance.Control.Diffuser.Spray": {},
  "Appliance.Control.Diffuser.Light": {},
  "Appliance.Control.Diffuser.Sensor": {},
});

export function climateModels(): Record<string, DeviceModel> {
  return {
    mts200b: defineModel({
      name: "mts200b",
      type: "mts200b",
      subType: "eu",
      hardwareVersion: "7.0.0",
      firmwareVersion: "7.6.5",
      compileTime: "2022/09/20-13:44:53",
      chip: "rtl8710cm",
      channels: 0,
      features: ["thermostat", "wifix"],
      description: "Smart thermostat (mts200b): heats a room towards its target; tenths of °C; Mode GET answers [] (state in System.All)",
      ability: mts200bAbility(),
      capabilities: [system(), config(), thermostat({ emptyModeGet: true }), multiple({ maxReplyBytes: 2900 })],
    }),
    msh300: defineModel({
      name: "msh300",
      type: "msh300",
      subType: "un",
      hardwareVersion: "4.0.0",
      firmwareVersion: "4.1.26",
      compileTime: "2020/11/07 16:29:31 GMT +08:00",
      chip: "mt7686",
      channels: 0,
      features: ["hub", "sensors", "radiator valves"],
      description: "Smart hub (msh300) with a temperature/humidity sensor (ms100), a leak sensor (ms400) and a radiator valve (mts100v3)",
      ability: msh300Ability(),
      capabilities: [
        system(),
        config(),
        hub({
          subs: [
            { id: "120027D21C19", type: "ms100", battery: 50 },
            { id: "1A00694ACBC7", type: "ms400" },
            { id: "01008C11", type: "mts100v3" },
          ],
        }),
        multiple({ maxReplyBytes: 2900 }),
      ],
    }),
    msh300hk: defineModel({
      name: "msh300hk",
      type: "msh300hk",
      subType: "un",
      // ⚠ Versions and chip of the msh300 capture: the msh300hk's are not in the project's notes.
      hardwareVersion: "4.0.0",
      firmwareVersion: "4.1.26",
      compileTime: "2020/11/07 16:29:31 GMT +08:00",
      chip: "mt7686",
      channels: 0,
      features: ["hub", "sensors", "door contact", "smoke alarm"],
      description: "Smart hub (msh300hk) with a door/window contact (ms200) and a smoke alarm (gs559, test button)",
      ability: msh300hkAbility(),
      capabilities: [
        system(),
        config(),
        // Made-up 12-hex-digit sensor ids (§10.2).
        hub({
          subs: [
            { id: "2B00F1E2D3C4", type: "ms200" },
            { id: "3C00A5B6C7D8", type: "gs559" },
          ],
        }),
        multiple({ maxReplyBytes: 2900 }),
      ],
    }),
    mod100: defineModel({
      name: "mod100",
      type: "mod100",
      subType: "un",
      hardwareVersion: "3.0.0",
      firmwareVersion: "3.1.5",
      compileTime: "2020/09/01 17:03:31 GMT +08:00",
      chip: "mt7682",
      channels: 0,
      features: ["diffuser"],
      description: "Aroma diffuser (mod100): spray eco/strong/off and an RGB mood light (Diffuser.Spray/Light)",
      ability: mod100Ability(),
      capabilities: [system(), config(), schedule(), diffuser(), multiple({ maxReplyBytes: 2900 })],
    }),
    ms600: defineModel({
      name: "ms600",
      type: "ms600",
      subType: "un",
      hardwareVersion: "9.0.0",
      firmwareVersion: "9.3.22",
      compileTime: "2024/07/09-09:44:18",
      chip: "rtl8720cm",
      channels: 0,
      features: ["presence", "wifix"],
      description: "Presence sensor (ms600): someone there, distance and light level (Sensor.LatestX, pushed on change)",
      ability: ms600Ability(),
      capabilities: [system(), config(), presence(), multiple({ maxReplyBytes: 2900 })],
    }),
  };
}

/** Exactly the ms600 fw 9.3.22 trace ability list (meross_lan emulator trace …23). */
const ms600Ability = (): Ability => ({
  ...CONFIG_BASE,
  "Appliance.Config.WifiX": {},
  "Appliance.Config.Info": {},
  ...SYSTEM_BASE,
  "Appliance.System.DNDMode": {},
  "Appliance.Control.Multiple": { maxCmdNum: 3 },
  "Appliance.Control.Bind": {},
  "Appliance.Control.Unbind": {},
  "Appliance.Control.Upgrade": {},
  "Appliance.Control.Sensor.LatestX": {},
  "Appliance.Control.Presence.Config": {},
  "Appliance.Control.Presence.Study": {},
  "Appliance.Control.Sensor.HistoryX": {},
});
