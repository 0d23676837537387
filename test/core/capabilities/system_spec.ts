import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  applySystem,
  CAPABILITIES,
  macFromUuid,
  parseAbility,
  parseSystemAll,
  type MutableDeviceState,
} from "../../../src/core/capabilities";
import { isCode } from "../../helpers/errors";

const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, "../../fixtures/traces", name), "utf8"));

/** The state every capability's digest hook makes of a System.All reply. */
function digestState(r: ReturnType<typeof parseSystemAll>): MutableDeviceState {
  const state: MutableDeviceState = { toggles: new Map() };
  applySystem(r, {}, CAPABILITIES)(state);
  return state;
}

describe("system codec (docs/protocol.md §6.2, §6.3)", () => {
  describe("parseSystemAll", () => {
    it("mss310r (fw 2.1.4): identity, string port/userId, ToggleX digest", () => {
      const r = parseSystemAll(fixture("mss310r.json").systemAll);
      assert.deepEqual(r.info, {
        uuid: "20091131118061251h5748e1e9334e2b",
        mac: "48:e1:e9:33:4e:2b",
        model: "mss310r",
        subType: "un",
        hardwareVersion: "2.0.0",
        firmwareVersion: "2.1.4",
        chip: "mt7682",
        ip: "192.168.1.50",
        userId: "7",
        server: "192.168.1.10",
        port: 8883,
        encryptFlag: false,
        legacy: false,
      });
      assert.deepEqual([...digestState(r).toggles], [[0, true]]);
      assert.equal(digestState(r).light, undefined);
      assert.equal(r.online, 0);
    });

    it("msl320cpr (fw 4.3.1): light digest, encrypt flag, MAC recovered from the uuid", () => {
      const r = parseSystemAll(fixture("msl320cpr.json").systemAllWhite);
      assert.equal(r.info.model, "msl320cpr");
      assert.equal(r.info.mac, "48:e1:e9:6c:34:bb");
      assert.equal(r.info.encryptFlag, true);
      assert.equal(r.info.legacy, false);
      assert.equal(r.info.userId, "7");
      assert.equal(r.info.port, 8883);
      const state = digestState(r);
      assert.deepEqual([...state.toggles], [[0, false]]);
      assert.equal(state.light?.mode, "temperature");
      assert.equal(state.light?.temperature, 55);
      assert.equal(r.online, 1);
    });

    it("mss210 (fw 1.1.12): legacy control.toggle, no digest", () => {
      const r = parseSystemAll(fixture("mss210.json").systemAll);
      assert.equal(r.info.legacy, true);
      assert.equal(r.info.model, "mss210");
      assert.equal(r.info.subType, "us");
      assert.equal(r.info.chip, "MT7688");
      assert.equal(r.info.firmwareVersion, "1.1.12");
      assert.equal(r.info.mac, "34:29:8f:11:f4:2f");
      assert.equal(r.info.userId, undefined, "an empty userId is not a user id");
      assert.equal(r.info.port, 443);
      assert.deepEqual([...digestState(r).toggles], [[0, false]], "the toggle hook reads the legacy control.toggle");
    });

    it("accepts the inner object alone (as the trace headers show it)", () => {
      const r = parseSystemAll(fixture("mss310r.json").systemAll.all);
      assert.equal(r.info.model, "mss310r");
    });

    it("ignores anonymised placeholders instead of reporting NaN", () => {
      const p = fixture("mss310r.json").systemAll;
      p.all.system.firmware.port = "####";
      p.all.system.hardware.macAddress = "#################";
      const r = parseSystemAll(p);
      assert.equal(r.info.port, undefined);
      assert.equal(r.info.mac, "48:e1:e9:33:4e:2b", "falls back to the uuid");
    });

    it("a uuid whose tail is not hex gives an empty MAC rather than a wrong one", () => {
      assert.equal(macFromUuid("0123456789abcdef0123zzzzzzzzzzzz"), undefined);
      assert.equal(macFromUuid("short"), undefined);
    });

    for (const bad of [null, 5, "all", [], {}, { all: {} }, { all: { system: {} } }, { all: { system: { hardware: "x" } } }]) {
      it(`garbage ${JSON.stringify(bad)} is BAD_RESPONSE`, () => {
        assert.throws(() => parseSystemAll(bad), isCode("BAD_RESPONSE", /System\.All/));
      });
    }

    it("a broken digest inside a good reply is BAD_RESPONSE, not TypeError", () => {
      const p = fixture("mss310r.json").systemAll;
      p.all.digest.togglex = [{ channel: 0 }];
      assert.throws(() => digestState(parseSystemAll(p)), isCode("BAD_RESPONSE"));
    });
  });

  describe("parseAbility", () => {
    it("reads the {payloadVersion, ability} reply (mss210)", () => {
      const a = parseAbility(fixture("mss210.json").abilityReply);
      assert.ok("Appliance.Control.Toggle" in a);
      assert.ok(!("Appliance.Control.ToggleX" in a));
      assert.ok(!("payloadVersion" in a));
    });

    it("reads the inner map as the traces show it (msl320cpr: light capacity 7, WifiX)", () => {
      const a = parseAbility(fixture("msl320cpr.json").ability);
      assert.deepEqual(a["Appliance.Control.Light"], { capacity: 7 });
      assert.ok("Appliance.Config.WifiX" in a);
      assert.deepEqual(a["Appliance.Control.Multiple"], { maxCmdNum: 5 });
    });

    it("sees Encrypt.ECDHE on the hp110a", () => {
      assert.ok("Appliance.Encrypt.ECDHE" in parseAbility(fixture("hp110a.json").ability));
    });

    it("turns non-object parameters into {}", () => {
      assert.deepEqual(parseAbility({ ability: { "Appliance.System.All": null } }), { "Appliance.System.All": {} });
    });

    for (const bad of [null, 1, "x", [], {}, { ability: {} }, { ability: [] }, { foo: {} }]) {
      it(`garbage ${JSON.stringify(bad)} is BAD_RESPONSE`, () => {
        assert.throws(() => parseAbility(bad), isCode("BAD_RESPONSE", /Ability/));
      });
    }
  });
});
