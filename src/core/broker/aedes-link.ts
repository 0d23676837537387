/**
 * The embedded broker's in-process connection: nodes in the same runtime publish and
 * subscribe through aedes directly, with no TLS loopback.
 */
import { createRequire } from "node:module";
import { Aedes, type AedesPublishPacket, type PublishPacket } from "aedes";
import type { MqttLink, MqttLinkHandlers } from "../transport/mqtt";

/**
 * mqtt-packet (aedes' packet writer) fills a table of 65,536 two-byte buffers the first time it
 * writes a packet ID or length, about 7 MB of heap held for good; with it off each number is
 * written into a fresh two-byte buffer instead (what mqtt.js does with writeCache: false).
 */
export function dropPacketNumberCache(): void {
  const packets = createRequire(require.resolve("aedes"))("mqtt-packet") as { writeToStream?: { cacheNumbers?: boolean } };
  if (packets.writeToStream) packets.writeToStream.cacheNumbers = false;
}

/** The in-process side of the broker: no TLS loopback for Node-RED nodes in the same runtime. */
export class AedesLink implements MqttLink {
  private handlers: MqttLinkHandlers | undefined;
  private readonly subs: Array<{ topic: string; fn: (packet: AedesPublishPacket, cb: () => void) => void }> = [];
  private isOnline = true;

  constructor(
    private readonly aedes: Aedes,
    private readonly onClose: (link: AedesLink) => void,
  ) {}

  get online(): boolean {
    return this.isOnline && !this.aedes.closed;
  }

  attach(handlers: MqttLinkHandlers): void {
    this.handlers = handlers;
  }

  async subscribe(topics: string[]): Promise<void> {
    await Promise.all(
      topics.map(
        (topic) =>
          new Promise<void>((resolve) => {
            const fn = (packet: AedesPublishPacket, cb: () => void): void => {
              try {
                if (this.isOnline)
                  this.handlers?.message(
                    packet.topic,
                    Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(String(packet.payload)),
                  );
              } finally {
                // Released on the next turn: a client whose socket delivered hundreds of packets at
                // once (a burst after a stall, a flood) would otherwise be read on one ever deeper
                // stack until it overflows, and other sockets get their turn in between.
                setImmediate(cb);
              }
            };
            this.subs.push({ topic, fn });
            this.aedes.subscribe(topic, fn, resolve);
          }),
      ),
    );
  }

  publish(topic: string, payload: string): Promise<void> {
    if (!this.online) return Promise.reject(new Error("the embedded broker is stopped"));
    return publishPacket(this.aedes, topic, payload);
  }

  /** Called by the broker when it stops. */
  shutdown(): void {
    if (!this.isOnline) return;
    this.isOnline = false;
    this.handlers?.offline("the embedded broker stopped");
  }

  async close(): Promise<void> {
    const was = this.isOnline;
    this.isOnline = false;
    this.onClose(this);
    if (!this.aedes.closed) {
      await Promise.all(this.subs.map(({ topic, fn }) => new Promise<void>((resolve) => this.aedes.unsubscribe(topic, fn, resolve))));
    }
    this.subs.length = 0;
    if (was) this.handlers?.offline("the connection was closed");
  }
}

export function publishPacket(aedes: Aedes, topic: string, payload: string): Promise<void> {
  const packet: PublishPacket = { cmd: "publish", topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false };
  return new Promise((resolve, reject) => aedes.publish(packet, (err?: Error) => (err ? reject(err) : resolve())));
}
