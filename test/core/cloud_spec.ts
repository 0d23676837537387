import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fetchCloudAccount } from "../../src/core/cloud";
import { MerossError, redactError } from "../../src/core/errors";
import { SimulatedCloud, type SimCloudAccount } from "../../src/simulator/cloud";

const md5 = (s: string): string => createHash("md5").update(s).digest("hex");
const HUB = "0123456789abcdef0123456789abcd01";
const PLUG = "0123456789abcdef0123456789abcd02";

const ACCOUNTS: SimCloudAccount[] = [
  {
    email: "home@example.com",
    password: "correct horse battery",
    userId: "100200",
    key: "account-key-home-7f3a",
    devices: [
      { uuid: PLUG, name: "Kettle", model: "mss310", firmware: "2.1.4", online: true },
      {
        uuid: HUB,
        name: "Hub",
        model: "msh300",
        firmware: "4.1.13",
        online: false,
        subDevices: [{ id: "01004A2B", model: "ms100", name: "Bathroom sensor" }],
      },
    ],
  },
  { email: "far@example.com", password: "far-password-1", userId: "300", key: "account-key-far-9911", region: "other", devices: [] },
  { email: "mfa@example.com", password: "mfa-password-1", userId: "400", key: "account-key-mfa-5522", mfaCode: "246810", devices: [] },
  { email: "busy@example.com", password: "busy-password-1", userId: "500", key: "account-key-busy-1", maxTokens: 0, devices: [] },
];

async function refusal(p: Promise<unknown>): Promise<MerossError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MerossError, `not a MerossError: ${String(err)}`);
    return err;
  }
  assert.fail("the sign-in succeeded");
}

/** The password, its hash, nowhere in what a person sees of the error. */
function assertNoSecret(err: MerossError, ...secrets: string[]): void {
  const shown = `${err.message} ${JSON.stringify(err.toJSON())} ${JSON.stringify(err.details)}`;
  for (const s of secrets) {
    assert.ok(!shown.includes(s), `"${s}" appears in the error`);
    assert.ok(!shown.includes(md5(s)), `the hash of "${s}" appears in the error`);
  }
}

