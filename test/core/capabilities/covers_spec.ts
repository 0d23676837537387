import assert from "node:assert/strict";
import {
  NS_GARAGE_MULTICONFIG,
  garageTravelMs,
  NS_GARAGE_CONFIG,
  NS_GARAGE_STATE,
  NS_ROLLER_CONFIG,
  NS_ROLLER_POSITION,
  NS_ROLLER_STATE,
  NS_TOGGLEX,
  coverCommand,
  coverToOutput,
  parseCoverInput,
  parseGarageConfig,
  parseGarageState,
  parseRollerConfig,
  parseRollerPosition,
  parseRollerState,
  reduceEnvelope,
  composeCapabilities,
  type MutableDeviceState,
} from "../../../src/core/capabilities";
import type { Envelope } from "../../../src/core/protocol/message";
import { FakeSession } from "../helpers/fakes";
import { isCode } from "../../helpers/errors";

const GARAGE = { [NS_GARAGE_STATE]: {}, [NS_GARAGE_CONFIG]: {}, [NS_TOGGLEX]: {} };
const ROLLER = { [NS_ROLLER_STATE]: {}, [NS_ROLLER_POSITION]: {}, [NS_ROLLER_CONFIG]: {} };

function push(namespace: string, payload: Record<string, unknown>): Envelope {
  return { header: { messageId: "m", namespace, method: "PUSH", timestamp: 0, sign: "" }, payload };
}

