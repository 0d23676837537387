/**
 * One entry point for covers: picks garage (garage.ts) or roller (roller.ts) from the
 * ability list and refuses, in a sentence naming what the model can do, what it cannot.
 */
import { MerossError } from "../errors";
import type { CoverCommand, CoverResult, CoverState } from "./cover";
import { NS_GARAGE_STATE, getGarage, hasGarage, setGarage } from "./garage";
import { NS_ROLLER_POSITION, ROLLER_STOP, getRoller, hasRoller, setRoller } from "./roller";
import { modelOf, type DeviceSession } from "./types";

function refuse(s: DeviceSession, namespace: string, sentence: string): MerossError {
  return new MerossError("UNSUPPORTED", sentence, { host: s.address, namespace });
}

function wording(cmd: CoverCommand): string {
  return cmd.action === "position" ? `go to ${cmd.position} %` : cmd.action;
}

/** Runs `cmd` on door/shutter `channel`; a read returns the state with `sent: false`. */
export async function coverCommand(s: DeviceSession, channel: number, cmd: CoverCommand): Promise<CoverResult> {
  await s.ready();
  const model = modelOf(s);
  if (hasGarage(s)) {
    if (cmd.action === "read") return withSent(await getGarage(s, channel), false);
    if (cmd.action === "open" || cmd.action === "close") return setGarage(s, channel, cmd.action === "open");
    throw refuse(s, NS_GARAGE_STATE, `This ${model} is a garage door opener: it can open and close, not ${wording(cmd)}.`);
  }
  if (hasRoller(s)) {
    if (cmd.action === "read") return withSent(await getRoller(s, channel), false);
    const target = cmd.action === "open" ? 100 : cmd.action === "close" ? 0 : cmd.action === "stop" ? ROLLER_STOP : cmd.position;
    return setRoller(s, channel, target);
  }
  throw refuse(
    s,
    NS_GARAGE_STATE,
    `This ${model} is not a garage door opener or a roller shutter ` +
      `(its ability list has neither ${NS_GARAGE_STATE} nor ${NS_ROLLER_POSITION}), ` +
      `so it cannot ${wording(cmd)}. Use meross-toggle for plugs and meross-light for bulbs.`,
  );
}

function withSent(c: CoverState, sent: boolean): CoverResult {
  return { ...c, sent };
}