describe("Meross account client (against the simulated service)", function () {
  this.timeout(20000);
  let cloud: SimulatedCloud;
  beforeEach(async () => {
    cloud = await SimulatedCloud.start(ACCOUNTS);
  });
  afterEach(async () => {
    await cloud.stop();
  });

  it("returns the user id, key and devices with hub sub-devices, then signs out (the token is void)", async () => {
    const a = await fetchCloudAccount({ email: "home@example.com", password: "correct horse battery", apiUrl: cloud.url });
    assert.equal(a.userId, "100200");
    assert.equal(a.key, "account-key-home-7f3a");
    assert.equal(a.signedOut, true);
    assert.deepEqual(
      a.devices.map((d) => [d.uuid, d.name, d.model, d.firmware, d.online]),
      [
        [PLUG, "Kettle", "mss310", "2.1.4", true],
        [HUB, "Hub", "msh300", "4.1.13", false],
      ],
    );
    assert.deepEqual(a.devices[1].subDevices, [{ id: "01004A2B", model: "ms100", name: "Bathroom sensor" }]);
    assert.equal(a.devices[0].subDevices, undefined);
    assert.equal(cloud.liveTokens("home@example.com"), 0);
    assert.deepEqual(
      cloud.calls.map((c) => c.path),
      ["/v1/Auth/signIn", "/v1/Device/devList", "/v1/Hub/getSubDevices", "/v1/Profile/logout"],
    );
  });

  it("follows the region redirect (1030) to the domain the service names", async () => {
    const a = await fetchCloudAccount({ email: "far@example.com", password: "far-password-1", apiUrl: cloud.url });
    assert.equal(a.key, "account-key-far-9911");
    assert.equal(a.domain, cloud.otherRegionUrl);
    assert.deepEqual(
      cloud.calls.map((c) => [c.path, c.apiStatus]),
      [
        ["/v1/Auth/signIn", 1030],
        ["/region-b/v1/Auth/signIn", 0],
        ["/region-b/v1/Device/devList", 0],
        ["/region-b/v1/Profile/logout", 0],
      ],
    );
  });

  it("asks for the MFA code when the account wants one, and signs in with it", async () => {
    let asked = 0;
    const a = await fetchCloudAccount({
      email: "mfa@example.com",
      password: "mfa-password-1",
      apiUrl: cloud.url,
      mfaCode: async () => {
        asked++;
        return "246810";
      },
    });
    assert.equal(asked, 1);
    assert.equal(a.userId, "400");
    assert.deepEqual(
      cloud.calls.filter((c) => c.path.endsWith("signIn")).map((c) => c.apiStatus),
      [1033, 0],
    );
  });

  it("reports a wrong MFA code, and a code needed when nobody can give one", async () => {
    const wrong = await refusal(
      fetchCloudAccount({ email: "mfa@example.com", password: "mfa-password-1", apiUrl: cloud.url, mfaCode: async () => "111111" }),
    );
    assert.equal(wrong.code, "ACCOUNT_REFUSED");
    assert.equal(wrong.details.apiStatus, 1032);
    assert.match(wrong.message, /verification code/);
    const none = await refusal(fetchCloudAccount({ email: "mfa@example.com", password: "mfa-password-1", apiUrl: cloud.url }));
    assert.equal(none.details.apiStatus, 1033);
    assert.match(none.message, /asks for a verification code/);
    assertNoSecret(wrong, "mfa-password-1");
  });

  it("says the password is wrong without quoting it or its hash", async () => {
    const err = await refusal(fetchCloudAccount({ email: "home@example.com", password: "not-the-password", apiUrl: cloud.url }));
    assert.equal(err.code, "ACCOUNT_REFUSED");
    assert.equal(err.details.apiStatus, 1004);
    assert.match(err.message, /did not accept this e-mail address and password/);
    assertNoSecret(err, "not-the-password");
    assert.equal(cloud.liveTokens("home@example.com"), 0);
  });

  it("explains too many tokens (1301) instead of failing blindly", async () => {
    const err = await refusal(fetchCloudAccount({ email: "busy@example.com", password: "busy-password-1", apiUrl: cloud.url }));
    assert.equal(err.details.apiStatus, 1301);
    assert.match(err.message, /signed in too many times without signing out/);
  });

  it("refuses an empty e-mail, an empty password and a plain-http service before sending anything", async () => {
    const cases: Array<[Parameters<typeof fetchCloudAccount>[0], RegExp]> = [
      [{ email: "", password: "x-password", apiUrl: cloud.url }, /e-mail address .* is empty/],
      [{ email: "home@example.com", password: "", apiUrl: cloud.url }, /password .* is empty/],
      [
        { email: "home@example.com", password: "correct horse battery", apiUrl: "http://iot.example.com" },
        /plain http would send the password/,
      ],
      [{ email: "home@example.com", password: "correct horse battery", apiUrl: "not a url" }, /not a URL/],
    ];
    for (const [opts, why] of cases) {
      const err = await refusal(fetchCloudAccount(opts));
      assert.equal(err.code, "BAD_INPUT");
      assert.match(err.message, why);
      assert.match(err.message, /Nothing was sent/);
      assertNoSecret(err, "correct horse battery");
    }
    assert.equal(cloud.calls.length, 0);
  });

  it("does not follow a region redirect away from meross.com", async () => {
    const { redirectAllowed } = await import("../../src/core/cloud/http");
    assert.equal(redirectAllowed("https://iot.meross.com", "https://evil.example.com"), undefined);
    assert.equal(redirectAllowed("https://iot.meross.com", "http://iotx-eu.meross.com"), undefined);
    assert.equal(redirectAllowed("https://iot.meross.com", "https://iotx-eu.meross.com"), "https://iotx-eu.meross.com");
    assert.equal(redirectAllowed("http://127.0.0.1:9", "http://127.0.0.1:10/region-b"), "http://127.0.0.1:10/region-b");
  });

  it("scrubs the key and token from any sentence that would carry them", () => {
    const err = redactError(new MerossError("BAD_RESPONSE", "reply echoed account-key-home-7f3a and tok-abcdef123"), [
      "account-key-home-7f3a",
      "tok-abcdef123",
    ]);
    assert.equal(err.message, "reply echoed ******** and ********");
  });

  it("refuses an oversized reply and does not follow an HTTP redirect", async () => {
    const http = await import("node:http");
    let hits = 0;
    const srv = http.createServer((req, res) => {
      hits++;
      if (req.url?.startsWith("/big")) {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(`{"apiStatus":0,"data":"${"x".repeat(2 * 1024 * 1024)}"}`);
      } else {
        res.writeHead(302, { Location: "/big/v1/Auth/signIn" }).end();
      }
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const base = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
    try {
      const big = await refusal(fetchCloudAccount({ email: "home@example.com", password: "correct horse battery", apiUrl: `${base}/big` }));
      assert.equal(big.code, "BAD_RESPONSE");
      hits = 0;
      const moved = await refusal(fetchCloudAccount({ email: "home@example.com", password: "correct horse battery", apiUrl: base }));
      assert.equal(moved.code, "BAD_RESPONSE");
      assert.match(moved.message, /HTTP status 302/);
      assert.equal(hits, 1, "the redirect was followed");
    } finally {
      srv.closeAllConnections();
      srv.close();
    }
  });

  it("turns a service that does not answer in time into TIMEOUT", async () => {
    const net = await import("node:net");
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      const err = await refusal(
        fetchCloudAccount({
          email: "home@example.com",
          password: "correct horse battery",
          apiUrl: `http://127.0.0.1:${port}`,
          timeoutMs: 300,
        }),
      );
      assert.equal(err.code, "TIMEOUT");
      assertNoSecret(err, "correct horse battery");
    } finally {
      silent.close();
    }
  });
});
