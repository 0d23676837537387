/**
 * Node-RED's own MQTT client on an existing broker: whatever reaches it through the broker is
 * chosen by someone else. A packet whose header claims 200 MB must end the connection before
 * mqtt.js buffers it, the connection must come back by itself, and a retained message must not
 * pass for what a device says now.
 */
import assert from "node:assert/strict";
import net from "node:net";
import mqttPacket from "mqtt-packet";
import { buildMessage } from "../../src/core/protocol/message";
import { MqttConnection, type MqttPushEvent } from "../../src/core/transport/mqtt";
import { drained } from "../e2e/mosquitto-attacks";

const UUID = "2308085712920951080748e1e9d58442";
const KEY = "client-bounds-key";
const MB = 1024 * 1024;
/** RSS may grow this much (the whole test process; without the guard it grows by the bytes streamed). */
const RSS_BOUND = 32 * MB;

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function push(onoff: number): Buffer {
  return Buffer.from(
    JSON.stringify(
      buildMessage({
        method: "PUSH",
        namespace: "Appliance.Control.ToggleX",
        payload: { togglex: [{ channel: 0, onoff }] },
        key: KEY,
        from: `/appliance/${UUID}/publish`,
        uuid: UUID,
      }),
    ),
  );
}

/**
 * A broker that answers CONNECT and SUBSCRIBE; on the first connection it then sends a retained
 * push and a PUBLISH claiming 200 MB (streaming up to 16 MB of it), on later ones a live push.
 */
class HostileBroker {
  readonly server = net.createServer((sock) => this.serve(sock));
  private readonly sockets = new Set<net.Socket>();
  connections = 0;
  /** Bytes of the huge packet written before the client hung up. */
  streamed = 0;
  clientHungUp = false;

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, "127.0.0.1", () => resolve((this.server.address() as net.AddressInfo).port)));
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private serve(sock: net.Socket): void {
    const n = ++this.connections;
    this.sockets.add(sock);
    sock.once("close", () => this.sockets.delete(sock));
    sock.on("error", () => undefined);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on("packet", (p: mqttPacket.Packet) => {
      if (p.cmd === "connect") sock.write(mqttPacket.generate({ cmd: "connack", returnCode: 0, sessionPresent: false }));
      if (p.cmd === "subscribe") {
        const s = p as mqttPacket.ISubscribePacket;
        sock.write(mqttPacket.generate({ cmd: "suback", messageId: s.messageId, granted: s.subscriptions.map(() => 1) }));
        if (n === 1) void this.attack(sock);
        else
          sock.write(
            mqttPacket.generate({
              cmd: "publish",
              topic: `/appliance/${UUID}/publish`,
              payload: push(0),
              qos: 0,
              retain: false,
              dup: false,
            }),
          );
      }
    });
    sock.on("data", (d) => void parser.parse(d));
  }

  private async attack(sock: net.Socket): Promise<void> {
    let closed = false;
    sock.once("close", () => (closed = true));
    sock.write(
      mqttPacket.generate({ cmd: "publish", topic: `/appliance/${UUID}/publish`, payload: push(1), qos: 0, retain: true, dup: false }),
    );
    const topic = Buffer.from(`/appliance/${UUID}/publish`);
    // PUBLISH QoS 0, remaining length 200 MB, then its topic and an endless payload.
    const header = [0x30];
    for (let len = 200 * MB; len > 0; len = Math.floor(len / 128)) header.push((len % 128) | (len >= 128 ? 0x80 : 0));
    sock.write(Buffer.concat([Buffer.from(header), Buffer.from([topic.length >> 8, topic.length & 0xff]), topic]));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    while (!closed && this.streamed < 16 * MB) {
      this.streamed += chunk.length;
      if (!sock.write(chunk) && !closed) {
        await drained(sock);
      }
    }
    this.clientHungUp = closed;
  }
}

describe("MQTT client bounds (existing broker)", function () {
  this.timeout(30_000);
  let broker: HostileBroker;
  let conn: MqttConnection | undefined;

  beforeEach(() => {
    broker = new HostileBroker();
  });
  afterEach(async () => {
    await conn?.close();
    conn = undefined;
    await broker.close();
  });

  it("ends a connection whose broker sends a packet claiming 200 MB, before buffering it; reconnects; ignores retained pushes", async () => {
    const port = await broker.listen();
    const rss0 = process.memoryUsage().rss;
    conn = MqttConnection.create({ url: `mqtt://127.0.0.1:${port}`, reconnectPeriodMs: 200 });
    const pushes: MqttPushEvent[] = [];
    const offline: string[] = [];
    conn.events.on("push", (e) => pushes.push(e));
    conn.events.on("offline", ({ reason }) => offline.push(reason));
    await until(() => broker.connections >= 2 && pushes.length > 0, "a reconnect and the live push");
    assert.ok(broker.clientHungUp, "the client hung up on the huge packet");
    assert.ok(broker.streamed < 4 * MB, `it hung up at once (after ${broker.streamed} bytes)`);
    assert.ok(process.memoryUsage().rss - rss0 < RSS_BOUND, "memory stayed bounded");
    assert.ok(
      offline.some((r) => /sent an MQTT packet over \d+ bytes/.test(r)),
      offline.join("; "),
    );
    // Only the live push: the retained one (onoff 1) never counted as device state.
    assert.deepEqual(
      pushes.map((p) => (p.envelope.payload.togglex as Array<{ onoff: number }>)[0].onoff),
      [0],
    );
    await until(() => conn!.online, "the connection to be back online");
  });
});
