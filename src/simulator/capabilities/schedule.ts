/**
 * Timers and triggers (docs/protocol.md §6.10, docs/protocol-devices.md §18): stored by id,
 * answered with the shapes of real firmware, and RUN on the device's own clock like firmware
 * does, whether or not a client is connected. A timer switches its channel at its minute of
 * the local day on the days of its `week`; a trigger switches a channel off `duration` seconds
 * after it turned on. Each switch is pushed like a button press. Legacy Timer/Trigger
 * (mss210) are answered as empty lists.
 */
import { isObject, toInt, type Json } from "../../core/protocol/rules";
import { getAck, setAck, unsupported, type Capability, type CapabilitySpec, type Outcome, type SimContext, type SimRequest } from "./types";

const NAMESPACES = [
  "Appliance.Control.TimerX",
  "Appliance.Control.TriggerX",
  "Appliance.Control.Timer",
  "Appliance.Control.Trigger",
  "Appliance.Digest.TimerX",
  "Appliance.Digest.TriggerX",
] as const;

export interface ScheduleSettings {
  /** The System.All digest lists triggerx/timerx (false on the mss305 8.3.15 trace, whose digest has togglex only). */
  inDigest?: boolean;
  /**
   * `week` bit 0 is Monday ([DK]) instead of Sunday ([AR], the default, as the core writes it):
   * the sources disagree and no capture decides (docs/protocol-devices.md §18.2 ⚠).
   */
  mondayFirst?: boolean;
}

interface Stored {
  entry: Json;
  count: number;
}

/** A switch-off a trigger owes: `due` in device seconds. */
interface PendingOff {
  channel: number;
  due: number;
}

const DAY = 86400;
/** How often the device looks at its clock while something is scheduled (real time). */
const TICK_MS = 1000;
/** Timer `type` 2 runs once, then the entry is disabled (docs/protocol-devices.md §18.2 ⚠). */
const TYPE_ONCE = 2;

