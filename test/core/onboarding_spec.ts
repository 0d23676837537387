import assert from "node:assert/strict";
import { onboard, OnboardingError } from "../../src/core/onboarding";
import { MerossDevice } from "../../src/core/session/device";
import { mqttPassword } from "../../src/core/onboarding/config";
import { SimulatedDevice, type WifiConfigEvent } from "../../src/simulator/device";
import { rejectsWith } from "../helpers/errors";
import { echoingAccessPoint } from "../helpers/echo-ap";
import { secretForms } from "../../src/core/errors";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SECURITY_FILE, hashPassword, newSecurityConfig, readSecurityFile, writeSecurityFile } from "../../src/core/broker/mosquitto";

/** The access-point provisioning steps of the core (docs/protocol.md §3.1), against simulated devices. */
describe("onboarding (core)", function () {
  this.timeout(20000);
  const sims: SimulatedDevice[] = [];
  const fresh = async (model: string) => {
    const d = await SimulatedDevice.start({ model, port: 0, unconfigured: true });
    sims.push(d);
    return d;
  };
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });

  it("runs the steps in order, fills the Wi-Fi fields from the scan, and the device then wants the new key", async () => {
    const dev = await fresh("msl120");
    const net = dev.networks[0];
    const wifi = new Promise<WifiConfigEvent>((r) => dev.once("wifi", r));
    const seen: string[] = [];
    const result = await onboard({
      address: dev.address,
      mqttHost: "192.168.1.10",
      mqttPort: 8883,
      key: "new-key",
      userId: "42",
      wifi: { ssid: net.ssid, password: "correct horse" },
      timeZone: "Europe/Berlin",
      onStep: (s) => seen.push(s.name),
    });
    assert.deepEqual(
      result.steps.map((s) => s.name),
      ["read device", "read abilities", "scan wifi", "set key", "set time", "set wifi"],
    );
    assert.deepEqual(
      seen,
      result.steps.map((s) => s.name),
      "each step is reported as it finishes",
    );
    assert.ok(result.steps.every((s) => s.ok && s.ms >= 0));
    const got = await wifi;
    assert.equal(got.namespace, "Appliance.Config.Wifi");
    assert.equal(got.ssid, net.ssid);
    assert.equal(got.password, "correct horse");
    assert.equal(got.bssid, net.bssid, "bssid, channel, encryption and cipher come from the scan");
    assert.equal(got.channel, net.channel);
    assert.deepEqual(dev.gateway && { host: dev.gateway.host, port: dev.gateway.port }, { host: "192.168.1.10", port: 8883 });
    assert.deepEqual(result.device, { uuid: dev.uuid, mac: dev.mac, model: dev.model.type, firmware: result.device.firmware });
    assert.deepEqual(result.mqtt, {
      host: "192.168.1.10",
      port: 8883,
      username: dev.mac,
      passwordNote: "derived from the device key: 42_md5(<MAC> + <key>)",
    });
    assert.ok(!JSON.stringify(result).includes("correct horse"), "the Wi-Fi password is not in the result");
    assert.ok(!JSON.stringify(result).includes(mqttPassword(dev.mac, "new-key", "42")), "nor the broker password derived from the key");
    assert.ok(!JSON.stringify(result).includes("new-key"), "nor the key");

    await new Promise<void>((r) => (dev.mode === "normal" ? r() : dev.once("reboot", () => r())));
    const withNew = new MerossDevice({ address: dev.address, key: "new-key" });
    const withOld = new MerossDevice({ address: dev.address, key: "" });
    try {
      assert.equal((await withNew.ready()).uuid, dev.uuid);
      await rejectsWith(withOld.ready(), "WRONG_KEY");
    } finally {
      await withNew.close();
      await withOld.close();
    }
  });

  it("with mosquittoDir adds the device's Mosquitto login before setting the key, and says how to reload", async () => {
    const dev = await fresh("mss310");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meross-onboard-mosq-"));
    try {
      writeSecurityFile(path.join(dir, SECURITY_FILE), newSecurityConfig({ username: "nodered", password: "pw" }));
      const result = await onboard({
        address: dev.address,
        mqttHost: "10.0.0.2",
        key: "k7",
        userId: "3",
        wifi: { ssid: dev.networks[0].ssid, password: "pw12345678" },
        mosquittoDir: dir,
      });
      const names = result.steps.map((s) => s.name);
      assert.equal(names.indexOf("add broker login") + 1, names.indexOf("set key"));
      assert.equal(result.mosquitto?.file, path.join(dir, SECURITY_FILE));
      assert.match(result.mosquitto?.reload ?? "", /Restart Mosquitto/);
      const login = readSecurityFile(path.join(dir, SECURITY_FILE)).clients.find((c) => c.username === dev.mac);
      assert.ok(login, "the device's login is in the file");
      assert.equal(
        hashPassword(mqttPassword(dev.mac, "k7", "3"), Buffer.from(login.salt, "base64")).password,
        login.password,
        "its password is the one derived from the key",
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("uses Config.WifiX (encrypted password) when the device lists it", async () => {
    const dev = await fresh("mss305");
    const wifi = new Promise<WifiConfigEvent>((r) => dev.once("wifi", r));
    const result = await onboard({
      address: dev.address,
      mqttHost: "10.0.0.2",
      key: "k",
      wifi: { ssid: dev.networks[0].ssid, password: "pass-for-wifix" },
    });
    assert.equal(result.wifi.namespace, "Appliance.Config.WifiX");
    const got = await wifi;
    assert.equal(got.namespace, "Appliance.Config.WifiX");
    assert.equal(got.password, "pass-for-wifix", "the device decrypted the password with md5(type + uuid + mac)");
  });

  for (const model of ["mss310", "mss305"]) {
    it(`${model}: an access point echoing the Wi-Fi payload in an ERROR never gets the password into the error or the steps`, async () => {
      const dev = await fresh(model);
      const ap = await echoingAccessPoint(dev.address, () => "echo-key");
      try {
        const password = "hunter2-wifi-pass";
        const err = await rejectsWith(
          onboard({ address: ap.address, mqttHost: "10.0.0.2", key: "echo-key", wifi: { ssid: dev.networks[0].ssid, password } }),
          "DEVICE_ERROR",
        );
        assert.equal(ap.echoed.length, 1, "the access point did echo the payload");
        const cipher = String(ap.echoed[0].password);
        const out = `${err.message} ${String(err.stack)} ${JSON.stringify((err as OnboardingError).steps)}`;
        for (const form of secretForms(password).concat(cipher)) assert.ok(!out.includes(form), `shows ${form}: ${out}`);
        assert.match(err.message, /refused SET Appliance\.Config\.WifiX? \(it said "refused /);
      } finally {
        await ap.close();
      }
    });
  }

  it("stops before touching the device's key when it does not see the network, with the steps so far", async () => {
    const dev = await fresh("msl120");
    const err = await rejectsWith(
      onboard({ address: dev.address, mqttHost: "10.0.0.2", key: "k", wifi: { ssid: "My 5GHz Net", password: "whatever12" } }),
      "BAD_INPUT",
      /does not see the Wi-Fi network "My 5GHz Net"[\s\S]*2\.4 GHz/,
    );
    assert.ok(err instanceof OnboardingError);
    assert.deepEqual(
      err.steps.map((s) => [s.name, s.ok]),
      [
        ["read device", true],
        ["read abilities", true],
        ["scan wifi", false],
      ],
    );
    assert.equal(dev.mode, "ap");
    assert.equal(dev.key, "", "no key was set");
  });

  it("refuses a missing broker host or a bad port before sending anything", async () => {
    const dev = await fresh("msl120");
    const before = dev.requestCount;
    await rejectsWith(
      onboard({ address: dev.address, mqttHost: "", key: "k", wifi: { ssid: "x", password: "12345678" } }),
      "BAD_INPUT",
      /MQTT host is missing/,
    );
    await rejectsWith(
      onboard({ address: dev.address, mqttHost: "h", mqttPort: 70000, key: "k", wifi: { ssid: "x", password: "12345678" } }),
      "BAD_INPUT",
      /port 70000 is not valid/,
    );
    assert.equal(dev.requestCount, before);
  });
});
