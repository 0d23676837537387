/**
 * Software fades. Meross firmware has no usable fade on the LAN (`transform`/`gradual` are
 * unexplained, docs/protocol.md §6.7), so a transition is a series of ordinary Light SETs:
 * planFade() turns "from here to there in N seconds" into steps, runFade() plays them through
 * whatever sends commands (the burst-safe coalescer of the light's controller), and a FadeController stops a
 * fade as soon as a newer command for the same light arrives.
 */
import { badInput, describeValue } from "./util";

/** One SET of a fade, in device units; `atMs` counts from the start of the fade. */
export interface FadeStep {
  atMs: number;
  luminance?: number;
  temperature?: number;
  rgb?: number;
  /** Only the last step of a fade to off carries it. */
  on?: false;
}

/** Where the light is now, as the session knows it. */
export interface FadeFrom {
  on?: boolean;
  luminance: number;
  temperature: number;
  rgb: number;
  mode: string;
}

/** Where the fade ends: any of the levels, or off. */
export interface FadeTarget {
  on?: boolean;
  luminance?: number;
  temperature?: number;
  rgb?: number;
}

/**
 * One step every 150 ms: a 3 s fade is 21 requests, well above the coalescer's 55 ms floor
 * (docs/protocol.md §2.3: bulbs answer a few requests a second and some hang when flooded), and
 * brightness moves in steps of about 5 % at most over a full-range 3 s fade.
 */
export const FADE_STEP_MS = 150;
/** An hour: a sunrise alarm fits, a typo like 30000 (milliseconds meant) does not. */
export const FADE_MAX_SECONDS = 3600;

/** Seconds from a flow (number or numeric string) → milliseconds; BAD_INPUT with the fix otherwise. */
export function parseTransition(input: unknown): number {
  const text = typeof input === "string" ? input.trim().replace(/s$/, "") : "";
  const n = typeof input === "number" ? input : text !== "" ? Number(text) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > FADE_MAX_SECONDS) {
    throw badInput(
      `The transition ${describeValue(input)} is not valid: ` +
        `give the fade time in seconds, from 0 (instant) to ${FADE_MAX_SECONDS}, e.g. 3.`,
    );
  }
  return Math.round(n * 1000);
}

const lerp = (a: number, b: number, t: number): number => Math.round(a + (b - a) * t);

function lerpRgb(a: number, b: number, t: number): number {
  return [16, 8, 0].reduce((acc, shift) => acc | (lerp((a >> shift) & 0xff, (b >> shift) & 0xff, t) << shift), 0);
}

const clampLevel = (n: number): number => Math.min(100, Math.max(1, Math.round(n)));

/**
 * The steps from `from` to `to` over `durationMs`. Brightness always interpolates; a colour or
 * white temperature interpolates when the light already shows that kind of light (both ends
 * known), and otherwise switches at the first step. A light that is off starts from brightness
 * 1; a fade to off ends at brightness 1 and then switches off. The last step is exactly the
 * target, and steps that would repeat the previous one are dropped.
 */
export function planFade(from: FadeFrom, to: FadeTarget, durationMs: number, stepMs = FADE_STEP_MS): FadeStep[] {
  const wasOn = from.on !== false;
  const startLum = wasOn ? clampLevel(from.luminance) : 1;
  const endLum = to.on === false ? 1 : clampLevel(to.luminance ?? from.luminance);
  const n = Math.max(1, Math.ceil(durationMs / Math.max(1, stepMs)));
  const steps: FadeStep[] = [];
  let last = "";
  for (let i = 0; i <= n; i++) {
    const t = i / n;
    const step: FadeStep = { atMs: Math.round((durationMs * i) / n), luminance: lerp(startLum, endLum, t) };
    if (to.rgb !== undefined) step.rgb = from.mode === "rgb" && wasOn ? lerpRgb(from.rgb, to.rgb, t) : to.rgb;
    if (to.temperature !== undefined) {
      step.temperature = from.mode === "temperature" && wasOn ? lerp(from.temperature, to.temperature, t) : to.temperature;
    }
    const key = JSON.stringify({ ...step, atMs: 0 });
    // The first step of a fade from on that changes nothing is not worth a request.
    if (i === 0 && wasOn && step.luminance === startLum && step.rgb === undefined && step.temperature === undefined) continue;
    if (key === last && i < n) continue;
    last = key;
    steps.push(step);
  }
  if (to.on === false) steps.push({ atMs: durationMs, on: false });
  return steps;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Plays the steps on time, each one after the previous has been sent (a slow device delays
 * the fade, it never piles requests up). Resolves true when the last step was applied, false
 * when `signal` stopped it first.
 */
export async function runFade<R>(steps: readonly FadeStep[], apply: (step: FadeStep) => Promise<R>, signal: AbortSignal): Promise<boolean> {
  // A monotonic clock: a wall clock set back mid-fade must not stall the next step for the difference.
  const start = performance.now();
  for (const step of steps) {
    await sleep(start + step.atMs - performance.now(), signal);
    if (signal.aborted) return false;
    await apply(step);
    if (signal.aborted) return false;
  }
  return true;
}

/** At most one fade per light: a new fade or any newer command stops the one running. */
export class FadeController {
  private current: AbortController | undefined;
  /** Called once the fade now playing ends, however it ends. */
  private waiting: Array<() => void> = [];

  /** True while a fade plays. */
  get fading(): boolean {
    return this.current !== undefined;
  }

  /** A newer command arrived: the fade in progress stops before its next step. */
  interrupt(): void {
    this.current?.abort();
    this.current = undefined;
    this.ended();
  }

  /** Runs `then` once the fade playing now ends (stopped or finished); false, and nothing runs, when none plays. */
  whenIdle(then: () => void): boolean {
    if (!this.current) return false;
    this.waiting.push(then);
    return true;
  }

  private ended(): void {
    for (const then of this.waiting.splice(0)) then();
  }

  /**
   * Stops any fade, then plays this one; true when it ran to its end. `signal` is its starter's
   * (the node's close): aborting it stops the fade like a newer command does.
   */
  async run<R>(steps: readonly FadeStep[], apply: (step: FadeStep) => Promise<R>, signal?: AbortSignal): Promise<boolean> {
    this.interrupt();
    const ac = new AbortController();
    this.current = ac;
    try {
      return await runFade(steps, apply, signal ? AbortSignal.any([ac.signal, signal]) : ac.signal);
    } finally {
      if (this.current === ac) {
        this.current = undefined;
        this.ended();
      }
    }
  }
}
