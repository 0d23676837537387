import assert from "node:assert/strict";
import sinon from "sinon";
import { MerossDevice } from "../../../src/core/session/device";
import { NS_ABILITY, NS_ALL, NS_LIGHT, NS_TOGGLEX } from "../../../src/core/capabilities";
import type { DeviceEvent } from "../../../src/core/capabilities/types";
import { buildMessage, type Envelope } from "../../../src/core/protocol/message";
import { MAX_CHANNELS } from "../../../src/core/protocol/rules";
import { FakeTransport } from "../helpers/fakes";

const KEY = "session-key";
const UUID = "0123456789abcdef0123456789abcdef";

/** A plug with ToggleX; `on` is its relay. */
function plug(): { t: FakeTransport; relay: { on: boolean } } {
  const relay = { on: false };
  const t = new FakeTransport(
    (req: Envelope) => {
      const ns = req.header.namespace;
      if (ns === NS_ALL) {
        return {
          all: {
            system: { hardware: { type: "mss110", uuid: UUID, macAddress: "48:e1:e9:00:00:01" }, firmware: { version: "1" } },
            digest: { togglex: [{ channel: 0, onoff: relay.on ? 1 : 0 }] },
          },
        };
      }
      if (ns === NS_ABILITY) return { ability: { [NS_TOGGLEX]: {}, [NS_ALL]: {}, [NS_ABILITY]: {} } };
      if (ns === NS_TOGGLEX && req.header.method === "SET") relay.on = (req.payload.togglex as { onoff: number }).onoff === 1;
      return {};
    },
    UUID,
    KEY,
  );
  return { t, relay };
}

