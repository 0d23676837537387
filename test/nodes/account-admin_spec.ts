import assert from "node:assert/strict";
import configModule = require("../../src/nodes/meross-config");
import onboardModule = require("../../src/nodes/meross-onboard");
import { SimulatedCloud, type SimCloudAccount } from "../../src/simulator/cloud";
import type { SimulatedDevice } from "../../src/simulator";
import { helper, startDevice, onTab, useRuntime } from "./helpers";

const PASSWORD = "hunter2-is-my-password";
const ACCOUNT_KEY = "account-key-from-the-cloud";
const OTHER_KEY = "a-key-of-another-account";

function account(extra: Partial<SimCloudAccount> = {}): SimCloudAccount {
  return {
    email: "home@example.com",
    password: PASSWORD,
    userId: "4242",
    key: ACCOUNT_KEY,
    devices: [
      { uuid: "2012ab34cd56ef7812ab34cd56ef7812", name: "Patio plug", model: "mss310", firmware: "6.3.22" },
      {
        uuid: "2101cd34ab56ef7890ab34cd56ef7890",
        name: "Home hub",
        model: "msh300",
        firmware: "4.1.8",
        subDevices: [{ id: "01009A3B", model: "ms100", name: "Cellar sensor" }],
      },
    ],
    ...extra,
  };
}