describe("covers: garage doors and roller shutters (core)", () => {
  describe("flow input", () => {
    it("reads words, numbers and blanks", () => {
      assert.deepEqual(parseCoverInput("Open"), { action: "open" });
      assert.deepEqual(parseCoverInput(" close "), { action: "close" });
      assert.deepEqual(parseCoverInput("stop"), { action: "stop" });
      assert.deepEqual(parseCoverInput(40), { action: "position", position: 40 });
      assert.deepEqual(parseCoverInput("40 %"), { action: "position", position: 40 });
      assert.deepEqual(parseCoverInput(""), { action: "read" });
      assert.deepEqual(parseCoverInput(undefined), { action: "read" });
    });

    it("refuses a misspelt word and a position out of range with a sentence saying what to send", () => {
      assert.throws(() => parseCoverInput("opne"), isCode("BAD_INPUT", /"opne" is not a command.*"open", "close", "stop"/));
      assert.throws(() => parseCoverInput(140), isCode("BAD_INPUT", /position 140 is out of range.*0 \(closed\) to 100 \(open\)/));
      assert.throws(() => parseCoverInput(-5), isCode("BAD_INPUT", /out of range/));
      assert.throws(() => parseCoverInput(40.5), isCode("BAD_INPUT", /whole number/));
      assert.throws(() => parseCoverInput({ position: 40 }), isCode("BAD_INPUT", /not a command/));
    });
  });

  describe("codecs (shapes from the msg100 4.2.1 and mrs100 2.1.2 captures)", () => {
    it("garage State as an object (msg100 GET) or a list (push, msg200)", () => {
      assert.deepEqual(parseGarageState({ state: { channel: 0, open: 1, lmTime: 0 } }), [{ channel: 0, open: true, lmTime: 0 }]);
      assert.deepEqual(
        parseGarageState({
          state: [
            { channel: 2, open: 0, lmTime: 5, doorEnable: 1 },
            { channel: 1, open: 1 },
          ],
        }),
        [
          { channel: 1, open: true },
          { channel: 2, open: false, lmTime: 5, doorEnable: 1 },
        ],
      );
      assert.deepEqual(parseGarageState({ state: { channel: 0, open: 1, lmTime: 0, execute: 1 } })[0].execute, 1);
    });

    it("garage Config carries the door travel times", () => {
      const c = parseGarageConfig({ config: { signalDuration: 1000, buzzerEnable: 0, doorOpenDuration: 30000, doorCloseDuration: 30000 } });
      assert.deepEqual(c, [{ signalDuration: 1000, buzzerEnable: 0, doorOpenDuration: 30000, doorCloseDuration: 30000 }]);
    });

    it("roller State, Position and Config lists", () => {
      assert.deepEqual(parseRollerState({ state: [{ channel: 0, state: 2 }] }), [{ channel: 0, state: 2 }]);
      assert.deepEqual(parseRollerPosition({ position: [{ channel: 0, position: 100 }] }), [{ channel: 0, position: 100 }]);
      assert.deepEqual(parseRollerConfig({ config: [{ channel: 0, signalOpen: 50000, signalClose: 50000 }] }), [
        { channel: 0, signalOpen: 50000, signalClose: 50000 },
      ]);
    });

    it("hostile or malformed replies are BAD_RESPONSE, never a TypeError", () => {
      for (const bad of [null, [], { state: 5 }, { state: [{ open: 1 }] }, { state: [{ channel: 0, open: 7 }] }, { state: ["x"] }]) {
        assert.throws(() => parseGarageState(bad), isCode("BAD_RESPONSE"));
      }
      assert.throws(() => parseRollerState({ state: [{ channel: 0, state: 9 }] }), isCode("BAD_RESPONSE"));
      assert.throws(() => parseRollerPosition({ position: [{ channel: 0, position: 140 }] }), isCode("BAD_RESPONSE"));
      assert.throws(() => parseRollerPosition({ position: [{ channel: "x", position: 4 }] }), isCode("BAD_RESPONSE"));
    });
  });

  describe("reducers (pushes)", () => {
    it("a roller opening, then its position and the stop, make opening → stopped at 40", () => {
      const st: MutableDeviceState = { toggles: new Map(), abilities: ROLLER };
      const caps = composeCapabilities(ROLLER);
      const apply = (env: Envelope) => reduceEnvelope(caps, env, "push")?.(st) ?? [];
      assert.deepEqual(
        apply(push(NS_ROLLER_STATE, { state: [{ channel: 0, state: 1 }] })).map((e) => e.type === "cover" && e.cover.state),
        ["opening"],
      );
      apply(push(NS_ROLLER_POSITION, { position: [{ channel: 0, position: 40 }] }));
      const ev = apply(push(NS_ROLLER_STATE, { state: [{ channel: 0, state: 0, stoppedBy: 0 }] }));
      assert.equal(ev.length, 1);
      assert.ok(ev[0].type === "cover");
      assert.deepEqual(coverToOutput(ev[0].cover), { state: "stopped", position: 40, channel: 0 });
      assert.equal(ev[0].source, "push");
    });

    it("a garage push reports open and closed; the same reading twice is one event", () => {
      const st: MutableDeviceState = { toggles: new Map(), abilities: GARAGE };
      const caps = composeCapabilities(GARAGE);
      const apply = (open: number) =>
        reduceEnvelope(caps, push(NS_GARAGE_STATE, { state: [{ channel: 0, open, lmTime: 1 }] }), "push")?.(st) ?? [];
      assert.equal(apply(1).length, 1);
      assert.equal(apply(1).length, 0);
      const ev = apply(0);
      assert.ok(ev[0].type === "cover" && ev[0].cover.state === "closed");
    });
  });

  describe("commands", () => {
    function garage(open: number, execute = 1) {
      return new FakeSession(GARAGE, (r) => {
        if (r.namespace === NS_GARAGE_CONFIG) return { config: { doorOpenDuration: 20000, doorCloseDuration: 25000 } };
        if (r.method === "SET") return { state: { channel: 0, open, lmTime: 0, execute } };
        return { state: { channel: 0, open, lmTime: 0 } };
      });
    }

    it("opens a closed door with the captured SET form and reports opening with the door's travel time", async () => {
      const s = garage(0);
      const r = await coverCommand(s, 0, { action: "open" });
      assert.equal(r.state, "opening");
      assert.equal(r.sent, true);
      assert.equal(r.settleMs, 20000);
      assert.deepEqual(s.sent.find((x) => x.method === "SET")?.payload, { state: { channel: 0, open: 1 } });
    });

    it("does not send open to a door that is open, nor again while it is opening", async () => {
      const open = garage(1);
      const r = await coverCommand(open, 0, { action: "open" });
      assert.equal(r.sent, false);
      assert.match(r.note ?? "", /already open, so nothing was sent/);
      assert.ok(!open.sent.some((x) => x.method === "SET"));

      const closed = garage(0);
      await coverCommand(closed, 0, { action: "open" });
      const again = await coverCommand(closed, 0, { action: "open" });
      assert.equal(again.state, "opening");
      assert.equal(again.sent, false);
      assert.equal(closed.sent.filter((x) => x.method === "SET").length, 1, "one pulse only");
      // Closing it meanwhile is a different command and goes out.
      const close = await coverCommand(closed, 0, { action: "close" });
      assert.equal(close.sent, true);
      assert.equal(close.state, "closing");
    });

    it("a multi-door opener (msg200) takes each door's travel time from MultipleConfig", async () => {
      const s = new FakeSession({ [NS_GARAGE_STATE]: {}, [NS_GARAGE_MULTICONFIG]: {} }, () => ({
        config: [{ channel: 2, doorEnable: 1, signalOpen: 3000, signalClose: 3000, doorOpenDuration: 15000, doorCloseDuration: 16000 }],
      }));
      assert.equal(await garageTravelMs(s, 2, false), 16000);
      assert.deepEqual(s.sent[0], { method: "GET", namespace: NS_GARAGE_MULTICONFIG, payload: { config: [{ channel: 2 }] } });
    });

    it("a transition no reading ended is dropped once its time is over, so the door can be commanded again", async () => {
      const s = garage(0);
      await coverCommand(s, 0, { action: "open" });
      const st = s.state.covers?.get(0);
      assert.ok(st && st.until !== undefined);
      (st as { until: number }).until = Date.now() - 1;
      const r = await coverCommand(s, 0, { action: "open" });
      assert.equal(r.sent, true, "the stale 'opening' no longer blocks the command");
    });

    it("execute 0 in the SETACK means the device did nothing", async () => {
      const r = await coverCommand(garage(0, 0), 0, { action: "open" });
      assert.equal(r.state, "closed");
      assert.match(r.note ?? "", /did nothing/);
    });

    it("refuses what a model cannot do, saying what it can", async () => {
      await assert.rejects(
        coverCommand(garage(0), 0, { action: "position", position: 40 }),
        isCode("UNSUPPORTED", /This fake is a garage door opener: it can open and close, not go to 40 %/),
      );
      await assert.rejects(coverCommand(garage(0), 0, { action: "stop" }), isCode("UNSUPPORTED", /not stop/));
      await assert.rejects(
        coverCommand(new FakeSession({ [NS_TOGGLEX]: {} }), 0, { action: "open" }),
        isCode("UNSUPPORTED", /not a garage door opener or a roller shutter.*meross-toggle/),
      );
      await assert.rejects(coverCommand(garage(0), 3, { action: "read" }), isCode("BAD_INPUT", /Door 3 does not exist.*channels\) 0/));
    });

    it("moves a roller to 40 %, sends -1 to stop, and reads position then state", async () => {
      const s = new FakeSession(ROLLER, (r) => {
        if (r.namespace === NS_ROLLER_POSITION && r.method === "GET") return { position: [{ channel: 0, position: 0 }] };
        if (r.namespace === NS_ROLLER_STATE) return { state: [{ channel: 0, state: 1 }] };
        if (r.namespace === NS_ROLLER_CONFIG) return { config: [{ channel: 0, signalOpen: 50000, signalClose: 40000 }] };
        return {};
      });
      const r = await coverCommand(s, 0, { action: "position", position: 40 });
      assert.deepEqual(s.sent[0], { method: "SET", namespace: NS_ROLLER_POSITION, payload: { position: { channel: 0, position: 40 } } });
      assert.equal(r.state, "opening");
      assert.equal(r.settleMs, 20000);
      await coverCommand(s, 0, { action: "stop" });
      assert.ok(s.sent.some((x) => x.method === "SET" && JSON.stringify(x.payload) === '{"position":{"channel":0,"position":-1}}'));
    });
  });
});
