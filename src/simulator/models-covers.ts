/**
 * The covers family of the catalogue (models.ts): the msg100 and msg200 garage door openers and
 * the mrs100 roller shutter, each as its capture shows it (ability list, identity fields).
 */
import { config } from "./capabilities/config";
import { garage } from "./capabilities/garage";
import { multiple } from "./capabilities/multiple";
import { roller } from "./capabilities/roller";
import { schedule } from "./capabilities/schedule";
import { system } from "./capabilities/system";
import { toggle } from "./capabilities/toggle";
import { CONFIG_BASE, DIGEST_BASE, SYSTEM_BASE } from "./abilities";
import type { DeviceModelEntry } from "./models";

/** Exactly the msg100 4.2.1 trace ability list, in its order, with the blocks every capture shares (garage door opener, docs/protocol-devices.md §11.1). */
const MSG100_ABILITY: DeviceModelEntry["ability"] = {
  ...CONFIG_BASE,
  "Appliance.Config.WifiX": {},
  "Appliance.Config.Info": {},
  ...SYSTEM_BASE,
  "Appliance.System.DNDMode": {},
  "Appliance.Control.Multiple": { maxCmdNum: 5 },
  "Appliance.Control.ToggleX": {},
  "Appliance.Control.TimerX": { sunOffsetSupport: 1, notify: ["Appliance.GarageDoor.State"] },
  "Appliance.Control.TriggerX": { notify: ["Appliance.GarageDoor.State"] },
  "Appliance.Control.Bind": {},
  "Appliance.Control.Unbind": {},
  "Appliance.Control.Upgrade": {},
  "Appliance.GarageDoor.State": {},
  "Appliance.GarageDoor.Config": {},
  ...DIGEST_BASE,
};

/**
 * msg200 fw 4.2.8 ([T …1C], docs/protocol-devices.md §11.1): the msg100 list with
 * GarageDoor.MultipleConfig in place of GarageDoor.Config. ⚠ The capture is not kept in the
 * project: the shared blocks and their order follow the msg100 list.
 */
const MSG200_ABILITY: DeviceModelEntry["ability"] = Object.fromEntries(
  Object.entries(MSG100_ABILITY).map(([ns, v]) =>
    ns === "Appliance.GarageDoor.Config" ? ["Appliance.GarageDoor.MultipleConfig", {}] : [ns, v],
  ),
);

/** Exactly the mrs100 2.1.2 trace ability list, in its order, with the blocks every capture shares (roller shutter, docs/protocol-devices.md §12.1). */
const MRS100_ABILITY: DeviceModelEntry["ability"] = {
  ...CONFIG_BASE,
  ...SYSTEM_BASE,
  "Appliance.System.DNDMode": {},
  "Appliance.Control.Multiple": { maxCmdNum: 5 },
  "Appliance.Control.TimerX": { sunOffsetSupport: 1 },
  "Appliance.Control.TriggerX": {},
  "Appliance.Control.Bind": {},
  "Appliance.Control.Unbind": {},
  "Appliance.Control.Upgrade": {},
  ...DIGEST_BASE,
  "Appliance.RollerShutter.Position": {},
  "Appliance.RollerShutter.State": {},
  "Appliance.RollerShutter.Config": {},
};

export const MSG100: DeviceModelEntry = {
  name: "msg100",
  type: "msg100",
  subType: "us",
  hardwareVersion: "4.0.0",
  firmwareVersion: "4.2.1",
  compileTime: "Sep 15 2021 10:21:01",
  chip: "MT7686",
  channels: 1,
  features: ["garage door", "wifix"],
  description: "Garage door opener: opens and closes one door, reports it open or closed (contact sensor)",
  ability: MSG100_ABILITY,
  capabilities: [
    system(),
    config(),
    // The trace lists ToggleX (the relay); doors are driven through GarageDoor.State only (docs/protocol-devices.md §11.1).
    toggle(),
    schedule(),
    garage({ config: { signalDuration: 1000, buzzerEnable: 0, doorOpenDuration: 30000, doorCloseDuration: 30000 } }),
    multiple({ maxReplyBytes: 2048 }),
  ],
};

export const MSG200: DeviceModelEntry = {
  name: "msg200",
  type: "msg200",
  subType: "us",
  // ⚠ Hardware version, compile time and chip are not in the project's notes: the msg100's are reused.
  hardwareVersion: "4.0.0",
  firmwareVersion: "4.2.8",
  chip: "MT7686",
  // The doors are channels of GarageDoor.State; the listed ToggleX is never used for them (§11.1), one relay as on the msg100 ⚠.
  channels: 1,
  features: ["garage door", "channels", "wifix"],
  description: "Garage door opener for three doors (channels 1-3): State as a list, per-door MultipleConfig",
  ability: MSG200_ABILITY,
  capabilities: [
    system(),
    config(),
    toggle(),
    schedule(),
    // MultipleConfig values of the fw 4.2.8 capture: 15 s travel, 3 s signals (§11.3).
    garage({
      channels: [1, 2, 3],
      listReplies: true,
      perDoor: true,
      config: { signalOpen: 3000, signalClose: 3000, buzzerEnable: 0, doorOpenDuration: 15000, doorCloseDuration: 15000 },
    }),
    multiple({ maxReplyBytes: 2048 }),
  ],
};

export const MRS100: DeviceModelEntry = {
  name: "mrs100",
  type: "mrs100",
  subType: "eu",
  hardwareVersion: "2.0.0",
  firmwareVersion: "2.1.2",
  compileTime: "2020/06/02 17:38:50 GMT +08:00",
  chip: "mt7682",
  channels: 1,
  features: ["roller shutter"],
  description: "Roller shutter motor switch: open, close, stop, go to a position (0 closed to 100 open)",
  ability: MRS100_ABILITY,
  // Travel times of the capture's RollerShutter.Config (50 s each way).
  capabilities: [system(), config(), schedule(), roller({ signalOpen: 50000, signalClose: 50000 }), multiple({ maxReplyBytes: 2048 })],
};
