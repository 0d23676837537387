/**
 * Adding device logins without a running Mosquitto (src/core/broker/dynsec.ts): the CLI's
 * fallback to the file with the restart advice, the admin login `meross certs` adds to a
 * folder written before it existed, and bad input refused before any connection.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { run } from "../../../src/cli/index";
import { ADMIN_PASSWORD_FILE, addDeviceLive, addMosquittoLogin } from "../../../src/core/broker/dynsec";
import { ADMIN_USER, SECURITY_FILE, newSecurityConfig, readSecurityFile, writeSecurityFile } from "../../../src/core/broker/mosquitto";
import { MerossError } from "../../../src/core/errors";
import { freePort, memIo } from "../../cli/helpers";
import { DEVICE_A } from "./fake_device";

describe("Mosquitto logins: live or, when Mosquitto is not running, in the file", function () {
  this.timeout(30_000);
  let dir = "";
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "meross-dynsec-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function certs(port: number, ...more: string[]): Promise<string> {
    const m = memIo();
    assert.equal(await run(["certs", "--host", "127.0.0.1", "--out", dir, "--port", String(port), ...more], m.io), 0, m.err());
    return m.out();
  }

  it("with no Mosquitto listening, writes the login into dynamic-security.json and says to restart", async () => {
    await certs(await freePort());
    const added = await addMosquittoLogin(dir, { ...DEVICE_A, userId: "0" });
    assert.equal(added.live, undefined);
    assert.equal(added.file, path.join(dir, SECURITY_FILE));
    assert.match(added.reload ?? "", /Restart Mosquitto/);
    assert.doesNotMatch(added.reload ?? "", /meross certs/, "the admin login exists: no advice to get it");
    assert.ok(readSecurityFile(added.file!).clients.some((c) => c.username === added.username));
  });

  it("meross certs --force gives a folder written before the admin login that login, keeping the others", async () => {
    const port = await freePort();
    await certs(port);
    // The folder as an earlier version wrote it: no admin login, one device already added.
    const file = path.join(dir, SECURITY_FILE);
    writeSecurityFile(file, newSecurityConfig({ username: "nodered", password: "pw" }));
    fs.rmSync(path.join(dir, ADMIN_PASSWORD_FILE));
    const old = await addMosquittoLogin(dir, { ...DEVICE_A, userId: "0" });
    assert.match(old.reload ?? "", /meross certs --host <broker address> --out .* --force" once to get the "meross-admin" login/);

    const out = await certs(port, "--force");
    assert.match(out, /meross-admin\.password/);
    assert.match(out, /restart Mosquitto once so it reads it/);
    const adminFile = path.join(dir, ADMIN_PASSWORD_FILE);
    assert.equal(fs.statSync(adminFile).mode & 0o777, 0o600);
    assert.ok(!out.includes(fs.readFileSync(adminFile, "utf8").trim()), "the admin password is not printed");
    const names = readSecurityFile(file).clients.map((c) => c.username);
    assert.deepEqual(names.sort(), ["nodered", DEVICE_A.mac, ADMIN_USER].sort());
  });

  it("refuses a bad device or a missing admin password before connecting anywhere", async () => {
    const url = `mqtts://127.0.0.1:${await freePort()}`;
    await assert.rejects(addDeviceLive({ url, password: "x" }, { uuid: "nope", mac: DEVICE_A.mac, key: "" }), (err: unknown) => {
      assert.ok(err instanceof MerossError && err.code === "BAD_INPUT" && /uuid "nope" is not valid/.test(err.message));
      return true;
    });
    await assert.rejects(
      addDeviceLive({ url, password: "", passwordHint: "It is in meross-admin.password." }, DEVICE_A),
      (err: unknown) => {
        assert.ok(err instanceof MerossError && err.code === "BAD_INPUT");
        assert.equal(err.message, "The Mosquitto admin password is missing. It is in meross-admin.password.");
        return true;
      },
    );
  });
});
