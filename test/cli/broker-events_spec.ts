/**
 * What `meross broker` prints while clients are refused or unproven: a flood of refused
 * clients is at most 10 lines a minute plus how many more there were (the limit the
 * meross-broker node keeps too), and a device whose key nothing proves says so.
 */
import assert from "node:assert/strict";
import { printBrokerEvents } from "../../src/cli/broker";
import { TypedEvents } from "../../src/core/events";
import type { BrokerEvents, MerossBroker } from "../../src/core/broker/broker";
import { ReportLimiter } from "../../src/core/rate-limit";

function fakeBroker(): { broker: MerossBroker; events: TypedEvents<BrokerEvents> } {
  const events = new TypedEvents<BrokerEvents>();
  return { broker: { events } as unknown as MerossBroker, events };
}

describe("meross broker: printed events", () => {
  it("prints at most 10 refused lines a minute in a flood of 2,000 clients, then how many more were refused", () => {
    const { broker, events } = fakeBroker();
    const lines: string[] = [];
    const unhook = printBrokerEvents(broker, (l) => lines.push(l));
    for (let i = 0; i < 2000; i++) {
      events.emit("refused", {
        clientId: `fmware:x_${i}`,
        username: "48:e1:e9:00:00:01",
        ip: "10.0.0.9",
        reason: "wrong password: no known device key matches",
      });
    }
    assert.equal(lines.length, 10);
    assert.ok(lines.every((l) => l === "refused 48:e1:e9:00:00:01 10.0.0.9: wrong password: no known device key matches"));
    unhook();
    assert.deepEqual(lines.slice(10), ["refused 1990 more clients without a line"]);
  });

  it("a new minute prints again, starting with how many the last one held back", () => {
    const limiter = new ReportLimiter(10, 60_000);
    const turns = Array.from({ length: 15 }, () => limiter.take(1_000));
    assert.equal(turns.filter((t) => t.report).length, 10);
    assert.deepEqual(limiter.take(61_000), { report: true, held: 5 });
  });

  it("says which connected devices are unproven (their key could be another device's)", () => {
    const { broker, events } = fakeBroker();
    const lines: string[] = [];
    const unhook = printBrokerEvents(broker, (l) => lines.push(l));
    const base = { mac: "48:e1:e9:d5:84:42", ip: "127.0.0.1", clientId: "fmware:x_1", userId: "1", connectedAt: 1, model: "mss310" };
    events.emit("device-connected", { ...base, uuid: "2308085712920951080748e1e9d58442", proven: true });
    events.emit("device-bound", { ...base, uuid: "2308085712920951080748e1e9d58442", proven: true });
    events.emit("device-connected", { ...base, uuid: "1912174206936125185848e1e9d58442", proven: false });
    events.emit("device-bound", { ...base, uuid: "1912174206936125185848e1e9d58442", proven: false });
    unhook();
    assert.deepEqual(lines.slice(0, 2), [
      "connected 2308085712920951080748e1e9d58442 48:e1:e9:d5:84:42 127.0.0.1 mss310",
      "connected 1912174206936125185848e1e9d58442 48:e1:e9:d5:84:42 127.0.0.1 mss310",
    ]);
    assert.match(
      lines[2],
      /^unproven 1912174206936125185848e1e9d58442 127\.0\.0\.1: logged in with a key this broker accepts, but nothing proves/,
    );
    assert.equal(lines.length, 3);
  });
});