describe("device session (no network)", () => {
  afterEach(() => sinon.restore());

  it("applies a push signed with the device key and tells listeners", async () => {
    const { t } = plug();
    const d = new MerossDevice({ transport: t, key: KEY });
    const heard: DeviceEvent[] = [];
    d.events.on("event", (e) => heard.push(e));
    t.push(NS_TOGGLEX, { togglex: [{ channel: 0, onoff: 1 }] });
    assert.equal(d.toggles.get(0), true);
    assert.deepEqual(heard, [{ type: "toggle", channel: 0, on: true, source: "push" }]);
    assert.equal(d.ignoredPushes, 0);
    await d.close();
  });

  it("ignores and counts a push whose sign does not match the key: state and listeners stay untouched", async () => {
    const { t } = plug();
    const d = new MerossDevice({ transport: t, key: KEY });
    const heard: DeviceEvent[] = [];
    d.events.on("event", (e) => heard.push(e));
    t.push(NS_TOGGLEX, { togglex: [{ channel: 0, onoff: 1 }] }, "someone-else");
    assert.equal(
      d.handlePush({
        header: { messageId: "x", namespace: NS_LIGHT, method: "PUSH", timestamp: 1, sign: "forged" },
        payload: { light: { luminance: 1 } },
      }),
      false,
    );
    assert.equal(d.toggles.size, 0);
    assert.equal(d.light, undefined);
    assert.deepEqual(heard, []);
    assert.equal(d.ignoredPushes, 2);
    await d.close();
  });

  it("ignores a replayed push and one stamped in 2020: a retained or captured push is never live state", async () => {
    const { t } = plug();
    const d = new MerossDevice({ transport: t, key: KEY });
    const heard: DeviceEvent[] = [];
    d.events.on("event", (e) => heard.push(e));
    const on = buildMessage({ method: "PUSH", namespace: NS_TOGGLEX, key: KEY, payload: { togglex: [{ channel: 0, onoff: 1 }] } });
    const off = buildMessage({ method: "PUSH", namespace: NS_TOGGLEX, key: KEY, payload: { togglex: [{ channel: 0, onoff: 0 }] } });
    const stale = buildMessage({
      method: "PUSH",
      namespace: NS_TOGGLEX,
      key: KEY,
      timestamp: 1_590_000_000,
      payload: { togglex: [{ channel: 0, onoff: 1 }] },
    });
    assert.equal(d.handlePush(on), true);
    assert.equal(d.handlePush(off), true);
    assert.equal(d.handlePush(on), false, "the same push again is a replay");
    assert.equal(d.handlePush(stale), false);
    assert.equal(d.toggles.get(0), false);
    assert.deepEqual(
      heard.map((e) => (e.type === "toggle" ? e.on : e.type)),
      [true, false],
    );
    assert.equal(d.ignoredPushes, 2);
    await d.close();
  });

  it("turns one push listing 2,500 togglex entries into at most one change per channel, channels beyond the limit ignored", async () => {
    const { t } = plug();
    const d = new MerossDevice({ transport: t, key: KEY });
    let events = 0;
    d.events.on("event", () => events++);
    const togglex = Array.from({ length: 2500 }, (_, i) => ({ channel: i % 700, onoff: i % 2 }));
    t.push(NS_TOGGLEX, { togglex });
    assert.ok(events <= MAX_CHANNELS && events > 0, `${events} events`);
    assert.ok(d.toggles.size <= MAX_CHANNELS, `${d.toggles.size} channels kept`);
    await d.close();
  });

  it("never closes a transport it was given, and stops listening to it on close", async () => {
    const { t } = plug();
    const d = new MerossDevice({ transport: t, key: KEY });
    await d.close();
    assert.equal(t.closed, 0);
    assert.equal(t.events.listenerCount("push"), 0);
  });

  it("after setTransport it follows the new transport's pushes only", async () => {
    const a = plug().t;
    const b = plug().t;
    const d = new MerossDevice({ transport: a, key: KEY });
    d.setTransport(b);
    assert.equal(a.events.listenerCount("push"), 0);
    a.push(NS_TOGGLEX, { togglex: [{ channel: 0, onoff: 1 }] });
    assert.equal(d.toggles.size, 0);
    b.push(NS_TOGGLEX, { togglex: [{ channel: 0, onoff: 1 }] });
    assert.equal(d.toggles.get(0), true);
    assert.equal(a.closed, 0);
    await d.close();
  });

  it("knows the uuid from the transport before System.All, then from System.All", async () => {
    const { t } = plug();
    const d = new MerossDevice({ transport: t, key: KEY });
    assert.equal(d.uuid, UUID);
    await d.ready();
    assert.equal(d.info?.uuid, UUID);
    assert.equal(d.uuid, UUID);
    await d.close();
  });

  it("drives capabilities through thin methods and reports busy around each request", async () => {
    const { t, relay } = plug();
    const d = new MerossDevice({ transport: t, key: KEY });
    const busy: boolean[] = [];
    const off = d.events.on("busy", (b) => busy.push(b));
    assert.deepEqual(await d.setToggle(0, true), { channel: 0, on: true });
    assert.equal(relay.on, true);
    assert.equal(d.legacyToggle, false);
    assert.equal(d.lightCapacity, 0);
    await assert.rejects(d.getLight(), (e: Error & { code?: string }) => e.code === "UNSUPPORTED");
    off();
    const before = busy.length;
    await d.setToggle(0, false);
    assert.equal(busy.length, before);
    assert.deepEqual(busy.slice(0, 2), [true, false]);
    await d.close();
  });

  it("drops a request cancelled while it waits its turn: it rejects CANCELLED and never reaches the device", async () => {
    const { t } = plug();
    const d = new MerossDevice({ transport: t, key: KEY });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const send = t.send.bind(t);
    t.send = async (req, opts) => {
      if (req.header.namespace === NS_ALL) await gate;
      return send(req, opts);
    };
    const first = d.request("GET", NS_ALL, {});
    const ctl = new AbortController();
    const second = d.request("GET", NS_ABILITY, {}, { signal: ctl.signal });
    ctl.abort();
    await assert.rejects(second, (e: Error & { code?: string }) => e.code === "CANCELLED");
    release();
    await first;
    assert.deepEqual(
      t.requests.map((r) => r.header.namespace),
      [NS_ALL],
      "the cancelled request was never sent",
    );
    await d.close();
  });
});
