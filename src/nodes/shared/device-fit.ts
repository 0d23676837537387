/**
 * Which devices a node can drive, from the abilities a config's session has learnt: the editor's
 * device lists and the "no such device" sentences offer only those. A device whose abilities are
 * not known yet (never reached since the deploy) fits every node: we cannot tell.
 */

/** The node kinds that act on one device. */
export type NodeKind = "light" | "toggle" | "cover" | "climate" | "energy" | "schedule" | "request";

/** Namespaces of which at least one must be listed for a node of this kind to do its work. */
const NEEDS: Record<NodeKind, readonly string[]> = {
  light: ["Appliance.Control.Light", "Appliance.Control.Fan"],
  toggle: ["Appliance.Control.ToggleX", "Appliance.Control.Toggle"],
  cover: ["Appliance.GarageDoor.State", "Appliance.RollerShutter.State", "Appliance.RollerShutter.Position"],
  climate: [
    "Appliance.Control.Thermostat.Mode",
    "Appliance.Control.Thermostat.ModeB",
    "Appliance.Hub.Mts100.All",
    "Appliance.Control.Diffuser.Spray",
  ],
  energy: ["Appliance.Control.Electricity", "Appliance.Control.ElectricityX", "Appliance.Control.ConsumptionX"],
  schedule: ["Appliance.Control.TimerX", "Appliance.Control.TriggerX"],
  request: [],
};

/** "meross-light" → "light"; undefined for a node type that does not act on one device. */
export function kindOf(nodeType: string): NodeKind | undefined {
  const k = nodeType.replace(/^meross-/, "");
  return Object.prototype.hasOwnProperty.call(NEEDS, k) ? (k as NodeKind) : undefined;
}

/** The kinds a device with these abilities can serve; undefined when its abilities are unknown. */
export function kindsFor(abilities: Readonly<Record<string, unknown>> | undefined): NodeKind[] | undefined {
  if (!abilities) return undefined;
  return (Object.keys(NEEDS) as NodeKind[]).filter((k) => NEEDS[k].length === 0 || NEEDS[k].some((ns) => ns in abilities));
}

/** True when the device can serve `kind`, or when that is not known (abilities not learnt yet). */
export function fits(kind: NodeKind | undefined, abilities: Readonly<Record<string, unknown>> | undefined): boolean {
  if (!kind) return true;
  const kinds = kindsFor(abilities);
  return !kinds || kinds.includes(kind);
}
