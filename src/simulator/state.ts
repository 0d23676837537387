/**
 * Device state every capability shares: the clock, the relays (channels) and how the device is
 * set up (mode, key, broker, Wi-Fi). Capability-specific state (light, metering, DND…) lives in
 * the capability that owns it.
 */
import { TypedEvents } from "../core/events";
import { toInt } from "../core/protocol/rules";
import type { Gateway, SimChannelState, WifiNetwork } from "./types";

export interface ClockEvents {
  /**
   * The clock moved other than by time passing: `advanced` when a test skipped time forward
   * (what was due meanwhile should happen), not when something set it (NTP, System.Time).
   */
  moved: { from: number; to: number; advanced: boolean };
}

/** The device clock: seconds since boot until something sets it (docs/protocol.md §1.1). */
export class SimClock {
  readonly events = new TypedEvents<ClockEvents>();
  private readonly bootMs = Date.now();
  private offsetMs = 0;
  /** Time skipped forward by advance(), on top of the real clock and any set(). */
  private skippedMs = 0;
  timezone = "";
  timeRule: number[][] = [];

  constructor(private synced: boolean) {}

  seconds(): number {
    if (!this.synced) return Math.floor((Date.now() - this.bootMs + this.skippedMs) / 1000);
    return Math.floor((Date.now() + this.offsetMs + this.skippedMs) / 1000);
  }

  /** Seconds since the (simulated) boot, for uptime fields. */
  uptime(): number {
    return Math.floor((Date.now() - this.bootMs) / 1000);
  }

  /** Sets the clock to `timestamp` (epoch seconds) now. */
  set(timestamp: number): void {
    const from = this.seconds();
    this.synced = true;
    this.offsetMs = timestamp * 1000 - Date.now() - this.skippedMs;
    this.events.emit("moved", { from, to: this.seconds(), advanced: false });
  }

  /** Skips `seconds` forward at once, so tests see what the device does meanwhile (its timers) without waiting. */
  advance(seconds: number): void {
    const from = this.seconds();
    this.skippedMs += Math.max(0, seconds) * 1000;
    this.events.emit("moved", { from, to: this.seconds(), advanced: true });
  }

  /** NTP after joining a network: the clock follows the host's time. */
  markSynced(): void {
    const from = this.seconds();
    this.synced = true;
    this.events.emit("moved", { from, to: this.seconds(), advanced: false });
  }

  /** Seconds east of UTC now: the last `timeRule` entry `[start, offset, dst]` that has begun (System.Time). */
  utcOffset(at = this.seconds()): number {
    let offset = 0;
    for (const r of this.timeRule) if (r.length >= 2 && r[0] <= at) offset = r[1];
    return offset;
  }

  setRule(timeRule: unknown[]): void {
    this.timeRule = timeRule.filter((r): r is unknown[] => Array.isArray(r)).map((r) => r.map((x) => toInt(x) ?? 0));
  }

  /** The `time` object of System.Time, System.All and the Bind. */
  payload(): Record<string, unknown> {
    return { timestamp: this.seconds(), timezone: this.timezone, timeRule: this.timeRule.map((r) => [...r]) };
  }
}

export interface SwitchEvents {
  /** A channel changed state (not fired when it was set to the state it already had). */
  switch: { channel: number; on: boolean };
}

/** The device's outputs: one per outlet, the bulb itself for lights. */
export class SimSwitches {
  readonly events = new TypedEvents<SwitchEvents>();
  private readonly list: SimChannelState[];

  constructor(
    count: number,
    private readonly clock: SimClock,
  ) {
    const now = clock.seconds();
    this.list = Array.from({ length: count }, (_, channel) => ({ channel, on: false, lmTime: now }));
  }

  get count(): number {
    return this.list.length;
  }

  has(channel: number): boolean {
    return Number.isInteger(channel) && channel >= 0 && channel < this.list.length;
  }

  get(channel: number): SimChannelState {
    return this.list[channel];
  }

  /** Copies, so callers cannot change state behind the device's back. */
  all(): SimChannelState[] {
    return this.list.map((c) => ({ ...c }));
  }

  /** Sets a channel; true when it actually changed. `at`: when, if not now (a timer replayed by SimClock.advance). */
  set(channel: number, on: boolean, at?: number): boolean {
    const c = this.list[channel];
    if (!c || c.on === on) return false;
    c.on = on;
    c.lmTime = at ?? this.clock.seconds();
    this.events.emit("switch", { channel, on });
    return true;
  }
}

/** How the device is configured: what Config.Key and Config.Wifi change, and Unbind resets. */
export interface SimSetup {
  mode: "ap" | "normal";
  /** The key replies and pushes are signed with (docs/protocol.md §1.2). */
  key: string;
  userId: string;
  gateway?: Gateway;
  /** The network joined after onboarding, if any. */
  joined?: WifiNetwork;
  /** Scan results for Config.WifiList; tests may replace or edit them. */
  networks: WifiNetwork[];
}

/** Default scan results: all 2.4 GHz channels, as the radios in these devices are 2.4 GHz only. */
export function defaultNetworks(): WifiNetwork[] {
  return [
    { ssid: "HomeNet", bssid: "a4:2b:b0:5e:10:01", channel: 6, signal: 92, encryption: 6, cipher: 3 },
    { ssid: "Guest", bssid: "a4:2b:b0:5e:10:02", channel: 6, signal: 88, encryption: 0, cipher: 0 },
    { ssid: "Neighbour 5G", bssid: "3c:84:6a:21:7f:c3", channel: 11, signal: 41, encryption: 8, cipher: 4 },
    { ssid: "Café Wi-Fi", bssid: "f4:f2:6d:90:aa:17", channel: 1, signal: 23, encryption: 6, cipher: 3 },
  ];
}