function idOf(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

export class ScheduleCapability implements Capability {
  private readonly timers = new Map<string, Stored>();
  private readonly triggers = new Map<string, Stored>();
  private pending: PendingOff[] = [];
  /** Device time up to which timers have been run. */
  private checked: number;
  /** The device time an action runs at while a skipped stretch of time is replayed. */
  private firingAt: number | undefined;
  private ticking = false;

  constructor(
    private readonly ctx: SimContext,
    private readonly settings: ScheduleSettings,
  ) {
    this.checked = ctx.clock.seconds();
    ctx.clock.events.on("moved", ({ to, advanced }) => {
      if (advanced) this.run(to);
      // A clock that was set (NTP, System.Time) does not replay what lies between.
      else this.checked = to;
    });
    ctx.switches.events.on("switch", ({ channel, on }) => this.switched(channel, on));
  }

  handle(req: SimRequest): Outcome | undefined {
    const ns = req.namespace;
    if (ns === "Appliance.Control.Timer" || ns === "Appliance.Control.Trigger") {
      return req.method === "GET" ? getAck({ [ns === "Appliance.Control.Timer" ? "timer" : "trigger"]: [] }) : undefined;
    }
    const kind = ns.endsWith("TimerX") ? "timerx" : "triggerx";
    const store = kind === "timerx" ? this.timers : this.triggers;
    if (ns.startsWith("Appliance.Digest.")) return req.method === "GET" ? getAck({ digest: this.digest(store) }) : undefined;
    const body = req.payload[kind];
    switch (req.method) {
      case "GET": {
        // Without a known id the device answers empty objects (docs/protocol-devices.md §18.2, [T …05, …06]).
        const id = isObject(body) ? idOf(body.id) : undefined;
        const found = id === undefined ? undefined : store.get(id);
        return getAck(found ? { [kind]: structuredClone(found.entry) } : { digest: {}, [kind]: {} });
      }
      case "SET": {
        const list = Array.isArray(body) ? body : [body];
        const entries = list.map((e) => (kind === "timerx" ? this.checkTimer(e) : this.checkTrigger(e)));
        if (entries.length === 0 || entries.some((e) => e === undefined)) return unsupported(`invalid ${kind} entry`);
        for (const e of entries as Json[]) {
          const id = e.id as string;
          store.set(id, { entry: e, count: (store.get(id)?.count ?? 0) + 1 });
        }
        this.startTicking();
        this.ctx.changed();
        return setAck();
      }
      case "DELETE": {
        const id = isObject(body) ? idOf(body.id) : undefined;
        if (id === undefined || !store.delete(id)) return unsupported(`no ${kind} with this id`);
        this.ctx.changed();
        return { method: "DELETEACK", payload: {} };
      }
      default:
        return undefined;
    }
  }

  /** Legacy firmware (Timer/Trigger) lists them under `control`; current firmware in the digest. */
  all(): Json {
    const ability = this.ctx.model.ability;
    if ("Appliance.Control.TimerX" in ability) {
      return this.settings.inDigest === false ? {} : { digest: { triggerx: this.digest(this.triggers), timerx: this.digest(this.timers) } };
    }
    if ("Appliance.Control.Timer" in ability) return { control: { trigger: [], timer: [] } };
    return {};
  }

  /** Copies of the stored entries, as the device holds them. */
  entries(): { timers: Json[]; triggers: Json[] } {
    return {
      timers: [...this.timers.values()].map((s) => structuredClone(s.entry)),
      triggers: [...this.triggers.values()].map((s) => structuredClone(s.entry)),
    };
  }

  private digest(store: Map<string, Stored>): Json[] {
    return [...store.entries()].map(([id, s]) => ({ channel: s.entry.channel, id, count: s.count }));
  }

  private common(e: unknown): Json | undefined {
    if (!isObject(e)) return undefined;
    const id = idOf(e.id);
    const channel = toInt(e.channel ?? 0);
    if (id === undefined || channel === undefined || !this.ctx.switches.has(channel)) return undefined;
    const enable = toInt(e.enable ?? 1) === 0 ? 0 : 1;
    const alias = typeof e.alias === "string" ? e.alias : "";
    return { id, channel, enable, alias, type: toInt(e.type) ?? 1, createTime: toInt(e.createTime) ?? 0 };
  }

  private checkTimer(e: unknown): Json | undefined {
    const base = this.common(e);
    if (!base || !isObject(e)) return undefined;
    const time = toInt(e.time);
    const week = toInt(e.week);
    const toggle = isObject(e.extend) && isObject(e.extend.toggle) ? e.extend.toggle : undefined;
    const onoff = toggle ? toInt(toggle.onoff) : undefined;
    if (time === undefined || time < 0 || time > 1439 || week === undefined || (onoff !== 0 && onoff !== 1)) return undefined;
    const sunOffset = toInt(e.sunOffset) ?? 0;
    const duration = toInt(e.duration) ?? 0;
    return { ...base, week, time, sunOffset, duration, extend: { toggle: { onoff, lmTime: toInt(toggle!.lmTime) ?? 0 } } };
  }

  private checkTrigger(e: unknown): Json | undefined {
    const base = this.common(e);
    if (!base || !isObject(e) || !isObject(e.rule)) return undefined;
    const week = toInt(e.rule.week);
    const duration = toInt(e.rule.duration);
    if (week === undefined || duration === undefined || duration <= 0) return undefined;
    return { ...base, rule: { week, duration } };
  }

  // ---- running them ------------------------------------------------------------------

  /** Whether `week` names the weekday of local day `localDay` (days since the epoch, local time). */
  private onDay(week: number, localDay: number): boolean {
    const sunday0 = (localDay + 4) % 7; // 1970-01-01 was a Thursday
    const bit = this.settings.mondayFirst ? (sunday0 + 6) % 7 : sunday0;
    return (week & (1 << bit)) !== 0;
  }

  /** The first time after `t` (device seconds) this timer is due, within a week. */
  private nextRun(e: Json, t: number): number | undefined {
    const offset = this.ctx.clock.utcOffset(t);
    const today = Math.floor((t + offset) / DAY);
    const week = Number(e.week);
    // A one-shot timer without days runs on the next occasion.
    const anyDay = (week & 0x7f) === 0;
    for (let d = 0; d <= 7; d++) {
      const at = (today + d) * DAY + Number(e.time) * 60 - offset;
      if (at > t && (anyDay || this.onDay(week, today + d))) return at;
    }
    return undefined;
  }

  /** Runs, in time order, everything due up to device time `to`. */
  private run(to: number): void {
    let changed = false;
    for (;;) {
      let next: { at: number; fire: () => void } | undefined;
      for (const s of this.timers.values()) {
        if (s.entry.enable !== 1) continue;
        const at = this.nextRun(s.entry, this.checked);
        if (at !== undefined && at <= to && (!next || at < next.at)) next = { at, fire: () => this.fireTimer(s) };
      }
      for (const p of this.pending) {
        if (p.due <= to && (!next || p.due < next.at)) next = { at: Math.max(p.due, this.checked), fire: () => this.fireOff(p) };
      }
      if (!next) break;
      this.checked = next.at;
      this.firingAt = next.at;
      next.fire();
      this.firingAt = undefined;
      changed = true;
    }
    this.checked = Math.max(this.checked, to);
    if (changed) this.ctx.changed();
  }

  private fireTimer(s: Stored): void {
    const e = s.entry;
    const toggle = isObject(e.extend) && isObject(e.extend.toggle) ? e.extend.toggle : {};
    this.ctx.switches.set(Number(e.channel), toggle.onoff === 1, this.firingAt);
    if (e.type === TYPE_ONCE) e.enable = 0;
  }

  private fireOff(p: PendingOff): void {
    this.pending = this.pending.filter((x) => x !== p);
    this.ctx.switches.set(p.channel, false, this.firingAt);
  }

  /** Any switch (button, app, client, timer): on starts the channel's auto-off triggers, off cancels them. */
  private switched(channel: number, on: boolean): void {
    this.pending = this.pending.filter((p) => p.channel !== channel);
    if (!on) return;
    const now = this.firingAt ?? this.ctx.clock.seconds();
    const today = Math.floor((now + this.ctx.clock.utcOffset(now)) / DAY);
    for (const s of this.triggers.values()) {
      const e = s.entry;
      const rule = isObject(e.rule) ? e.rule : {};
      if (e.enable !== 1 || e.channel !== channel || !this.onDay(Number(rule.week), today)) continue;
      this.pending.push({ channel, due: now + Number(rule.duration) });
    }
    if (this.pending.length > 0) this.startTicking();
  }

  /** Looks at the clock every second of real time while anything is scheduled, like firmware. */
  private startTicking(): void {
    if (this.ticking) return;
    this.ticking = true;
    const tick = (): void => {
      this.run(this.ctx.clock.seconds());
      if (this.timers.size > 0 || this.pending.length > 0) this.ctx.later(tick, TICK_MS);
      else this.ticking = false;
    };
    this.ctx.later(tick, TICK_MS);
  }
}

export function schedule(settings: ScheduleSettings = {}): CapabilitySpec {
  return { name: "schedule", namespaces: NAMESPACES, settings, create: (ctx) => new ScheduleCapability(ctx, settings) };
}
