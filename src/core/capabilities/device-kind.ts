/**
 * What a device is, in words a refusal can use ("this mod100 is a diffuser"), read off its ability
 * list (docs/protocol-devices.md §10.2: decide from abilities, never from the model name).
 */
import type { DeviceSession } from "./types";

const KINDS: Array<[namespace: string, what: string]> = [
  ["Appliance.Hub.Online", "a hub (give a valve's sub-device id)"],
  ["Appliance.Digest.Hub", "a hub (give a valve's sub-device id)"],
  ["Appliance.Control.Diffuser.Spray", "a diffuser (send {spray} or {light})"],
  ["Appliance.Control.Thermostat.Mode", "a thermostat"],
  ["Appliance.Control.Thermostat.ModeB", "a thermostat"],
  ["Appliance.Control.Thermostat.ModeC", "an HVAC thermostat"],
  ["Appliance.GarageDoor.State", "a garage door opener (use meross-cover)"],
  ["Appliance.RollerShutter.State", "a roller shutter (use meross-cover)"],
  ["Appliance.Control.Light", "a light (use meross-light)"],
  ["Appliance.Control.Fan", "a fan (set its speed with meross-light, {fan: n})"],
  ["Appliance.Control.ToggleX", "a switch or plug (use meross-toggle)"],
  ["Appliance.Control.Toggle", "a switch or plug (use meross-toggle)"],
];

/** "a diffuser (send {spray} or {light})", or undefined when the ability list names none of these. */
export function deviceKind(s: Pick<DeviceSession, "has">): string | undefined {
  return KINDS.find(([ns]) => s.has(ns))?.[1];
}
