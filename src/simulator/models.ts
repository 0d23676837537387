/**
 * Device models the simulator can impersonate. Ability lists and identity fields are
 * copied (anonymised) from real captures in the meross_lan emulator traces (MIT), so
 * that clients meet the same capability mix they will meet on real hardware.
 *
 * A model is its ability list plus the capabilities (capabilities/*.ts) that answer it, each
 * with the settings its trace shows. The device answers a namespace only when the ability list
 * has it and one of the named capabilities claims it; anything else is ERROR 5000.
 *
 * Adding a device family (say a thermostat):
 *  1. write capabilities/thermostat.ts: a class implementing Capability (handle, and as needed
 *     all / pushes / press / state / snapshot) that owns its state and quirks, adds its snapshot
 *     fields to DeviceSnapshot by `declare module "../types"`, and a `thermostat(settings)`
 *     function returning its CapabilitySpec with the namespaces it claims;
 *  2. add a model entry below: the trace's ability list, and `thermostat({...})` in its
 *     `capabilities` next to system(), config() and whatever else the device has;
 *  3. add tests (test/simulator/capabilities_spec.ts shows the pattern).
 * Nothing else changes: the registry, the firmware core and both transports are generic. A
 * convenience method on SimulatedDevice (like setLight) is optional; it reaches the live
 * capability with `capabilities.find(ThermostatCapability)`.
 */
import { config } from "./capabilities/config";
import { electricity } from "./capabilities/electricity";
import { encrypt } from "./capabilities/encrypt";
import { fan } from "./capabilities/fan";
import { light, MSL320_EFFECTS } from "./capabilities/light";
import { meter } from "./capabilities/meter";
import { multiple } from "./capabilities/multiple";
import { schedule } from "./capabilities/schedule";
import { system } from "./capabilities/system";
import { toggle } from "./capabilities/toggle";
import { MRS100, MSG100, MSG200 } from "./models-covers";
import { bulbAbility, CONFIG_BASE, DIGEST_BASE, MFC_LIKE_ABILITY, MSL320CPR_ABILITY, SYSTEM_BASE, TOGGLEX_BASE } from "./abilities";
import { defineModel, type Ability, type DeviceModel } from "./model-def";

export { defineModel, type Ability, type DeviceModel, type DeviceModelEntry } from "./model-def";
import { climateModels } from "./models-climate";
import { familyModels } from "./models-families";

/** Exactly the mss310r 2.1.4 trace ability list. */
const MSS310R_ABILITY: Ability = {
  ...CONFIG_BASE,
  ...SYSTEM_BASE,
  "Appliance.System.DNDMode": {},
  ...TOGGLEX_BASE,
  "Appliance.Control.ConsumptionX": {},
  "Appliance.Control.Electricity": {},
  "Appliance.Control.ConsumptionConfig": {},
  ...DIGEST_BASE,
};

/** Exactly the mss210 1.1.12 trace ability list (legacy Toggle, Timer, Trigger). */
const MSS210_ABILITY: Ability = {
  ...CONFIG_BASE,
  "Appliance.System.Online": {},
  "Appliance.System.All": {},
  "Appliance.System.Hardware": {},
  "Appliance.System.Firmware": {},
  "Appliance.System.Time": {},
  "Appliance.System.Clock": {},
  "Appliance.System.Debug": {},
  "Appliance.System.Ability": {},
  "Appliance.System.Runtime": {},
  "Appliance.System.Report": {},
  "Appliance.System.Position": {},
  "Appliance.System.DNDMode": {},
  "Appliance.Control.Toggle": {},
  "Appliance.Control.Timer": { sunOffsetSupport: 1 },
  "Appliance.Control.Trigger": {},
  "Appliance.Control.Upgrade": {},
  "Appliance.Control.Bind": {},
  "Appliance.Control.Unbind": {},
};

