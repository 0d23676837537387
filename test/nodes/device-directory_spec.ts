import assert from "node:assert/strict";
import type { NodeAPI } from "node-red";
import { deviceDirectory } from "../../src/nodes/shared/device-directory";
import type { MerossConfigNode } from "../../src/nodes/shared/types";

/** A deployed meross-config as the directory sees it: ids, names, uuid and (maybe) learnt abilities. */
function config(id: string, name: string, uuid: string, abilities?: Record<string, unknown>): MerossConfigNode {
  return {
    id,
    name,
    host: "127.0.0.1",
    uuid: () => uuid,
    displayName: () => name || `mss310 …${uuid.slice(-4)}`,
    device: abilities ? { abilities } : undefined,
  } as unknown as MerossConfigNode;
}

/** What two node files of one runtime get: different RED objects, the same admin app. */
function runtime(): { fileA: NodeAPI; fileB: NodeAPI } {
  const httpAdmin = {};
  const events = {};
  return { fileA: { httpAdmin, events } as unknown as NodeAPI, fileB: { httpAdmin, events } as unknown as NodeAPI };
}

const LIGHT = { "Appliance.Control.Light": {}, "Appliance.Control.ToggleX": {} };
const SHUTTER = { "Appliance.RollerShutter.State": {} };

describe("the directory of deployed Meross devices", () => {
  it("is one per runtime: the node files of a runtime share it, another runtime has its own", () => {
    const one = runtime();
    const two = runtime();
    const desk = config("c1", "Desk lamp", "a".repeat(32));
    deviceDirectory(one.fileA).add(desk);
    assert.equal(deviceDirectory(one.fileB).find("desk lamp"), desk);
    assert.throws(() => deviceDirectory(two.fileA).find("Desk lamp"), /No Meross device named "Desk lamp"/);
  });

  it("finds a config by its name, the device's name or uuid in any case, and forgets it once removed", () => {
    const { fileA } = runtime();
    const d = deviceDirectory(fileA);
    const unnamed = config("c2", "", "0123456789abcdef0123456789abc243");
    const remove = d.add(unnamed);
    assert.equal(d.find("MSS310 …C243"), unnamed);
    assert.equal(d.find("0123456789ABCDEF0123456789ABC243"), unnamed);
    remove();
    assert.equal(d.has(unnamed), false);
    assert.throws(() => d.find("0123456789abcdef0123456789abc243"), /there is no Meross device for this node in the deployed flows/);
  });

  it("a redeployed config replaces the old one; the old one's close does not remove the new one", () => {
    const { fileA } = runtime();
    const d = deviceDirectory(fileA);
    const removeOld = d.add(config("c1", "Porch", "b".repeat(32)));
    const fresh = config("c1", "Porch", "b".repeat(32));
    d.add(fresh);
    removeOld();
    assert.equal(d.find("porch"), fresh);
  });

  it("lists, for a light, the devices that can light or whose abilities are not known yet", () => {
    const { fileA } = runtime();
    const d = deviceDirectory(fileA);
    d.add(config("c1", "Desk lamp", "1".repeat(32), LIGHT));
    d.add(config("c2", "Bedroom shutter", "2".repeat(32), SHUTTER));
    d.add(config("c3", "New plug", ""));
    assert.throws(() => d.find("Kitchen", "light"), { message: 'No Meross device named "Kitchen"; devices: Desk lamp, New plug.' });
    assert.throws(() => d.find("Kitchen", "cover"), { message: 'No Meross device named "Kitchen"; devices: Bedroom shutter, New plug.' });
    // A uuid-looking name may belong to a device that has not said its uuid yet: the sentence says so.
    assert.throws(() => d.find("f".repeat(32), "light"), /found by name until it has answered once/);
  });
});
