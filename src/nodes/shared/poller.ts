/**
 * The one Poller of a meross-config (src/core/fleet/polling.ts): every node that polls the device
 * (meross-state, meross-energy) subscribes to it with its own interval, so one timer and one read
 * per tick serve them all; disposed when the config closes, and each node's close unsubscribes it.
 */
import { Poller, type MerossDevice } from "../../core";
import type { MerossConfigNode } from "./types";

export function pollerFor(config: MerossConfigNode): Poller<MerossDevice> {
  return config.shared("poller", () => new Poller<MerossDevice>({ device: () => config.getDevice() }));
}