describe("editor buttons: Sign in to Meross account, Find devices (admin endpoints)", function () {
  let cloud: SimulatedCloud | undefined;
  const sims: SimulatedDevice[] = [];

  useRuntime(async () => {
    await cloud?.stop();
    cloud = undefined;
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });

  async function load(accounts: SimCloudAccount[] = [account()]) {
    cloud = await SimulatedCloud.start(accounts);
    await helper.load([configModule, onboardModule], onTab([], [{ id: "n1", type: "comment" }]), {});
    return cloud;
  }

  function assertNoPassword(body: unknown): void {
    const everything = JSON.stringify({ body, logs: helper.log().args });
    assert.ok(!everything.includes(PASSWORD), "the password is in no response and no log");
  }

  for (const type of ["meross-config", "meross-onboard"]) {
    it(`${type}: signs in, answers the user id, the key (for the Key field) and the devices with hub sub-devices, then signs out`, async () => {
      const c = await load();
      const res = await helper
        .request()
        .post(`/${type}/account`)
        .send({ email: "home@example.com", password: PASSWORD, apiUrl: c.url })
        .expect(200);
      assert.equal(res.body.userId, "4242");
      assert.equal(res.body.key, ACCOUNT_KEY);
      assert.equal(res.body.signedOut, true);
      assert.deepEqual(
        res.body.devices.map((d: { uuid: string; name: string; model: string; firmware: string }) => [d.name, d.model, d.firmware]),
        [
          ["Patio plug", "mss310", "6.3.22"],
          ["Home hub", "msh300", "4.1.8"],
        ],
      );
      assert.equal(res.body.devices[1].subDevices[0].name, "Cellar sensor");
      assert.ok(
        c.calls.some((call) => call.path.endsWith("/v1/Profile/logout") && call.apiStatus === 0),
        "signed out",
      );
      assertNoPassword(res.body);
    });
  }

  it("asks for the MFA code when the account has one, then signs in with it; a wrong code is a sentence", async () => {
    const c = await load([account({ mfaCode: "123456" })]);
    const base = { email: "home@example.com", password: PASSWORD, apiUrl: c.url };
    const ask = await helper.request().post("/meross-config/account").send(base).expect(409);
    assert.equal(ask.body.mfaRequired, true);
    assert.match(ask.body.error.message, /code/i);
    const wrong = await helper
      .request()
      .post("/meross-config/account")
      .send({ ...base, mfaCode: "000000" })
      .expect(502);
    assert.equal(wrong.body.error.code, "ACCOUNT_REFUSED");
    const ok = await helper
      .request()
      .post("/meross-config/account")
      .send({ ...base, mfaCode: "123456" })
      .expect(200);
    assert.equal(ok.body.userId, "4242");
    assertNoPassword([ask.body, wrong.body, ok.body]);
  });

  it("a wrong password or an empty e-mail is a sentence, and the password is never echoed", async () => {
    const c = await load();
    const wrong = await helper
      .request()
      .post("/meross-config/account")
      .send({ email: "home@example.com", password: `${PASSWORD}-typo`, apiUrl: c.url })
      .expect(502);
    assert.equal(wrong.body.error.code, "ACCOUNT_REFUSED");
    assert.match(wrong.body.error.message, /password/i);
    assert.equal(wrong.body.key, undefined);
    const calls = c.calls.length;
    const empty = await helper.request().post("/meross-config/account").send({ email: "", password: PASSWORD, apiUrl: c.url }).expect(400);
    assert.equal(empty.body.error.code, "BAD_INPUT");
    assert.equal(c.calls.length, calls, "nothing sent for an empty e-mail");
    const plain = await helper
      .request()
      .post("/meross-config/account")
      .send({ email: "home@example.com", password: PASSWORD, apiUrl: "http://iot.example.com" })
      .expect(400);
    assert.match(plain.body.error.message, /unencrypted/);
    assertNoPassword([wrong.body, empty.body, plain.body]);
    assert.ok(!JSON.stringify(wrong.body).includes(`${PASSWORD}-typo`));
  });

  it("Find devices lists address, uuid, model, firmware, account name, key fit and where each is bound", async () => {
    await load();
    const fits = await startDevice({ model: "mss310", key: ACCOUNT_KEY, appPaired: true, mqttReconnectMs: 60_000 });
    const other = await startDevice({ model: "msl120", key: OTHER_KEY, appPaired: true, mqttReconnectMs: 60_000 });
    sims.push(fits, other);
    const res = await helper
      .request()
      .post("/meross-config/find")
      .send({ targets: `${fits.address}, ${other.address}, 127.0.0.1:1`, key: ACCOUNT_KEY, names: { [fits.uuid]: "Patio plug" } })
      .expect(200);
    const found = res.body.devices as Array<Record<string, unknown>>;
    assert.deepEqual(
      found.map((d) => [d.address, d.uuid, d.keyFits, d.boundTo, d.name]),
      [
        [fits.address, fits.uuid, true, "meross-cloud", "Patio plug"],
        [other.address, other.uuid, false, "unknown", undefined],
      ],
    );
    assert.match(String(found[0].model), /^mss310/);
    assert.ok(typeof found[0].firmware === "string" && found[0].firmware !== "");
    assert.ok(!JSON.stringify(res.body).includes(ACCOUNT_KEY));
  });

  it("Find devices refuses a malformed subnet, a /8 and a public address with a sentence, sending nothing", async () => {
    await load();
    const sim = await startDevice({ model: "mss310", key: ACCOUNT_KEY, appPaired: true, mqttReconnectMs: 60_000 });
    sims.push(sim);
    const asked: string[] = [];
    sim.on("request", (r: { namespace: string }) => asked.push(r.namespace));
    for (const [targets, want] of [
      ["192.168.1.0/33", /is not a subnet/],
      ["10.0.0.0/8", /too many to scan/],
      ["8.8.8.8", /not an address on your local network/],
      ["", /Give a subnet/],
      [`${sim.address}, http://evil/`, /is not an IPv4 address/],
    ] as const) {
      const res = await helper.request().post("/meross-config/find").send({ targets, key: ACCOUNT_KEY }).expect(400);
      assert.equal(res.body.error.code, "BAD_INPUT");
      assert.match(res.body.error.message, want);
      assert.match(res.body.error.message, /Nothing was sent/);
    }
    assert.deepEqual(asked, [], "no request reached the device");
  });
});
