import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import axios from "axios";
import { SimulatedCloud } from "../../src/simulator/cloud";
import { DEMO_ACCOUNT, demoCloudAccount, startDemo } from "../../src/simulator/demo";
import type { Fleet } from "../../src/simulator/fleet";

const SECRET = "23x17ahWarFH6w29";
const md5 = (s: string): string => createHash("md5").update(s).digest("hex");

/** A signed call written out by hand from the public description (docs/protocol.md §10.1). */
async function post(
  url: string,
  data: object,
  opts: { token?: string; timestamp?: number; tamper?: boolean } = {},
): Promise<{ apiStatus: number; data: unknown }> {
  const params = Buffer.from(JSON.stringify(data)).toString("base64");
  const timestamp = String(opts.timestamp ?? Date.now());
  const nonce = "ABCDEFGH12345678";
  const sign = md5(`${SECRET}${timestamp}${nonce}${params}`);
  const body = new URLSearchParams({ params, sign: opts.tamper ? md5(sign) : sign, timestamp, nonce }).toString();
  const res = await axios.post(url, body, {
    headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: `Basic ${opts.token ?? ""}` },
  });
  return res.data as { apiStatus: number; data: unknown };
}

describe("simulated Meross account service", function () {
  this.timeout(30000);
  let cloud: SimulatedCloud;
  const account = { email: "a@example.com", password: "pw-a-1234", userId: "7", key: "key-a-1234", devices: [] };
  beforeEach(async () => {
    cloud = await SimulatedCloud.start([account]);
  });
  afterEach(async () => {
    await cloud.stop();
  });

  const signIn = (extra: object = {}) =>
    post(`${cloud.url}/v1/Auth/signIn`, { email: account.email, password: md5(account.password), encryption: 1, ...extra });

  it("refuses a request whose sign or timestamp does not verify", async () => {
    assert.equal((await post(`${cloud.url}/v1/Auth/signIn`, { email: account.email }, { tamper: true })).apiStatus, 1022);
    const stale = await post(`${cloud.url}/v1/Auth/signIn`, { email: account.email }, { timestamp: Date.now() - 3600_000 });
    assert.equal(stale.apiStatus, 1022);
    assert.equal(cloud.liveTokens(account.email), 0);
  });

  it("a logout voids the token: a later call with it fails", async () => {
    const r = await signIn();
    assert.equal(r.apiStatus, 0);
    const token = (r.data as { token: string }).token;
    assert.equal((await post(`${cloud.url}/v1/Device/devList`, {}, { token })).apiStatus, 0);
    assert.equal((await post(`${cloud.url}/v1/Profile/logout`, {}, { token })).apiStatus, 0);
    assert.equal((await post(`${cloud.url}/v1/Device/devList`, {}, { token })).apiStatus, 1019);
  });

  it("answers a wrong password with 1004 and an unknown address with 1008", async () => {
    assert.equal((await signIn({ password: md5("nope") })).apiStatus, 1004);
    assert.equal((await signIn({ email: "nobody@example.com" })).apiStatus, 1008);
  });

  it("refuses a sixth sign-in without sign-outs (1301)", async () => {
    for (let i = 0; i < 5; i++) assert.equal((await signIn()).apiStatus, 0);
    assert.equal((await signIn()).apiStatus, 1301);
  });

  describe("the demo account", () => {
    let fleet: Fleet;
    before(async () => {
      fleet = await startDemo({ key: "demo-local-key" });
    });
    after(async () => {
      await fleet?.stop();
    });

    it("lists the demo's app-paired devices, whose key is the account key", async () => {
      const demo = await SimulatedCloud.start([demoCloudAccount(fleet)]);
      try {
        const r = await post(`${demo.url}/v1/Auth/signIn`, {
          email: DEMO_ACCOUNT.email,
          password: md5(DEMO_ACCOUNT.password),
          encryption: 1,
        });
        const { key, token } = r.data as { key: string; token: string };
        const list = (await post(`${demo.url}/v1/Device/devList`, {}, { token })).data as Array<{ uuid: string; devName: string }>;
        const patio = fleet.devices.find((d) => d.name === "Patio plug (set up by the app)");
        assert.ok(patio);
        assert.deepEqual(
          list.map((d) => d.uuid),
          [patio.uuid],
        );
        assert.equal(patio.key, key);
      } finally {
        await demo.stop();
      }
    });
  });
});
