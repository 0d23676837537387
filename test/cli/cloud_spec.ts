import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { run } from "../../src/cli/index";
import { SimulatedCloud } from "../../src/simulator/cloud";
import { memIo } from "./helpers";

const PASSWORD = "cli-account-password";
const KEY = "cli-account-key-42";
const UUID = "0123456789abcdef0123456789abcd0c";
const md5 = (s: string): string => createHash("md5").update(s).digest("hex");

describe("meross cloud", function () {
  this.timeout(20000);
  let cloud: SimulatedCloud;
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "meross-cloud-"));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    cloud = await SimulatedCloud.start([
      {
        email: "me@example.com",
        password: PASSWORD,
        userId: "9001",
        key: KEY,
        devices: [{ uuid: UUID, name: "Patio", model: "mss310", firmware: "6.1.8" }],
      },
      { email: "mfa@example.com", password: PASSWORD, userId: "9002", key: KEY, mfaCode: "135790", region: "other", devices: [] },
    ]);
  });
  afterEach(async () => {
    await cloud.stop();
  });

  /** Neither the password nor its hash in anything the command wrote; the key only when asked. */
  const assertNoPassword = (text: string): void => {
    assert.ok(!text.includes(PASSWORD) && !text.includes(md5(PASSWORD)), "the password appears in the output");
  };

  it("asks the password without echo, prints user id and devices, and writes the key to a 0600 file", async () => {
    const asked: Array<[string, boolean]> = [];
    const m = memIo();
    m.io.prompt = async (q, hidden) => {
      asked.push([q, hidden]);
      return PASSWORD;
    };
    const keyFile = path.join(dir, "account-key");
    const code = await run(["cloud", "--api", cloud.url, "--email", "me@example.com", "--key-file", keyFile], m.io);
    assert.equal(code, 0, m.err());
    assert.deepEqual(
      asked.map(([, hidden]) => hidden),
      [true],
    );
    const out = JSON.parse(m.out()) as {
      userId: string;
      devices: Array<{ uuid: string; name: string; model: string; firmware: string }>;
      signedOut: boolean;
    };
    assert.equal(out.userId, "9001");
    assert.deepEqual(
      out.devices.map((d) => [d.uuid, d.name, d.model, d.firmware]),
      [[UUID, "Patio", "mss310", "6.1.8"]],
    );
    assert.equal(out.signedOut, true);
    assert.equal((await fs.readFile(keyFile, "utf8")).trim(), KEY);
    if (process.platform !== "win32") assert.equal((await fs.stat(keyFile)).mode & 0o777, 0o600);
    assert.ok(!(m.out() + m.err()).includes(KEY), "the key was printed without --show-key");
    assertNoPassword(m.out() + m.err());
  });

  it("asks for the MFA code the account wants (after its region redirect) and prints the key only with --show-key", async () => {
    const questions: string[] = [];
    const m = memIo({ MEROSS_ACCOUNT_PASSWORD: PASSWORD });
    m.io.prompt = async (q) => {
      questions.push(q);
      return "135790";
    };
    const code = await run(["cloud", "--api", cloud.url, "--email", "mfa@example.com", "--show-key"], m.io);
    assert.equal(code, 0, m.err());
    assert.equal(questions.length, 1);
    assert.match(questions[0], /code/);
    assert.equal((JSON.parse(m.out()) as { key: string }).key, KEY);
    assertNoPassword(m.out() + m.err());
  });

  it("reports a wrong password or MFA code in one line, without the password", async () => {
    const file = path.join(dir, "wrong-password");
    await fs.writeFile(file, "a-wrong-password\n");
    const m = memIo();
    assert.equal(await run(["cloud", "--api", cloud.url, "--email", "me@example.com", "--password-file", file], m.io), 1);
    assert.match(m.err(), /^meross cloud: The Meross account service did not accept this e-mail address and password/);
    assert.ok(!m.err().includes("a-wrong-password") && m.out() === "");
    const w = memIo({ MEROSS_ACCOUNT_PASSWORD: PASSWORD });
    assert.equal(await run(["cloud", "--api", cloud.url, "--email", "mfa@example.com", "--mfa-code", "000000"], w.io), 1);
    assert.match(w.err(), /did not accept the verification code/);
    assertNoPassword(w.out() + w.err());
  });

  it("refuses the password as a flag, an empty e-mail and a plain-http service, and sends nothing", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--email", "me@example.com", "--password", PASSWORD], /not taken as a flag/],
      [["--email", ""], /e-mail address .* is empty/],
      [["--email", "me@example.com", "--api", "http://iot.example.com"], /plain http would send the password unencrypted/],
    ];
    for (const [args, why] of cases) {
      const m = memIo({ MEROSS_ACCOUNT_PASSWORD: PASSWORD });
      const api = args.includes("--api") ? [] : ["--api", cloud.url];
      assert.equal(await run(["cloud", ...api, ...args], m.io), 2, m.err());
      assert.match(m.err(), why);
      assertNoPassword(m.out() + m.err());
    }
    assert.equal(cloud.calls.length, 0);
  });

  it("without a terminal and no password given, says where to put it", async () => {
    const m = memIo();
    assert.equal(await run(["cloud", "--api", cloud.url, "--email", "me@example.com"], m.io), 2);
    assert.match(m.err(), /--password-file F or set MEROSS_ACCOUNT_PASSWORD/);
    assert.equal(cloud.calls.length, 0);
  });
});
