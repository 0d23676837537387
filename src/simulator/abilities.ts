/**
 * Ability lists the simulated models share or that a light or fan model needs (split from
 * models.ts, which keeps the catalogue). Copied from captures unless marked SYNTHETIC.
 */
import type { Ability } from "./model-def";

export type { Ability };

export const CONFIG_BASE: Ability = {
  "Appliance.Config.Key": {},
  "Appliance.Config.WifiList": {},
  "Appliance.Config.Wifi": {},
  "Appliance.Config.Trace": {},
};

export const SYSTEM_BASE: Ability = {
  "Appliance.System.All": {},
  "Appliance.System.Hardware": {},
  "Appliance.System.Firmware": {},
  "Appliance.System.Debug": {},
  "Appliance.System.Online": {},
  "Appliance.System.Time": {},
  "Appliance.System.Clock": {},
  "Appliance.System.Ability": {},
  "Appliance.System.Runtime": {},
  "Appliance.System.Report": {},
  "Appliance.System.Position": {},
};

export const TOGGLEX_BASE: Ability = {
  "Appliance.Control.Multiple": { maxCmdNum: 5 },
  "Appliance.Control.ToggleX": {},
  "Appliance.Control.TimerX": { sunOffsetSupport: 1 },
  "Appliance.Control.TriggerX": {},
  "Appliance.Control.Bind": {},
  "Appliance.Control.Unbind": {},
  "Appliance.Control.Upgrade": {},
};

export const DIGEST_BASE: Ability = {
  "Appliance.Digest.TriggerX": {},
  "Appliance.Digest.TimerX": {},
};

/** msl320cpr 4.3.1 ability list without the strip-only parts (WifiX, Config.Info, Light.Effect). */
export function bulbAbility(capacity: number): Ability {
  return {
    ...CONFIG_BASE,
    ...SYSTEM_BASE,
    ...TOGGLEX_BASE,
    "Appliance.Control.Light": { capacity },
    ...DIGEST_BASE,
  };
}

/** Exactly the msl320cpr 4.3.1 trace ability list (…03): Light capacity 7, Light.Effect, WifiX. */
export const MSL320CPR_ABILITY: Ability = {
  ...CONFIG_BASE,
  "Appliance.Config.WifiX": {},
  "Appliance.Config.Info": {},
  ...SYSTEM_BASE,
  ...TOGGLEX_BASE,
  "Appliance.Control.Light": { capacity: 7 },
  "Appliance.Control.Light.Effect": {},
  ...DIGEST_BASE,
};

/**
 * SYNTHETIC: a ceiling fan with a light, shaped after the mfc100 facts of
 * docs/protocol-devices.md §16.1 (light on channel 1 with `onoff` inside Light, capacity 4; fan
 * on channel 2 with maxSpeed 3; ToggleX channels 0..2). Its capture is not among our copies, so
 * this list is the bulb list with Control.Fan added, not a device's.
 */
export const MFC_LIKE_ABILITY: Ability = {
  ...CONFIG_BASE,
  ...SYSTEM_BASE,
  ...TOGGLEX_BASE,
  "Appliance.Control.Light": { capacity: 4 },
  "Appliance.Control.Fan": {},
  ...DIGEST_BASE,
};
