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
   * AES key (32 ASCII chars) of a device with LAN encryption (protocol.md §4): HTTP encrypts
   * the body with it; MQTT uses it to read encrypted replies and pushes. Unset = plaintext.
   */
  encryptionKey?: string;
}

/**
 * Carries one request envelope to a device and returns the device's reply envelope.
 * Implementations parse and validate the envelope (BAD_RESPONSE on garbage) but do not
 * interpret it: signature and messageId checks belong to the device layer.
 */
export interface Transport {
  readonly kind: "http" | "mqtt";
  /** Human-readable address used in error sentences (never contains secrets). */
  readonly address: string;
  send(request: Envelope, opts?: SendOptions): Promise<Envelope>;
  close(): Promise<void>;
  /** Transports that receive device PUSHes (MQTT) emit "push" with the envelope. */
  on?(event: "push", listener: (envelope: Envelope) => void): unknown;
  off?(event: "push", listener: (envelope: Envelope) => void): unknown;
}

export const HTTP_TIMEOUT_MS = 10_000;
/** A Wi-Fi scan is a live scan on the device: 3–10 s observed (protocol.md §2.3). */
export const WIFI_SCAN_TIMEOUT_MS = 30_000;
