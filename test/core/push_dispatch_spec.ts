/**
 * A thousand devices on one broker connection: each device's transport hears its own pushes
 * only, found by uuid, and the connection's broadcast listeners do not grow with the fleet.
 */
import assert from "node:assert/strict";
import { buildMessage, type Envelope } from "../../src/core/protocol/message";
import { MqttConnection, MqttTransport, type MqttLink, type MqttLinkHandlers } from "../../src/core/transport/mqtt";
import { PresenceRegistry, watchPresence } from "../../src/core/fleet/presence";
import { TypedEvents } from "../../src/core/events";
import type { BrokerPresence, FleetEvents } from "../../src/core/fleet/types";

class FakeLink implements MqttLink {
  handlers: MqttLinkHandlers | undefined;
  readonly online = true;
  attach(h: MqttLinkHandlers): void {
    this.handlers = h;
  }
  async subscribe(): Promise<void> {}
  async publish(): Promise<void> {}
  async close(): Promise<void> {}
}

const uuidOf = (i: number): string => `2001011234567890180834298f${i.toString(16).padStart(6, "0")}`;

function push(link: FakeLink, uuid: string, onoff: number): void {
  const env = buildMessage({
    method: "PUSH",
    namespace: "Appliance.Control.ToggleX",
    payload: { togglex: [{ channel: 0, onoff }] },
    key: "k",
    from: `/appliance/${uuid}/publish`,
  });
  link.handlers?.message(`/appliance/${uuid}/publish`, Buffer.from(JSON.stringify(env)));
}

describe("push dispatch by uuid (a fleet on one connection)", () => {
  it("a push from device A reaches A's transport only, among a thousand devices", async () => {
    const link = new FakeLink();
    const conn = new MqttConnection(link, "fake broker");
    const heard = new Map<string, Envelope[]>();
    const transports = Array.from({ length: 1000 }, (_, i) => {
      const t = new MqttTransport({ uuid: uuidOf(i), client: conn });
      heard.set(uuidOf(i), []);
      t.events.on("push", (env) => heard.get(uuidOf(i))?.push(env));
      return t;
    });
    push(link, uuidOf(7), 1);
    push(link, uuidOf(999), 0);
    const got = [...heard].filter(([, list]) => list.length > 0).map(([uuid, list]) => [uuid, list.length]);
    assert.deepEqual(got, [
      [uuidOf(7), 1],
      [uuidOf(999), 1],
    ]);
    assert.deepEqual(heard.get(uuidOf(7))?.[0].payload, { togglex: [{ channel: 0, onoff: 1 }] });
    // The per-device transports are reached by uuid: none of them listens to every push.
    assert.equal(conn.events.listenerCount("push"), 0);
    assert.equal(conn.pushes.listenerCount(), 1000);
    await Promise.all(transports.map((t) => t.close()));
    assert.equal(conn.pushes.listenerCount(), 0, "a closed transport leaves nothing behind");
    push(link, uuidOf(7), 0);
    assert.equal(heard.get(uuidOf(7))?.length, 1, "nothing reaches a closed transport");
  });

  it("presence is reported to the watchers of that uuid only, and a watch made before the uuid is known still hears it", () => {
    const events = new TypedEvents<FleetEvents>();
    const registry = new PresenceRegistry(events);
    const fleet = { events, watchDevice: (uuid: string, fn: (p: BrokerPresence | undefined) => void) => registry.byUuid.on(uuid, fn) };
    const seen: Array<[number, boolean]> = [];
    for (let i = 0; i < 500; i++)
      watchPresence(
        fleet,
        () => uuidOf(i),
        (p) => seen.push([i, !!p?.listening]),
      );
    let later = "";
    const late = watchPresence(
      fleet,
      () => later,
      (p) => seen.push([-1, !!p]),
    );
    registry.upsert(uuidOf(3), { listening: true });
    later = uuidOf(4);
    registry.upsert(uuidOf(4), { listening: false });
    late.rewatch();
    registry.drop(uuidOf(4));
    assert.deepEqual(seen, [
      [3, true],
      [-1, true],
      [4, false],
      [4, false],
      [-1, false],
    ]);
    assert.equal(events.listenerCount("device"), 0, "no watcher of a known uuid listens to every device");
  });
});
