import assert from "node:assert/strict";
import { CloudSession, SESSION_REPLY_TOPIC, parseBindInfo } from "../../../src/core/broker/cloud-responder";
import { buildMessage, verifySign, type Envelope } from "../../../src/core/protocol/message";

const UUID = "2308085712920951080748e1e9d58442";
const KEY = "k";

function session(): { s: CloudSession; out: Array<{ topic: string; env: Envelope }> } {
  const out: Array<{ topic: string; env: Envelope }> = [];
  const s = new CloudSession({
    publish: (topic, env) => out.push({ topic, env }),
    keyFor: () => KEY,
    timeZone: "UTC",
    now: () => 1_700_000_000_000,
  });
  return { s, out };
}

function fromDevice(
  method: "SET" | "PUSH" | "GETACK" | "SETACK",
  namespace: string,
  payload: Record<string, unknown>,
  messageId?: string,
): Envelope {
  return buildMessage({ method, namespace, payload, key: KEY, from: `/appliance/${UUID}/publish`, messageId });
}

describe("CloudSession (what the cloud answers a device)", () => {
  it("answers a PUSH Bind with no ACK but still sends the time, all to the device's subscribe topic", () => {
    const { s, out } = session();
    const r = s.handle(
      UUID,
      `/appliance/${UUID}/publish`,
      fromDevice("PUSH", "Appliance.Control.Bind", { bind: { hardware: { type: "msl120" } } }),
    );
    assert.equal(r.handled, true);
    assert.equal(r.bind?.model, "msl120");
    assert.deepEqual(
      out.map((o) => `${o.topic} ${o.env.header.method} ${o.env.header.namespace}`),
      [`/appliance/${UUID}/subscribe SET Appliance.System.Time`],
    );
    assert.ok(verifySign(out[0].env.header, KEY));
    assert.equal((out[0].env.payload as { time: { timestamp: number } }).time.timestamp, 1_700_000_000);
  });

  it("swallows the device's ACK to the session's own time request, wherever it arrives", () => {
    const { s, out } = session();
    s.handle(UUID, `/appliance/${UUID}/publish`, fromDevice("SET", "Appliance.Control.Bind", {}));
    const timeSet = out.find((o) => o.env.header.namespace === "Appliance.System.Time")!.env;
    const ack = fromDevice("SETACK", "Appliance.System.Time", {}, timeSet.header.messageId);
    assert.equal(s.handle(UUID, `/appliance/${UUID}/publish`, ack).handled, true);
    assert.equal(s.handle(UUID, SESSION_REPLY_TOPIC, fromDevice("SETACK", "Appliance.System.Time", {})).handled, true);
    assert.equal(s.handle(UUID, `/appliance/${UUID}/publish`, fromDevice("GETACK", "Appliance.System.All", {})).handled, false);
  });

  it("survives hostile Bind payloads", () => {
    const { s } = session();
    for (const bind of ["x", null, [], { hardware: 5, firmware: "y" }]) {
      assert.equal(s.handle(UUID, `/appliance/${UUID}/publish`, fromDevice("SET", "Appliance.Control.Bind", { bind })).handled, true);
    }
    assert.deepEqual(
      parseBindInfo({
        bind: { hardware: { type: "mss310", version: "2.0.0", macAddress: "48:E1:E9:00:00:01" }, firmware: { version: "2.1.4" } },
      }),
      {
        model: "mss310",
        firmware: "2.1.4",
        hardwareVersion: "2.0.0",
        mac: "48:e1:e9:00:00:01",
      },
    );
  });
});
