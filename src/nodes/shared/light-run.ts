/**
 * The light controller of a meross-config (src/core/light/controller.ts): one per device, held
 * in the config's shared objects so every light node on the device uses the same coalescer and
 * fades (any newer command stops a fade in progress), disposed when the config closes.
 */
import { LightController } from "../../core";
import type { MerossConfigNode } from "./types";

export function lightFor(config: MerossConfigNode): LightController {
  return config.shared("light", () => new LightController(() => config.getDevice()));
}

/**
 * While a fade plays on this device's light, runs `then` once it ends and returns true; false when
 * none plays. meross-state uses it to report a fade once, with its final state, not every step.
 */
export function afterFade(config: MerossConfigNode, then: () => void): boolean {
  return lightFor(config).afterFade(then);
}
