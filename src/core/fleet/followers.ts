/**
 * Devices followed from their pushes alone: a meross-state on a broker reports every
 * device there, including ones no meross-config knows, by feeding each device's PUSHes
 * (docs/protocol.md §5.1) to a session that never sends anything itself.
 */
import { MerossDevice, type DeviceEvent } from "../session/device";
import { MerossError } from "../errors";
import type { Unsubscribe } from "../events";
import type { Envelope } from "../protocol/message";
import { transportEvents, type Transport } from "../transport/types";
import type { Fleet } from "./types";

/** The one place that subscribes to a device session's events; the returned function unsubscribes. */
export function onDeviceEvent(device: MerossDevice, listener: (ev: DeviceEvent) => void): Unsubscribe {
  return device.events.on("event", listener);
}

/** Never sends: a follower only applies the pushes it is handed. */
export class PushOnlyTransport implements Transport {
  readonly kind = "mqtt" as const;
  readonly events = transportEvents();
  constructor(readonly address: string) {}
  send(): Promise<Envelope> {
    return Promise.reject(new MerossError("UNSUPPORTED", "This session only follows pushes."));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class PushFollowers {
  private readonly followed = new Map<string, { device: MerossDevice; off: Unsubscribe }>();
  private readonly offPush: Unsubscribe;

  /** `onEvent` hears every change a followed device pushes (toggle, light, online). */
  constructor(
    fleet: Pick<Fleet, "events">,
    private readonly onEvent: (uuid: string, ev: DeviceEvent) => void,
  ) {
    this.offPush = fleet.events.on("push", ({ uuid, envelope }) => {
      try {
        this.follow(uuid).handlePush(envelope);
      } catch {
        // A malformed push is the device's problem, never a crash of ours.
      }
    });
  }

  private follow(uuid: string): MerossDevice {
    const known = this.followed.get(uuid);
    if (known) return known.device;
    // The fleet only hands over pushes whose signature it verified with a known key.
    const device = new MerossDevice({ transport: new PushOnlyTransport(uuid), key: "", verifyPushes: false });
    const off = onDeviceEvent(device, (ev) => this.onEvent(uuid, ev));
    this.followed.set(uuid, { device, off });
    return device;
  }

  /** The session of a device that pushed at least once. */
  get(uuid: string): MerossDevice | undefined {
    return this.followed.get(uuid)?.device;
  }

  get size(): number {
    return this.followed.size;
  }

  close(): void {
    this.offPush();
    for (const { device, off } of this.followed.values()) {
      off();
      void device.close().catch(() => undefined);
    }
    this.followed.clear();
  }
}
