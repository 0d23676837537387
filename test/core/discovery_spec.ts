import assert from "node:assert/strict";
import { SimulatedDevice } from "../../src/simulator/device";
import { classifyBroker, discover, parseTargets } from "../../src/core/discovery";
import { MerossError } from "../../src/core/errors";
import { freePort } from "../cli/helpers";

const KEY = "home-key-1234";

describe("discovery: Meross devices answering on a subnet", function () {
  this.timeout(30000);
  const devices: SimulatedDevice[] = [];
  let port = 0;
  before(async () => {
    port = await freePort();
    const start = (host: string, extra: Parameters<typeof SimulatedDevice.start>[0]) =>
      SimulatedDevice.start({ host, port, mqttReconnectMs: 60_000, ...extra }).then((d) => devices.push(d));
    // .2 set up by the app (account key, Meross cloud), .3 on our broker, .4 with another key, .6 encrypted firmware.
    await start("127.0.0.2", { model: "mss310", key: KEY, appPaired: true, seed: "disc-2" });
    await start("127.0.0.3", { model: "msl120", key: KEY, gateway: { host: "127.0.0.1", port: 1 }, seed: "disc-3" });
    await start("127.0.0.4", { model: "mss210", key: "someone-elses-key", seed: "disc-4" });
    await start("127.0.0.6", { model: "mss110", key: KEY, seed: "disc-6" });
  });
  after(async () => {
    await Promise.all(devices.map((d) => d.stop()));
  });

  it("lists each device with uuid, model, firmware, name, key fit and where it is bound; silent addresses are skipped", async () => {
    const [app, ours, other, enc] = devices;
    const found = await discover({
      addresses: parseTargets("127.0.0.0/29"),
      key: KEY,
      port,
      timeoutMs: 3000,
      names: new Map([[app.uuid, "Patio plug"]]),
      ourBrokers: ["127.0.0.1:1"],
    });
    assert.deepEqual(
      found.map((f) => [f.address, f.uuid, f.keyFits, f.boundTo]),
      [
        ["127.0.0.2", app.uuid, true, "meross-cloud"],
        ["127.0.0.3", ours.uuid, true, "this-broker"],
        ["127.0.0.4", other.uuid, false, "unknown"],
        ["127.0.0.6", enc.uuid, true, "none"],
      ],
    );
    assert.equal(found[0].name, "Patio plug");
    assert.equal(found[0].model, app.model.type);
    assert.equal(found[0].firmware, app.model.firmwareVersion);
    assert.equal(found[2].model, undefined, "a device that refused the key tells no model");
    assert.equal(other.key, "someone-elses-key", "the device with another key was not changed");
  });

  it("refuses a /8, a malformed subnet and a bad address with a sentence, before anything is sent", () => {
    const cases: Array<[string, RegExp]> = [
      ["10.0.0.0/8", /16777216 addresses, too many to scan/],
      ["192.168.1.0/33", /is not a subnet/],
      ["192.168.1.300", /not an IPv4 address/],
      ["", /Give a subnet/],
    ];
    for (const [text, why] of cases) {
      assert.throws(
        () => parseTargets(text),
        (e: unknown) => e instanceof MerossError && e.code === "BAD_INPUT" && why.test(e.message),
      );
    }
    assert.equal(parseTargets("192.168.1.0/24").length, 254);
    assert.equal(parseTargets("192.168.0.0/22").length, 1022);
    assert.deepEqual(parseTargets("10.0.0.5, 10.0.0.7 10.0.0.5"), ["10.0.0.5", "10.0.0.7"]);
  });

  it("names where a device is bound from its MQTT server", () => {
    assert.equal(classifyBroker("mqtt-eu-3.meross.com", 443, []), "meross-cloud");
    assert.equal(classifyBroker("192.168.1.10", 8883, ["192.168.1.10"]), "this-broker");
    assert.equal(classifyBroker("192.168.1.10", 8883, ["192.168.1.10:1883"]), "other-broker");
    assert.equal(classifyBroker("", 0, []), "none");
  });
});
