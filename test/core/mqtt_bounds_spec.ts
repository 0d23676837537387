/**
 * What reaches us over a shared broker is not trusted: oversized messages are dropped unread
 * and counted, bad values are quoted briefly, and a caller that stops waiting ends its request.
 */
import assert from "node:assert/strict";
import { MerossError } from "../../src/core/errors";
import { buildMessage, type Envelope } from "../../src/core/protocol/message";
import { MQTT_MESSAGE_MAX_BYTES, MqttConnection, MqttTransport, checkUuid, devicePublishTopic } from "../../src/core/transport/mqtt";
import type { MqttLink, MqttLinkHandlers } from "../../src/core/transport/mqtt";

const UUID = "2112340000000000000000000000000a";

/** A broker link in memory: records what we publish, lets the test deliver messages. */
class MemoryLink implements MqttLink {
  readonly online = true;
  handlers: MqttLinkHandlers | undefined;
  readonly published: Array<{ topic: string; payload: string }> = [];
  attach(h: MqttLinkHandlers): void {
    this.handlers = h;
  }
  async subscribe(): Promise<void> {}
  async publish(topic: string, payload: string): Promise<void> {
    this.published.push({ topic, payload });
  }
  async close(): Promise<void> {}
  deliver(topic: string, payload: string): void {
    this.handlers?.message(topic, Buffer.from(payload));
  }
}

function reply(to: Envelope, payload: Record<string, unknown>): string {
  return JSON.stringify({ header: { ...to.header, method: "GETACK", from: devicePublishTopic(UUID), uuid: UUID }, payload });
}

async function published(link: MemoryLink, n: number): Promise<void> {
  for (let i = 0; i < 100 && link.published.length < n; i++) await new Promise((r) => setImmediate(r));
}

describe("MQTT connection bounds", () => {
  it("drops and counts a message over 64 KiB before parsing it; a normal reply still arrives", async () => {
    const link = new MemoryLink();
    const conn = new MqttConnection(link, "mqtt://test");
    const req = buildMessage({ method: "GET", namespace: "Appliance.System.All", key: "k" });
    const pending = conn.request(UUID, req, 10_000);
    await published(link, 1);
    const huge = reply(req, { all: { padding: "x".repeat(MQTT_MESSAGE_MAX_BYTES) } });
    link.deliver(devicePublishTopic(UUID), huge);
    assert.equal(conn.droppedOversize, 1, "the oversized reply was counted");
    link.deliver(devicePublishTopic(UUID), reply(req, { all: { small: true } }));
    const env = await pending;
    assert.deepEqual(env.payload, { all: { small: true } }, "the request got the normal reply, not the oversized one");
    await conn.close();
  });

  it("ends a request at once when its caller's signal aborts, with the signal's reason", async () => {
    const link = new MemoryLink();
    const conn = new MqttConnection(link, "mqtt://test");
    const transport = new MqttTransport({ uuid: UUID, client: conn });
    const req = buildMessage({
      method: "SET",
      namespace: "Appliance.Control.ToggleX",
      payload: { togglex: { channel: 0, onoff: 1 } },
      key: "k",
    });
    const stop = new AbortController();
    const pending = transport.send(req, { timeoutMs: 60_000, signal: stop.signal });
    await published(link, 1);
    const reason = new MerossError("TIMEOUT", "The queue's deadline passed.");
    stop.abort(reason);
    await assert.rejects(pending, (err) => err === reason);
    // A late reply to the abandoned request is not mistaken for anything else.
    link.deliver(devicePublishTopic(UUID), reply(req, {}));
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(
      transport.send(req, { signal: aborted.signal }),
      (err: unknown) => err instanceof MerossError && err.code === "CANCELLED",
    );
    assert.equal(link.published.length, 1, "a request whose caller already gave up is not published");
    await transport.close();
    await conn.close();
  });

  it("quotes a hostile uuid in at most ~200 characters", () => {
    const hostile = "u".repeat(1_000_000);
    assert.throws(
      () => checkUuid(hostile),
      (err: unknown) => err instanceof MerossError && err.code === "BAD_INPUT" && err.message.length < 400,
    );
  });
});
