/**
 * One light's orchestration, shared by every node that drives it (one per meross-config):
 * the capability check, toggle resolution, the burst-safe Coalescer, software fades and
 * effects or fan speeds, with one cancellation path — the caller's signal (its node's close)
 * reaches the waiting command, the fade and every request — and dispose() for the config's close.
 * Requests arrive in device units (`LightRequest`, merged as running both in order would end:
 * colour and white replace each other, a level change implies "on"); results leave as msg.payload.
 */
import { Coalescer } from "../coalescer";
import { FadeController, planFade, type FadeStep } from "../capabilities/fade";
import { NS_FAN, setFanSpeed } from "../capabilities/fan";
import { checkLightLevels, lightChannel, lightStateToOutput, NS_LIGHT, type LightState } from "../capabilities/light";
import { getEffects, setEffect } from "../capabilities/light-effect";
import { MerossError, explain } from "../errors";
import type { MerossDevice } from "../session/device";

/** A light request in device units; `on: "toggle"` is resolved when it runs. */
export interface LightRequest {
  on?: boolean | "toggle";
  /** 1..100 */
  luminance?: number;
  /** R<<16 | G<<8 | B */
  rgb?: number;
  /** Device temperature 1..100 (1 warmest). */
  temperature?: number;
  /** Fade time in milliseconds (msg gives seconds); 0 = instant. */
  transition?: number;
  /** A stored effect by name, Id or position; "list" reads the list, "none" stops the effect. */
  effect?: string | number;
  /** Fan speed 0..maxSpeed, "off" or "max" (ceiling fans with a light). */
  fan?: number | string;
  /** Set on the steps of a fade, so a newer command can drop a waiting one. */
  fadeStep?: true;
}

export function hasLevels(r: LightRequest): boolean {
  return r.luminance !== undefined || r.rgb !== undefined || r.temperature !== undefined;
}

/**
 * `newer` folded over `older` with the end state of running both in order:
 * newer fields win, colour and white replace each other, a level change switches on,
 * a toggle flips an explicit state and two toggles cancel out.
 */
export function mergeLightRequests(older: LightRequest, newer: LightRequest): LightRequest {
  const out: LightRequest = { ...older };
  if (newer.rgb !== undefined) {
    out.rgb = newer.rgb;
    delete out.temperature;
  }
  if (newer.temperature !== undefined) {
    out.temperature = newer.temperature;
    delete out.rgb;
  }
  if (newer.luminance !== undefined) out.luminance = newer.luminance;

  const olderOn = older.on ?? (hasLevels(older) ? true : undefined);
  if (newer.on === undefined) {
    if (hasLevels(newer)) delete out.on;
    else if (olderOn !== undefined) out.on = olderOn;
  } else if (newer.on === "toggle") {
    if (olderOn === undefined) out.on = "toggle";
    else if (olderOn === "toggle") delete out.on;
    else out.on = !olderOn;
  } else {
    out.on = newer.on;
  }
  return out;
}

/**
 * How one command ended: done with what the node sends on (and the light state for its status);
 * superseded by a newer command that carries its settings on (its output has the final state);
 * cancelled because the caller went away or the light's config closed.
 */
export type LightOutcome = { status: "done"; payload: unknown; light?: LightState } | { status: "superseded" } | { status: "cancelled" };

export interface LightRunOptions {
  /** The caller's close: aborting it drops its waiting command and stops its fade. */
  signal?: AbortSignal;
  /** Fade time used when the request gives none (the node's Transition), in ms. */
  defaultMs?: number;
}

const CANCELLED: LightOutcome = { status: "cancelled" };

function knownOn(device: MerossDevice): boolean | undefined {
  return device.toggles.get(lightChannel(device)) ?? device.light?.on;
}

/** Refuses, before queueing, what this bulb cannot do, so one bad message cannot spoil a merged burst. */
function checkCapability(device: MerossDevice, req: LightRequest): void {
  // Fans without a light (map100 purifiers) take {fan} here too: Control.Fan is what counts.
  if (req.fan !== undefined && device.has(NS_FAN)) return;
  if (!device.has(NS_LIGHT)) {
    const model = device.info?.model ?? "device";
    throw new MerossError(
      "UNSUPPORTED",
      explain.unsupported(device.address, "SET", NS_LIGHT, `this ${model} is not a light; use meross-toggle for plugs`),
      { host: device.address, namespace: NS_LIGHT },
    );
  }
  // The capacity and level rules are the SET builder's own (checkLightLevels); the SET is built once, when it runs.
  if (hasLevels(req))
    checkLightLevels(
      { channel: lightChannel(device), rgb: req.rgb, temperature: req.temperature, luminance: req.luminance },
      device.lightCapacity,
    );
}

