/**
 * What garage doors (garage.ts) and roller shutters (roller.ts) share: the state a person
 * cares about (open, closed, moving, where), the input a flow may send, and the one entry
 * point that picks the family from the ability list and refuses what a model cannot do.
 */
import { MerossError } from "../errors";
import { describeValue } from "../protocol/rules";
import type { ChangeSource, DeviceEvent, MutableDeviceState } from "./types";

declare module "./types" {
  interface MutableDeviceState {
    /** Garage doors and roller shutters per channel (created by the first cover reading). */
    covers?: Map<number, CoverState>;
  }
  interface CapabilityEvents {
    cover: { cover: CoverState; source?: ChangeSource };
  }
}

export type CoverMotion = "open" | "closed" | "opening" | "closing" | "stopped";
export type CoverKind = "garage" | "roller";

/** One door or shutter. `position` (0 closed … 100 open) only for rollers. */
export interface CoverState {
  kind: CoverKind;
  channel: number;
  state: CoverMotion;
  position?: number;
  /** Epoch seconds of the last contact change when the firmware fills it (garage, docs/protocol-devices.md §11.2). */
  lmTime?: number;
  /** Roller: 0 run completed, 1 stopped by a command (docs/protocol-devices.md §12.2). */
  stoppedBy?: number;
  /** Epoch ms after which a transition we inferred from our own command is no longer believed. */
  until?: number;
}

/** What a command did: the state now, whether anything went to the device, and why not. */
export interface CoverResult extends CoverState {
  sent: boolean;
  /** A sentence when nothing was sent (the door already is, or is going, where asked). */
  note?: string;
  /** How long the move should take from now, in ms, when one started (to read the end state). */
  settleMs?: number;
}

/** What a flow asks a cover to do: a named action, a position, or nothing (read). */
export type CoverCommand =
  { action: "read" } | { action: "open" } | { action: "close" } | { action: "stop" } | { action: "position"; position: number };

const WORDS: Record<string, CoverCommand["action"]> = {
  open: "open",
  up: "open",
  close: "close",
  closed: "close",
  down: "close",
  stop: "stop",
  read: "read",
  get: "read",
  status: "read",
  state: "read",
};

function badCommand(input: unknown): MerossError {
  return new MerossError(
    "BAD_INPUT",
    `${describeValue(input)} is not a command for a garage door or shutter: send "open", "close", "stop", ` +
      `a position from 0 (closed) to 100 (open) for a roller shutter, or an empty payload to read the state.`,
  );
}

/** Loose input from msg.payload: words (any case), numbers or numeric strings 0–100, empty = read. */
export function parseCoverInput(input: unknown): CoverCommand {
  if (input === undefined || input === null || (typeof input === "string" && input.trim() === "")) return { action: "read" };
  let n: number | undefined;
  if (typeof input === "number") n = input;
  else if (typeof input === "string") {
    const t = input.trim().toLowerCase();
    if (t in WORDS) return { action: WORDS[t] } as CoverCommand;
    const stripped = t.endsWith("%") ? t.slice(0, -1).trim() : t;
    if (/^-?\d+(\.\d+)?$/.test(stripped)) n = Number(stripped);
  }
  if (n === undefined) throw badCommand(input);
  if (!Number.isFinite(n) || !Number.isInteger(n) || n < 0 || n > 100) {
    const range = "use a whole number from 0 (closed) to 100 (open)";
    throw new MerossError("BAD_INPUT", `The position ${describeValue(input)} is out of range: ${range}.`);
  }
  return { action: "position", position: n };
}

function sameCover(a: CoverState | undefined, b: CoverState): boolean {
  return !!a && a.state === b.state && a.position === b.position && a.kind === b.kind;
}

/** Records one cover's state; listeners hear about it only when state or position changed. */
export function noteCover(state: MutableDeviceState, next: CoverState, source: ChangeSource = "reply"): DeviceEvent[] {
  if (!state.covers) state.covers = new Map();
  const before = state.covers.get(next.channel);
  state.covers.set(next.channel, { ...next });
  return sameCover(before, next) ? [] : [{ type: "cover", cover: { ...next }, source }];
}

/** The output a flow sees: `{state, channel}` plus `position` for rollers. */
export function coverToOutput(c: CoverState): { state: CoverMotion; channel: number; position?: number } {
  return c.position === undefined ? { state: c.state, channel: c.channel } : { state: c.state, position: c.position, channel: c.channel };
}