/** Exactly the mss305 8.3.15 trace ability list. */
const MSS305_ABILITY: Ability = {
  "Appliance.Config.Info": {},
  "Appliance.Config.Key": {},
  "Appliance.Config.OverTemp": {},
  "Appliance.Config.StandbyKiller": {},
  "Appliance.Config.Trace": {},
  "Appliance.Config.Wifi": {},
  "Appliance.Config.WifiList": {},
  "Appliance.Config.WifiX": {},
  "Appliance.Control.AlertReport": {},
  "Appliance.Control.Bind": {},
  "Appliance.Control.ConsumptionConfig": {},
  "Appliance.Control.ConsumptionH": {},
  "Appliance.Control.ConsumptionX": {},
  "Appliance.Control.Electricity": {},
  "Appliance.Control.Multiple": { maxCmdNum: 3 },
  "Appliance.Control.OverTemp": {},
  "Appliance.Control.TimerX": { sunOffsetSupport: 1 },
  "Appliance.Control.ToggleX": {},
  "Appliance.Control.TriggerX": {},
  "Appliance.Control.Unbind": {},
  "Appliance.Control.Upgrade": {},
  "Appliance.Digest.TimerX": {},
  "Appliance.Digest.TriggerX": {},
  "Appliance.System.Ability": {},
  "Appliance.System.All": {},
  "Appliance.System.Clock": {},
  "Appliance.System.DNDMode": {},
  "Appliance.System.Debug": {},
  "Appliance.System.Firmware": {},
  "Appliance.System.Hardware": {},
  "Appliance.System.Online": {},
  "Appliance.System.Position": {},
  "Appliance.System.Report": {},
  "Appliance.System.Runtime": {},
  "Appliance.System.Time": {},
};

/** mss310r list without metering: no multi-outlet trace exists, so this is a modelled strip. */
const MSS425_ABILITY: Ability = Object.fromEntries(Object.entries(MSS310R_ABILITY).filter(([ns]) => !/Consumption|Electricity/.test(ns)));

/**
 * mss110 hw 7.0.0 fw 7.3.37 (rtl8710cm), the plug ML#456 / BS#88 users lost local control of.
 * Modelled: its trace is not among our copies, so this is the mss305-era list with the two
 * encryption namespaces docs/protocol.md §4.1 quotes from it (Encrypt.Suite and Encrypt.ECDHE).
 */
const MSS110_ABILITY: Ability = {
  ...CONFIG_BASE,
  "Appliance.Config.WifiX": {},
  "Appliance.Config.Info": {},
  ...SYSTEM_BASE,
  "Appliance.System.DNDMode": {},
  ...TOGGLEX_BASE,
  ...DIGEST_BASE,
  "Appliance.Encrypt.Suite": {},
  "Appliance.Encrypt.ECDHE": {},
};

/** Exactly the hp110a 4.1.12 trace ability list (Encrypt.ECDHE only, Light capacity 15). */
const HP110A_ABILITY: Ability = {
  ...CONFIG_BASE,
  "Appliance.Config.Info": {},
  ...SYSTEM_BASE,
  "Appliance.System.Factory": {},
  ...TOGGLEX_BASE,
  "Appliance.Control.Light": { capacity: 15 },
  "Appliance.Control.Mp3": {},
  "Appliance.Mcu.Hp110.Firmware": {},
  "Appliance.Mcu.Hp110.Favorite": {},
  "Appliance.Mcu.Hp110.Preview": {},
  "Appliance.Mcu.Hp110.Lock": {},
  "Appliance.Mcu.Upgrade": {},
  ...DIGEST_BASE,
  "Appliance.Encrypt.ECDHE": {},
};

/**
 * em06 (Refoss) six-channel energy meter. Modelled: the namespaces docs/protocol-devices.md
 * §17.2–17.3 and §18.4 name from its capture (ElectricityX, ConsumptionH, CircuitFactor,
 * Sensor.History; no DNDMode) on the usual system and config base; no relay.
 */
const EM06_ABILITY: Ability = {
  ...CONFIG_BASE,
  "Appliance.Config.WifiX": {},
  ...SYSTEM_BASE,
  "Appliance.Control.ElectricityX": {},
  "Appliance.Control.ConsumptionH": {},
  "Appliance.Control.CircuitFactor": {},
  "Appliance.Control.Sensor.History": {},
  "Appliance.Control.Multiple": { maxCmdNum: 5 },
  "Appliance.Control.Bind": {},
  "Appliance.Control.Unbind": {},
  "Appliance.Control.Upgrade": {},
};

