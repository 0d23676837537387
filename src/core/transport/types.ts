/**
 * The one contract every carrier (HTTP, MQTT, the auto switch between them, the node-side
 * wrappers) fulfils.
 *
 * Ownership: the creator of a connection is the one that closes it. A transport closes
 * only what it created itself (HttpTransport its socket agent); a per-device MqttTransport
 * does not close the shared MqttConnection it was given, AutoTransport does not close the
 * two transports it was given, and a device session closes its transport only when the
 * session created it (from an address). Whoever passes a transport in keeps closing it.
 *
 * Encryption: the LAN key reaches the wire one way only, per request in
 * SendOptions.encryptionKey, decided by the session's encryption layer (crypto/layer.ts).
 * MQTT remembers the key of a device's last encrypted request to read its encrypted pushes.
 */
import { MerossError, explain } from "../errors";
import { TypedEvents } from "../events";
import type { Envelope } from "../protocol/message";

export interface SendOptions {
  /** Give up after this long; the caller's queue moves on. */
  timeoutMs?: number;
  /**
   * A freshly signed copy of the request (new messageId and timestamp), for a transport
   * that retries over another path: newer firmware refuses a reused messageId.
   */
  resend?: () => Envelope;
  /**
   * AES key (32 ASCII chars) of a device with LAN encryption (docs/protocol.md §4): HTTP
   * encrypts the body with it; MQTT uses it to read encrypted replies and pushes. Unset = plaintext.
   */
  encryptionKey?: string;
  /**
   * The caller stopped waiting (its queue deadline passed, or its owner closed): the transport
   * ends the exchange at once and rejects with the signal's reason when that is a MerossError,
   * so no reply arrives for a request its queue already moved past (docs/protocol.md §2.3).
   */
  signal?: AbortSignal;
}

/** What a transport tells its listeners. HTTP never pushes; MQTT reports its broker link. */
export interface TransportEventMap {
  /** A PUSH the device sent (already parsed, not yet verified: the session checks its sign). */
  push: Envelope;
  connection: { connected: boolean };
}

export type TransportEvents = TypedEvents<TransportEventMap>;

/**
 * Carries one request envelope to a device and returns the device's reply envelope.
 * Implementations parse and validate the envelope (BAD_RESPONSE on garbage) but do not
 * interpret it: signature and messageId checks belong to the device session.
 */
export interface Transport {
  readonly kind: "http" | "mqtt";
  /** Human-readable address used in error sentences (never contains secrets). */
  readonly address: string;
  /** The device uuid when the transport is bound to one device (MQTT); unset over HTTP. */
  readonly uuid?: string;
  readonly events: TransportEvents;
  send(request: Envelope, opts?: SendOptions): Promise<Envelope>;
  /** Releases what this transport created; never what it was given (see above). */
  close(): Promise<void>;
}

export function transportEvents(): TransportEvents {
  return new TypedEvents<TransportEventMap>();
}

export const HTTP_TIMEOUT_MS = 10_000;
/** A Wi-Fi scan is a live scan on the device: 3–10 s observed (docs/protocol.md §2.3). */
export const WIFI_SCAN_TIMEOUT_MS = 30_000;

/**
 * Why an aborted send ended: the signal's own reason when it is a MerossError (the queue aborts
 * with its TIMEOUT), else CANCELLED (an owner that closed aborts without one).
 */
export function abortError(signal: AbortSignal, host: string, request: Envelope): MerossError {
  if (signal.reason instanceof MerossError) return signal.reason;
  const { method, namespace } = request.header;
  return new MerossError("CANCELLED", explain.cancelled(host, `${String(method)} ${namespace}`), {
    host,
    namespace,
    method: String(method),
  });
}
