/**
 * What meross-light does with one parsed request: instant changes go through the device's
 * Coalescer (latest wins, minimum interval), a transition becomes a software fade whose steps
 * go through that same Coalescer, and effects or fan speeds are sent as they come. One slot per
 * meross-config holds the Coalescer and the FadeController, so every light node on a device
 * shares them: any newer command to the light stops a fade in progress.
 */
import { Coalescer } from "../../core";
import { FadeController, planFade, type FadeStep } from "../../core";
import { setFanSpeed } from "../../core";
import { lightChannel, lightStateToOutput, type LightState } from "../../core";
import { getEffects, setEffect } from "../../core";
import type { MerossDevice } from "../../core";
import { hasLevels, mergeLightRequests, type LightRequest } from "./light-input";
import type { MerossConfigNode } from "./types";

interface LightSlot {
  scheduler: Coalescer<LightRequest, LightState>;
  fades: FadeController;
}

/** What the node sends on: the payload, and the light state when there is one (for the status). */
export interface LightResult {
  payload: unknown;
  light?: LightState;
}

function knownOn(device: MerossDevice): boolean | undefined {
  return device.toggles.get(lightChannel(device)) ?? device.light?.on;
}

async function applyLight(device: MerossDevice, req: LightRequest, signal?: AbortSignal): Promise<LightState> {
  let on = req.on;
  if (on === "toggle") on = !(knownOn(device) ?? (await device.getLight({ signal })).on ?? false);
  if (!hasLevels(req) && on === undefined) return device.getLight({ signal });
  return device.setLight({ rgb: req.rgb, temperature: req.temperature, luminance: req.luminance, on }, { signal });
}

function slotFor(config: MerossConfigNode): LightSlot {
  return config.shared("light", () => ({
    scheduler: new Coalescer<LightRequest, LightState>({
      execute: async (req, signal) => applyLight(await config.getDevice(), req, signal),
      merge: mergeLightRequests,
    }),
    fades: new FadeController(),
  }));
}

function stepRequest(step: FadeStep): LightRequest {
  const req: LightRequest = { fadeStep: true };
  if (step.luminance !== undefined) req.luminance = step.luminance;
  if (step.temperature !== undefined) req.temperature = step.temperature;
  if (step.rgb !== undefined) req.rgb = step.rgb;
  if (step.on !== undefined) req.on = step.on;
  return req;
}

/**
 * While a fade plays on this device's light, runs `then` once it ends and returns true; false when
 * none plays. meross-state uses it to report a fade once, with its final state, not every step.
 */
export function afterFade(config: MerossConfigNode, then: () => void): boolean {
  return slotFor(config).fades.whenIdle(then);
}

/** A newer command: the fade stops and its waiting step (with an in-between level) is dropped. */
function interrupt(slot: LightSlot): void {
  slot.fades.interrupt();
  slot.scheduler.cancel((c) => c.fadeStep === true);
}

async function fade(
  slot: LightSlot,
  device: MerossDevice,
  req: LightRequest,
  ms: number,
  signal?: AbortSignal,
): Promise<LightState | undefined> {
  const from = device.light ?? (await device.getLight({ signal }));
  let on = req.on;
  if (on === "toggle") on = !(knownOn(device) ?? from.on ?? false);
  const start = { ...from, on: knownOn(device) ?? from.on };
  const steps = planFade(start, { on, luminance: req.luminance, temperature: req.temperature, rgb: req.rgb }, ms);
  let last: LightState | undefined;
  slot.scheduler.cancel((c) => c.fadeStep === true);
  const finished = await slot.fades.run(steps, async (step) => {
    const outcome = await slot.scheduler.submit(stepRequest(step), { signal });
    if (outcome.status === "done") last = outcome.result;
  });
  return finished ? last : undefined;
}

/**
 * Runs one request; undefined when a newer command superseded it (its own output will carry
 * the final state). `defaultMs` is the node's transition, used when the message gives none.
 */
export async function runLight(
  config: MerossConfigNode,
  device: MerossDevice,
  req: LightRequest,
  defaultMs: number,
  signal?: AbortSignal,
): Promise<LightResult | undefined> {
  const slot = slotFor(config);
  if (req.fan !== undefined) {
    const fan = await setFanSpeed(device, req.fan);
    return { payload: { fan: fan.speed, maxSpeed: fan.maxSpeed, channel: fan.channel } };
  }
  if (req.effect === "list") return { payload: await getEffects(device) };
  interrupt(slot);
  if (req.effect !== undefined) {
    const { light, effect } = await setEffect(device, req.effect);
    return { payload: { ...lightStateToOutput(light, device.lightCapacity), effectName: effect?.name ?? "none" }, light };
  }
  const ms = req.transition ?? defaultMs;
  if (ms > 0 && (hasLevels(req) || req.on !== undefined)) {
    const light = await fade(slot, device, req, ms, signal);
    return light ? { payload: lightStateToOutput(light, device.lightCapacity), light } : undefined;
  }
  const outcome = await slot.scheduler.submit(req, { signal });
  return outcome.status === "done"
    ? { payload: lightStateToOutput(outcome.result, device.lightCapacity), light: outcome.result }
    : undefined;
}
