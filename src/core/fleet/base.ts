/**
 * What both fleet modes share: the typed events, the presence registry, the keys the
 * broker's users know, and the secrets that must never be shown.
 */
import { TypedEvents, type Unsubscribe } from "../events";
import type { MqttConnection } from "../transport/mqtt";
import { KeyRing } from "./keys";
import { PresenceRegistry, type IdentityBinding } from "./presence";
import type { BrokerEndpoint, BrokerPresence, Fleet, FleetEvents } from "./types";

/** Replaces every secret in `text`: reasons from a broker may echo the password back. */
export function hideSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  // Very short secrets would mask ordinary words (the nodes' redact() draws the same line).
  for (const s of secrets) if (s.length >= 3) out = out.split(s).join("********");
  return out;
}

export abstract class FleetBase implements Fleet {
  abstract readonly mode: "embedded" | "existing";
  readonly events = new TypedEvents<FleetEvents>();
  protected readonly presence = new PresenceRegistry(this.events);
  protected readonly keys = new KeyRing();
  protected closed = false;

  constructor(protected readonly secretTexts: readonly string[] = []) {}

  abstract connection(): Promise<MqttConnection>;
  abstract currentConnection(): MqttConnection | undefined;
  abstract isListening(uuid: string): boolean;
  abstract endpoint(): Promise<BrokerEndpoint>;
  /** True while the broker (embedded) or the connection to it (existing) is up. */
  abstract online(): boolean;
  /** Stops the broker or the connection; safe to call twice. */
  abstract close(reason?: string): Promise<void>;

  devices(): BrokerPresence[] {
    return this.presence.list();
  }

  device(uuid: string): BrokerPresence | undefined {
    return this.presence.get(uuid);
  }

  /** The identity a device last proved (MAC, whose key); kept across reconnections, forgotten on close. */
  binding(uuid: string): IdentityBinding | undefined {
    return this.presence.binding(uuid);
  }

  useKeys(owner: string, keys: () => readonly string[]): Unsubscribe {
    return this.keys.use(owner, keys);
  }

  secrets(): string[] {
    return this.secretTexts.filter((s) => s !== "");
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