/** The simulated catalogue; keys are what `--model` and `SimulatorOptions.model` accept. */
export const MODELS: Record<string, DeviceModel> = {
  msl120: defineModel({
    name: "msl120",
    type: "msl120",
    subType: "eu",
    hardwareVersion: "2.0.0",
    firmwareVersion: "2.1.16",
    compileTime: "2020/06/18-10:31:22",
    chip: "mt7682",
    channels: 1,
    features: ["rgb", "white", "dimmable"],
    description: "Smart Wi-Fi LED bulb: RGB colour and tunable white, dimmable (ToggleX for on/off)",
    ability: bulbAbility(7),
    capabilities: [system(), config(), toggle(), schedule(), light(), multiple({ maxReplyBytes: 2048 })],
  }),
  msl100: defineModel({
    name: "msl100",
    type: "msl100",
    subType: "eu",
    hardwareVersion: "2.0.0",
    firmwareVersion: "2.1.16",
    compileTime: "2020/06/18-10:31:22",
    chip: "mt7682",
    channels: 1,
    features: ["white", "dimmable"],
    description: "Smart Wi-Fi bulb, tunable white (warm to cool) and dimmable, no colour",
    // Capacity 6 = colour temperature + luminance: a white, dimmable bulb with no RGB.
    ability: bulbAbility(6),
    capabilities: [system(), config(), toggle(), schedule(), light(), multiple({ maxReplyBytes: 2048 })],
  }),
  mss310: defineModel({
    name: "mss310",
    type: "mss310r",
    subType: "un",
    hardwareVersion: "2.0.0",
    firmwareVersion: "2.1.4",
    compileTime: "2019/11/27 11:48:08 GMT +08:00",
    chip: "mt7682",
    channels: 1,
    features: ["metering"],
    description: "Smart plug with energy monitoring (power, voltage, current, daily consumption)",
    ability: MSS310R_ABILITY,
    capabilities: [
      system(),
      config(),
      toggle(),
      schedule(),
      electricity({ consumptionConfig: { voltageRatio: 188, electricityRatio: 100 }, loadWatts: 60 }),
      multiple({ maxReplyBytes: 2900 }),
    ],
  }),
  mss210: defineModel({
    name: "mss210",
    type: "mss210",
    subType: "us",
    hardwareVersion: "1.0.0",
    firmwareVersion: "1.1.12",
    compileTime: "2018-12-17 11:01:45",
    chip: "MT7688",
    channels: 1,
    features: ["legacy toggle"],
    description: "Older smart plug (2018 firmware): legacy Control.Toggle, no ToggleX, no digest",
    ability: MSS210_ABILITY,
    capabilities: [system(), config(), toggle({ legacy: true }), schedule()],
  }),
  mss425: defineModel({
    name: "mss425",
    type: "mss425f",
    subType: "us",
    hardwareVersion: "2.0.0",
    firmwareVersion: "2.1.4",
    compileTime: "2019/11/27 11:48:08 GMT +08:00",
    chip: "mt7682",
    channels: 4,
    features: ["channels"],
    description: "Power strip with 4 switchable outlets (channels 0 to 3)",
    ability: MSS425_ABILITY,
    capabilities: [system(), config(), toggle(), schedule(), multiple({ maxReplyBytes: 2900 })],
  }),
  mss305: defineModel({
    name: "mss305",
    type: "mss305",
    subType: "un",
    hardwareVersion: "8.0.0",
    firmwareVersion: "8.3.15",
    compileTime: "2025/01/02-16:34:01",
    chip: "rtl8720cf",
    channels: 1,
    features: ["metering", "wifix"],
    description: "Newer smart plug with energy monitoring (2025 firmware: WifiX onboarding, list-style ToggleX replies)",
    ability: MSS305_ABILITY,
    capabilities: [
      system(),
      config(),
      toggle({ listReplies: true }),
      schedule({ inDigest: false }),
      electricity({ consumptionConfig: { voltageRatio: 188, electricityRatio: 101, maxElectricityCurrent: 14000 }, loadWatts: 25 }),
      multiple({ maxReplyBytes: 2900 }),
    ],
  }),
  mss110: defineModel({
    name: "mss110",
    type: "mss110",
    subType: "un",
    hardwareVersion: "7.0.0",
    firmwareVersion: "7.3.37",
    compileTime: "2024/04/19-10:12:46",
    chip: "rtl8710cm",
    channels: 1,
    features: ["encrypted", "wifix"],
    description: "Smart plug on 2024 firmware: every request encrypted (Encrypt.Suite + ECDHE), plaintext dropped; WifiX onboarding",
    ability: MSS110_ABILITY,
    capabilities: [system(), config(), toggle(), schedule(), encrypt(), multiple({ maxReplyBytes: 2900 })],
  }),
  // Synthetic, derived from the issue's description of newer firmware (no capture): the mss110
  // 7.3.37 list, plaintext answered with HTTP 500 and an empty body, and Encrypt.ECDHE listed but
  // answered with ERROR, so only the static key (§4.3 a) reaches it, in pairing mode too (key "").
  mss110v8: defineModel({
    name: "mss110v8",
    type: "mss110",
    subType: "un",
    hardwareVersion: "8.0.0",
    firmwareVersion: "8.1.5",
    compileTime: "2025/06/10-09:20:11",
    chip: "rtl8720cf",
    channels: 1,
    features: ["encrypted", "wifix", "synthetic"],
    description:
      "Smart plug, synthetic fw 8.x-like variant: " + "plaintext answered with HTTP 500 (empty body), no ECDHE exchange, static key only",
    ability: MSS110_ABILITY,
    capabilities: [system(), config(), toggle(), schedule(), encrypt({ ecdhe: false }), multiple({ maxReplyBytes: 2900 })],
    refusePlaintext: "http500",
    keyExchange: false,
  }),
  hp110a: defineModel({
    name: "hp110a",
    type: "hp110ahk",
    subType: "un",
    hardwareVersion: "4.0.0",
    firmwareVersion: "4.1.12",
    compileTime: "Jan  8 2021 15:22:32",
    chip: "MT7686",
    channels: 1,
    features: ["rgb", "white", "dimmable", "encrypted"],
    description: "Smart lamp (hp110a) with encrypted firmware (Encrypt.ECDHE): RGB and tunable white, plaintext dropped",
    // The trace's capacity 15 adds bit 8 (effects) to RGB | temperature | luminance.
    // ⚠ The 2021 trace shows this firmware answering plaintext to a client without
    // encryption; the simulator applies the mss110 7.3.x rule (drop plaintext) so clients
    // are tested against the strict case its Encrypt.ECDHE ability allows.
    ability: HP110A_ABILITY,
    capabilities: [system(), config(), toggle(), schedule(), light(), encrypt(), multiple({ maxReplyBytes: 2048 })],
  }),
  em06: defineModel({
    name: "em06",
    type: "em06",
    subType: "un",
    hardwareVersion: "6.0.0",
    firmwareVersion: "6.6.6",
    chip: "rtl8720cf",
    channels: 0,
    features: ["energy meter", "channels", "wifix"],
    description: "Six-channel energy meter (em06): power, voltage and current per circuit, no relay (ElectricityX, experimental)",
    ability: EM06_ABILITY,
    // Channel 6 feeds energy back (a solar inverter), which the meter shows as negative power.
    capabilities: [system(), config(), meter({ loads: [230, 45, 0, 1200, 60, -350] }), multiple({ maxReplyBytes: 2900 })],
  }),
  msl320cpr: defineModel({
    name: "msl320cpr",
    type: "msl320cpr",
    subType: "un",
    hardwareVersion: "4.0.0",
    firmwareVersion: "4.3.1",
    compileTime: "2021/04/13-18:12:16",
    chip: "rtl8710cm",
    channels: 1,
    features: ["rgb", "white", "dimmable", "effects", "wifix"],
    description: "LED light strip: RGB and tunable white, dimmable, five stored effects (Light.Effect)",
    ability: MSL320CPR_ABILITY,
    // ⚠ Whether this firmware lights up on any Light SET is not in the capture: modelled as not,
    // the strict case, so clients are tested without relying on the msl120j habit (§6.7).
    capabilities: [
      system(),
      config(),
      toggle(),
      schedule(),
      light({ effects: MSL320_EFFECTS, setTurnsOn: false }),
      multiple({ maxReplyBytes: 2048 }),
    ],
  }),
  "mfc-like": defineModel({
    name: "mfc-like",
    type: "mfc100",
    subType: "us",
    hardwareVersion: "7.0.0",
    firmwareVersion: "7.3.14",
    chip: "rtl8710cf",
    channels: 3,
    features: ["fan", "dimmable", "synthetic"],
    description: "SYNTHETIC ceiling fan with a dimmable light (light on channel 1, fan speeds 0-3 on channel 2), after mfc100 shapes",
    ability: MFC_LIKE_ABILITY,
    capabilities: [
      system(),
      config(),
      toggle(),
      schedule(),
      light({ channel: 1, onoffInLight: true, setTurnsOn: false }),
      fan({ channel: 2, maxSpeed: 3 }),
      multiple({ maxReplyBytes: 2048 }),
    ],
  }),
  msg100: defineModel(MSG100),
  msg200: defineModel(MSG200),
  mrs100: defineModel(MRS100),
  ...climateModels(),
  ...familyModels(),
};

/** All models, in catalogue order (for `meross simulate --list` and the docs). */
export function listModels(): DeviceModel[] {
  return Object.values(MODELS);
}
