import assert from "node:assert/strict";
import { buildMultiplePayload, parseMultipleReply } from "../../../src/core/capabilities";
import { isCode } from "../../helpers/errors";

describe("Multiple codec (docs/protocol.md §6.8)", () => {
  const items = [
    { method: "GET", namespace: "Appliance.System.All", payload: {} },
    { method: "SET", namespace: "Appliance.Control.ToggleX", payload: { togglex: { channel: 0, onoff: 1 } } },
  ];

  it("wraps each request with its own fresh messageId", () => {
    const p = buildMultiplePayload(items, 3);
    assert.equal(p.multiple.length, 2);
    assert.deepEqual(
      p.multiple.map((m) => [m.header.method, m.header.namespace]),
      [
        ["GET", "Appliance.System.All"],
        ["SET", "Appliance.Control.ToggleX"],
      ],
    );
    assert.deepEqual(p.multiple[1].payload, { togglex: { channel: 0, onoff: 1 } });
    assert.match(p.multiple[0].header.messageId, /^[0-9a-f]{32}$/);
    assert.notEqual(p.multiple[0].header.messageId, p.multiple[1].header.messageId);
  });

  it("refuses more requests than the device's maxCmdNum, suggesting batches", () => {
    assert.throws(() => buildMultiplePayload([...items, ...items], 3), isCode("BAD_INPUT", /at most 3.*4 were given/));
  });

  it("refuses empty lists, bad methods, nested Multiple and non-object payloads", () => {
    assert.throws(() => buildMultiplePayload([]), isCode("BAD_INPUT"));
    assert.throws(() => buildMultiplePayload(null as unknown as []), isCode("BAD_INPUT"));
    assert.throws(
      () => buildMultiplePayload([{ method: "GETACK", namespace: "Appliance.System.All", payload: {} }]),
      isCode("BAD_INPUT", /GET, SET or PUSH/),
    );
    assert.throws(
      () => buildMultiplePayload([{ method: "SET", namespace: "Appliance.Control.Multiple", payload: {} }]),
      isCode("BAD_INPUT", /namespace/),
    );
    assert.throws(
      () => buildMultiplePayload([{ method: "GET", namespace: "Appliance.System.All", payload: [] as unknown as Record<string, unknown> }]),
      isCode("BAD_INPUT", /payload/),
    );
  });

  it("parses a reply with a mix of GETACK and ERROR entries", () => {
    const reply = {
      multiple: [
        { header: { messageId: "a", method: "GETACK", namespace: "Appliance.System.All", timestamp: 1, sign: "x" }, payload: { all: {} } },
        {
          header: { messageId: "b", method: "ERROR", namespace: "Appliance.Control.Foo", timestamp: 1, sign: "x" },
          payload: { error: { code: 5000 } },
        },
        { header: { messageId: "c", method: "SETACK", namespace: "Appliance.Control.ToggleX", timestamp: 1, sign: "x" } },
      ],
    };
    const envs = parseMultipleReply(reply);
    assert.deepEqual(
      envs.map((e) => e.header.method),
      ["GETACK", "ERROR", "SETACK"],
    );
    assert.deepEqual(envs[2].payload, {});
  });

  for (const bad of [
    null,
    {},
    { multiple: {} },
    { multiple: [1] },
    { multiple: [{ header: { messageId: "a" } }] },
    { multiple: [{ header: { messageId: "a", method: "GETACK", namespace: "n" }, payload: 3 }] },
  ]) {
    it(`garbage ${JSON.stringify(bad)} is BAD_RESPONSE`, () => {
      assert.throws(() => parseMultipleReply(bad), isCode("BAD_RESPONSE", /Multiple/));
    });
  }
});
