import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import forge from "node-forge";
import { CA_COMMON_NAME, generateCertificates, loadOrCreateCertificates, writeCertificates } from "../../../src/core/broker/certs";
import { MerossError } from "../../../src/core/errors";

function opensslVerify(dir: string, extra: string[]): { ok: boolean; out: string } {
  const r = spawnSync(
    "openssl",
    ["verify", "-CAfile", path.join(dir, "ca.crt"), "-purpose", "sslserver", ...extra, path.join(dir, "server.crt")],
    { encoding: "utf8" },
  );
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

describe("broker certificates", () => {
  let tmp: string;

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "meross-certs-"));
  });
  afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("produces a chain that openssl accepts for a TLS server on 127.0.0.1 and rejects for another IP", () => {
    writeCertificates(tmp, generateCertificates({ host: "127.0.0.1" }));
    const good = opensslVerify(tmp, ["-verify_ip", "127.0.0.1"]);
    assert.ok(good.ok, good.out);
    const other = opensslVerify(tmp, ["-verify_ip", "10.9.8.7"]);
    assert.equal(other.ok, false, "a certificate for 127.0.0.1 must not be valid for another address");
  });

  it("names a DNS host in the SAN, distinct from the CA, with serverAuth and sha256", () => {
    const certs = generateCertificates({ host: "broker.lan", days: 30 });
    writeCertificates(tmp, certs);
    assert.ok(opensslVerify(tmp, ["-verify_hostname", "broker.lan"]).ok);
    const text = execFileSync("openssl", ["x509", "-in", path.join(tmp, "server.crt"), "-noout", "-text"], { encoding: "utf8" });
    assert.match(text, /DNS:broker\.lan/);
    assert.match(text, /TLS Web Server Authentication/);
    assert.match(text, /sha256WithRSAEncryption/);
    assert.match(text, /Authority Key Identifier/);
    const ca = forge.pki.certificateFromPem(certs.caCert);
    assert.equal(ca.subject.getField("CN").value, CA_COMMON_NAME);
    const days = (forge.pki.certificateFromPem(certs.serverCert).validity.notAfter.getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 29 && days <= 30, `validity ${days} days`);
  });

  it("adds localhost when the host is loopback, and only then", () => {
    writeCertificates(tmp, generateCertificates({ host: "127.0.0.1" }));
    assert.ok(opensslVerify(tmp, ["-verify_hostname", "localhost"]).ok);
    writeCertificates(tmp, generateCertificates({ host: "192.168.1.10" }));
    assert.ok(opensslVerify(tmp, ["-verify_ip", "192.168.1.10"]).ok);
    assert.equal(opensslVerify(tmp, ["-verify_hostname", "localhost"]).ok, false);
  });

  it("writes keys with the permissions Mosquitto needs and a config with absolute paths", () => {
    const files = writeCertificates(tmp, generateCertificates({ host: "127.0.0.1" }), { mosquittoPort: 18884 });
    const mode = (f: string): number => fs.statSync(f).mode & 0o777;
    assert.equal(mode(files.caKey), 0o600);
    assert.equal(mode(files.serverKey), 0o600);
    const conf = fs.readFileSync(files.mosquittoConf, "utf8");
    assert.match(conf, /^listener 18884$/m);
    assert.match(conf, /^allow_anonymous false$/m);
    assert.ok(conf.includes(`plugin_opt_config_file ${files.securityFile}\n`));
    assert.match(conf, /^require_certificate false$/m);
    assert.match(conf, /^per_listener_settings false$/m);
    assert.match(conf, /^persistence false$/m);
    for (const [k, f] of [
      ["cafile", files.caCert],
      ["certfile", files.serverCert],
      ["keyfile", files.serverKey],
    ]) {
      assert.ok(path.isAbsolute(f));
      assert.ok(conf.includes(`${k} ${f}\n`), `${k} line`);
    }
  });

  it("writes the classic anonymous config only when asked, and keeps that choice when the broker restarts", () => {
    const files = writeCertificates(tmp, generateCertificates({ host: "127.0.0.1" }), { anonymous: true });
    const conf = (): string => fs.readFileSync(files.mosquittoConf, "utf8");
    assert.match(conf(), /^allow_anonymous true$/m);
    assert.doesNotMatch(conf(), /^plugin/m);
    loadOrCreateCertificates(tmp, "127.0.0.1", { mosquittoPort: 18885 });
    assert.match(conf(), /^listener 18885$/m);
    assert.match(conf(), /^allow_anonymous true$/m, "an explicit --anonymous is not undone by a restart");
    fs.rmSync(files.mosquittoConf);
    loadOrCreateCertificates(tmp, "127.0.0.1");
    assert.match(conf(), /^allow_anonymous false$/m, "otherwise the locked-down config");
  });

  it("keeps certificates across restarts and regenerates them when the host changes", () => {
    const first = loadOrCreateCertificates(tmp, "127.0.0.1");
    assert.equal(first.created, true);
    const again = loadOrCreateCertificates(tmp, "127.0.0.1");
    assert.equal(again.created, false);
    assert.equal(again.caCert, first.caCert);
    const moved = loadOrCreateCertificates(tmp, "192.168.1.10");
    assert.equal(moved.created, true);
    assert.notEqual(moved.serverCert, first.serverCert);
    assert.ok(opensslVerify(tmp, ["-verify_ip", "192.168.1.10"]).ok);
  });

  it("regenerates damaged files instead of failing", () => {
    loadOrCreateCertificates(tmp, "127.0.0.1");
    fs.writeFileSync(path.join(tmp, "server.crt"), "not a certificate");
    const fixed = loadOrCreateCertificates(tmp, "127.0.0.1");
    assert.equal(fixed.created, true);
    assert.ok(opensslVerify(tmp, ["-verify_ip", "127.0.0.1"]).ok);
  });

  it("rejects an unusable host or validity with a BAD_INPUT sentence", () => {
    for (const host of ["", "my broker", "http://x/"]) {
      assert.throws(
        () => generateCertificates({ host }),
        (e: unknown) => e instanceof MerossError && e.code === "BAD_INPUT" && /IP address or host name/.test(e.message),
      );
    }
    assert.throws(
      () => generateCertificates({ host: "127.0.0.1", days: 0 }),
      (e: unknown) => e instanceof MerossError && e.code === "BAD_INPUT",
    );
  });
});
