import assert from "node:assert/strict";
import { MerossError } from "../../../src/core/errors";
import * as capabilities from "../../../src/core/capabilities";
import * as config from "../../../src/core/onboarding/config";
import * as wifi from "../../../src/core/onboarding/wifi";
import * as aes from "../../../src/core/crypto/aes";

const codecs = { ...capabilities, ...config, ...wifi, ...aes };

/** Values a broken or hostile device (or a careless flow) could hand to a parser. */
const HOSTILE: unknown[] = [
  null,
  undefined,
  0,
  -1,
  Number.NaN,
  1e308,
  "",
  "{}",
  true,
  [],
  [null],
  {},
  { light: { capacity: { $gt: 1 } } },
  { togglex: [{ channel: [], onoff: {} }] },
  { wifiList: [{ ssid: 5, bssid: {}, signal: [] }] },
  { all: { system: { hardware: { uuid: 5, macAddress: [] }, firmware: "x", online: 7 }, digest: { togglex: "x", light: 5 } } },
  { all: { system: { hardware: {} }, control: { toggle: 3 } } },
  { electricity: [{ current: [] }] },
  { consumptionx: [[], "2024-01-01", { date: 5 }] },
  { multiple: [{ header: [], payload: {} }] },
  { ability: "x" },
  JSON.parse('{"__proto__": {"polluted": 1}, "light": {"capacity": 1}}'),
  ((): unknown => {
    let deep: unknown = { light: null };
    for (let i = 0; i < 2000; i++) deep = i % 2 ? { all: deep } : { light: [deep] };
    return deep;
  })(),
];

const PARSERS: Array<[string, (v: unknown) => unknown]> = [
  ["parseColour", codecs.parseColour],
  ["parseTemperature", codecs.parseTemperature],
  ["parseLightPayload", codecs.parseLightPayload],
  ["parseToggleXPayload", codecs.parseToggleXPayload],
  ["parseTogglePayload", codecs.parseTogglePayload],
  ["parseOnOffInput", codecs.parseOnOffInput],
  ["parseWifiList", codecs.parseWifiList],
  ["decodeWifiPayload", (v) => codecs.decodeWifiPayload(v)],
  ["parseSystemAll", codecs.parseSystemAll],
  ["parseAbility", codecs.parseAbility],
  ["parseElectricity", codecs.parseElectricity],
  ["parseConsumptionX", codecs.parseConsumptionX],
  ["parseMultipleReply", codecs.parseMultipleReply],
  ["buildLightSet", (v) => codecs.buildLightSet(v as capabilities.LightCommand, 15)],
  ["buildWifiPayload", (v) => codecs.buildWifiPayload(v as { ssid: string }, "12345678")],
  ["buildConfigKeyPayload", (v) => codecs.buildConfigKeyPayload(v as config.ConfigKeyOptions)],
  ["buildMultiplePayload", (v) => codecs.buildMultiplePayload(v as capabilities.MultipleItem[])],
  ["decryptMessageBase64", (v) => codecs.decryptMessageBase64(v as string, "0123456789abcdef0123456789abcdef")],
];

describe("codecs under hostile input", () => {
  for (const [name, fn] of PARSERS) {
    it(`${name} either succeeds or throws a MerossError with a sentence, never a TypeError`, () => {
      for (const v of HOSTILE) {
        try {
          fn(v);
        } catch (e) {
          assert.ok(e instanceof MerossError, `${name}(${String(JSON.stringify(v)).slice(0, 80)}) threw ${String(e)}`);
          assert.ok(e.message.length > 20 && /[.:]/.test(e.message), `${name}: "${e.message}" is not a sentence`);
        }
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }
});