function stepRequest(step: FadeStep): LightRequest {
  const req: LightRequest = { fadeStep: true };
  if (step.luminance !== undefined) req.luminance = step.luminance;
  if (step.temperature !== undefined) req.temperature = step.temperature;
  if (step.rgb !== undefined) req.rgb = step.rgb;
  if (step.on !== undefined) req.on = step.on;
  return req;
}

export class LightController {
  private readonly coalescer: Coalescer<LightRequest, LightState>;
  private readonly fades = new FadeController();
  private disposed = false;
  /** The session as the last run() found it known: commands run on it without asking again. */
  private known: MerossDevice | undefined;

  /** `device` resolves the session once it knows the device (All + Ability). */
  constructor(private readonly device: () => Promise<MerossDevice>) {
    this.coalescer = new Coalescer<LightRequest, LightState>({
      execute: async (req, signal) => this.apply(this.known ?? (await this.device()), req, signal),
      merge: mergeLightRequests,
    });
  }

  /** Runs one request from a node; see LightOutcome. Bad input and device errors reject with a MerossError. */
  async run(req: LightRequest, opts: LightRunOptions = {}): Promise<LightOutcome> {
    const { signal } = opts;
    if (this.disposed || signal?.aborted) return CANCELLED;
    // The one wait for the device to be known (All + Ability); the session checks again only as a guard.
    const device = await this.device();
    this.known = device;
    checkCapability(device, req);
    const session = device.scoped(signal);
    if (req.fan !== undefined) {
      const fan = await setFanSpeed(session, req.fan);
      return { status: "done", payload: { fan: fan.speed, maxSpeed: fan.maxSpeed, channel: fan.channel } };
    }
    if (req.effect === "list") return { status: "done", payload: await getEffects(session) };
    this.interrupt();
    if (req.effect !== undefined) {
      const { light, effect } = await setEffect(session, req.effect);
      return { status: "done", payload: { ...lightStateToOutput(light, device.lightCapacity), effectName: effect?.name ?? "none" }, light };
    }
    const ms = req.transition ?? opts.defaultMs ?? 0;
    if (ms > 0 && (hasLevels(req) || req.on !== undefined)) return this.fade(device, req, ms, signal);
    const outcome = await this.coalescer.submit(req, { signal });
    if (outcome.status !== "done") return outcome;
    return { status: "done", payload: lightStateToOutput(outcome.result, device.lightCapacity), light: outcome.result };
  }

  /** While a fade plays, runs `then` once it ends and returns true; false when none plays (meross-state reports a fade once). */
  afterFade(then: () => void): boolean {
    return this.fades.whenIdle(then);
  }

  /** The config closes: the fade stops, the waiting command is dropped, nothing new is accepted. */
  dispose(): void {
    this.disposed = true;
    this.fades.interrupt();
    this.coalescer.cancel();
  }

  /** A newer command: the fade stops and its waiting step (with an in-between level) is dropped. */
  private interrupt(): void {
    this.fades.interrupt();
    this.coalescer.cancel((c) => c.fadeStep === true);
  }

  /** The one place a toggle is resolved and a request becomes a Light SET (or a read). */
  private async apply(device: MerossDevice, req: LightRequest, signal?: AbortSignal): Promise<LightState> {
    let on = req.on;
    if (on === "toggle") on = !(knownOn(device) ?? (await device.getLight({ signal })).on ?? false);
    if (!hasLevels(req) && on === undefined) return device.getLight({ signal });
    return device.setLight({ rgb: req.rgb, temperature: req.temperature, luminance: req.luminance, on }, { signal });
  }

  private async fade(device: MerossDevice, req: LightRequest, ms: number, signal?: AbortSignal): Promise<LightOutcome> {
    const from = device.light ?? (await device.getLight({ signal }));
    const wasOn = knownOn(device) ?? from.on;
    const on = req.on === "toggle" ? !(wasOn ?? false) : req.on;
    const steps = planFade({ ...from, on: wasOn }, { on, luminance: req.luminance, temperature: req.temperature, rgb: req.rgb }, ms);
    let last: LightState | undefined;
    this.coalescer.cancel((c) => c.fadeStep === true);
    const finished = await this.fades.run(
      steps,
      async (step) => {
        const outcome = await this.coalescer.submit(stepRequest(step), { signal });
        if (outcome.status === "done") last = outcome.result;
      },
      signal,
    );
    if (signal?.aborted || this.disposed) return CANCELLED;
    if (!finished || !last) return { status: "superseded" };
    return { status: "done", payload: lightStateToOutput(last, device.lightCapacity), light: last };
  }
}
