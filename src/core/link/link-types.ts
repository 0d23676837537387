/**
 * The vocabulary of a device link (link/device-link.ts): how a device is reached, what its users
 * see of the session, the link's events and options.
 */
import type { DeviceEvent } from "../session/device";
import type { MerossError } from "../errors";
import type { Fleet } from "../fleet/types";

/** How a device is reached: the user's choice. */
export type Carrier = "http" | "mqtt" | "auto";

export type SessionState = "connecting" | "ready" | "error";

/** What every user of the device shows. `text` is short (status line); `error` is set in state "error". */
export interface LinkStatus {
  state: SessionState;
  text: string;
  error?: MerossError;
}

export interface DeviceLinkEvents {
  /** The session moved (connecting → ready / error), or what the ready text names changed (path, IP). */
  state: LinkStatus;
  /** A state change of the device (our commands' replies and its pushes). */
  event: DeviceEvent;
}

export interface DeviceLinkOptions {
  /** `host` or `host:port` for HTTP; may be empty over MQTT when the uuid is known. */
  host?: string;
  /** The configured uuid; empty to learn it from the device. */
  uuid?: string;
  carrier?: Carrier;
  fleet?: Fleet;
  /** Names the broker in error sentences. */
  fleetLabel?: string;
  key?: string;
  /** auto / static / ecdhe / off (docs/protocol.md §4). */
  encryption?: unknown;
  /** Who holds the key registration on the fleet (the config node's id). */
  owner: string;
  /** The user's name for the device (the config's name); empty to name it by model and uuid. */
  name?: string;
  retryMs?: number;
  closeBoundMs?: number;
  log?: (text: string) => void;
}

/** After a failed first read, try again this much later while someone still wants the device. */
export const LINK_RETRY_MS = 30_000;
/** A host runtime allows little time for close (Node-RED: 15 s); a device that hangs must not eat it. */
export const LINK_CLOSE_BOUND_MS = 2_000;
