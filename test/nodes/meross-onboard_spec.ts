import assert from "node:assert/strict";
import onboardNode = require("../../src/nodes/meross-onboard");
import { MerossDevice } from "../../src/core/session/device";
import { mqttPassword } from "../../src/core/onboarding/config";
import type { SimulatedDevice } from "../../src/simulator";
import { helper, startDevice, nextMessage, onTab, CATCH_NODES, useRuntime } from "./helpers";

type Msg = Record<string, unknown>;

const NEW_KEY = "fresh-onboarding-key-77";
const WIFI_PASSWORD = "correct horse battery";

describe("meross-onboard node", function () {
  let sim: SimulatedDevice | undefined;

  useRuntime(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function load(props: Record<string, unknown> = {}) {
    sim = await startDevice({ model: "msl120", unconfigured: true });
    sim.expectWifiPassword("HomeNet", WIFI_PASSWORD);
    const flow = onTab(
      [],
      [
        {
          id: "o1",
          type: "meross-onboard",
          name: "",
          address: sim.address,
          ssid: "HomeNet",
          bssid: "",
          channel: "",
          encryption: "",
          cipher: "",
          mqttHost: "127.0.0.1",
          mqttPort: "8883",
          userId: "7",
          wires: [["out"]],
          ...props,
        },
        { id: "out", type: "helper" },
        ...CATCH_NODES,
      ],
    );
    await helper.load(onboardNode, flow, { o1: { wifiPassword: WIFI_PASSWORD, key: NEW_KEY } });
    return { o1: helper.getNode("o1"), out: helper.getNode("out"), caught: helper.getNode("caught"), sim };
  }

  it("onboards an access-point-mode bulb, which then reboots onto Wi-Fi and only accepts the new key", async () => {
    const { o1, out, sim } = await load();
    const statuses: Array<{ fill?: string; text?: string }> = [];
    const orig = o1.status.bind(o1);
    o1.status = ((s: { text?: string }) => {
      statuses.push(s);
      orig(s as never);
    }) as typeof o1.status;
    const rebooted = new Promise((r) => sim.once("reboot", r));
    const got = nextMessage<Msg>(out);
    o1.receive({ payload: 1 });
    const msg = await got;
    const p = msg.payload as {
      steps: Array<{ name: string; ok: boolean; ms: number }>;
      device: { uuid: string; mac: string; model: string };
      mqtt: { username: string; password?: string };
    };
    assert.deepEqual(
      p.steps.map((s) => s.name),
      ["read device", "read abilities", "scan wifi", "set key", "set time", "set wifi"],
    );
    assert.ok(p.steps.every((s) => s.ok && typeof s.ms === "number"));
    assert.equal(p.device.uuid, sim.uuid);
    assert.equal(p.device.mac, sim.mac);
    assert.equal(p.device.model, sim.model.type);
    assert.equal(p.mqtt.password, undefined, "the broker password derived from the key is not in the output");
    assert.ok(!JSON.stringify(msg).includes(mqttPassword(sim.mac, NEW_KEY, "7")));
    const text = JSON.stringify(msg);
    assert.ok(!text.includes(NEW_KEY) && !text.includes(WIFI_PASSWORD), "no secret in the output");
    assert.ok(
      statuses.some((s) => s.fill === "blue" && s.text === "set key…"),
      "each step shows in the status",
    );
    assert.match(statuses[statuses.length - 1].text ?? "", /^onboarded .*rebooting/);
    assert.ok(statuses.every((s) => !JSON.stringify(s).includes(NEW_KEY) && !JSON.stringify(s).includes(WIFI_PASSWORD)));

    await rebooted;
    assert.equal(sim.mode, "normal");
    assert.equal(sim.wifi?.ssid, "HomeNet");
    const good = new MerossDevice({ address: sim.address, key: NEW_KEY });
    const info = await good.refresh();
    assert.equal(info.uuid, sim.uuid);
    await good.close();
    const old = new MerossDevice({ address: sim.address, key: "" });
    await assert.rejects(old.request("GET", "Appliance.System.All"), { code: "WRONG_KEY" });
    await old.close();
  });

  it('lists the networks the device sees for payload "scan"', async () => {
    const { o1, out } = await load();
    const got = nextMessage<Msg>(out);
    o1.receive({ payload: "scan" });
    const list = (await got).payload as Array<{
      ssid: string;
      bssid: string;
      channel: number;
      signal: number;
      encryption: number;
      cipher: number;
    }>;
    assert.ok(Array.isArray(list));
    const home = list.find((n) => n.ssid === "HomeNet");
    assert.ok(home, "HomeNet is listed");
    assert.equal(home.channel, 6);
    assert.equal(typeof home.signal, "number");
  });

  it("onboards onto a network object from a scan given as msg.payload", async () => {
    const { o1, out, sim } = await load({ ssid: "" });
    let got = nextMessage<Msg>(out);
    o1.receive({ payload: "scan" });
    const guest = ((await got).payload as Array<{ ssid: string }>).find((n) => n.ssid === "Guest");
    const rebooted = new Promise((r) => sim.once("reboot", r));
    got = nextMessage<Msg>(out);
    o1.receive({ payload: guest });
    const p = (await got).payload as { wifi: { ssid: string } };
    assert.equal(p.wifi.ssid, "Guest");
    await rebooted;
    assert.equal(sim.wifi?.ssid, "Guest");
  });

  it("refuses a Wi-Fi password in msg.payload without echoing it", async () => {
    const { o1, caught, sim } = await load();
    const got = nextMessage<Msg>(caught);
    o1.receive({ payload: { ssid: "HomeNet", password: "leaky-password-123" } });
    const err = (await got).error as { code: string; message: string };
    assert.equal(err.code, "BAD_INPUT");
    assert.match(err.message, /credential/);
    assert.ok(!JSON.stringify(err).includes("leaky-password-123"));
    assert.equal(sim.mode, "ap", "nothing was sent to the device");
  });

  it("reports the failed step when the device cannot see the network", async () => {
    const { o1, caught, sim } = await load({ ssid: "NoSuchNet" });
    const got = nextMessage<Msg>(caught);
    o1.receive({ payload: 1 });
    const msg = await got;
    const err = msg.error as { code: string; message: string };
    assert.equal(err.code, "BAD_INPUT");
    assert.match(err.message, /NoSuchNet/);
    const steps = (msg.meross as { steps: Array<{ name: string; ok: boolean }> }).steps;
    assert.deepEqual(
      steps.map((s) => [s.name, s.ok]),
      [
        ["read device", true],
        ["read abilities", true],
        ["scan wifi", false],
      ],
    );
    assert.equal(sim.mode, "ap");
  });

  it("serves the editor's Scan button through the admin API", async () => {
    await load();
    const res = await helper.request().post("/meross-onboard/scan").send({ address: sim!.address }).expect(200);
    const home = (res.body as Array<{ ssid: string; description: string }>).find((n) => n.ssid === "HomeNet");
    assert.ok(home);
    assert.match(home.description, /HomeNet/);
  });

  it("after an attempt with a wrong Wi-Fi password, the Scan button and a retry work: the node knows the key it set", async () => {
    const { o1, out } = await load();
    sim!.expectWifiPassword("HomeNet", "the router's real password");
    const back = new Promise<{ mode: string }>((r) => sim!.once("reboot", r));
    const first = nextMessage<Msg>(out);
    o1.receive({ payload: 1 });
    await first;
    assert.equal((await back).mode, "ap", "the join failed: back in access-point mode, holding the node's key");
    const scan = await helper.request().post("/meross-onboard/scan").send({ address: sim!.address, id: "o1" }).expect(200);
    assert.ok((scan.body as Array<{ ssid: string }>).some((n) => n.ssid === "HomeNet"));
    // Without the node, the key is nobody's the Scan knows: the sentence names the factory reset, not "another device".
    const stranger = await helper.request().post("/meross-onboard/scan").send({ address: sim!.address }).expect(502);
    assert.match(stranger.body.error.message, /already holds a key that was not set from here.*Factory-reset it/);
    assert.ok(!JSON.stringify(stranger.body).includes(NEW_KEY));
    sim!.expectWifiPassword("HomeNet", WIFI_PASSWORD);
    const joined = new Promise<{ mode: string }>((r) => sim!.once("reboot", r));
    const again = nextMessage<Msg>(out);
    o1.receive({ payload: 1 });
    await again;
    assert.equal((await joined).mode, "normal");
  });

  it("answers the Scan button with an error sentence when nothing listens", async () => {
    await load();
    const dead = await startDevice({ model: "msl120" });
    const address = dead.address;
    await dead.stop();
    const res = await helper.request().post("/meross-onboard/scan").send({ address }).expect(502);
    assert.equal(res.body.error.code, "UNREACHABLE");
    assert.match(res.body.error.message, /Could not connect/);
  });

  it("scans only a plain host[:port] on the local network: no URL, path, query, https or link-local address", async () => {
    await load();
    const before = sim!.requestCount;
    const a = sim!.address;
    for (const address of [`http://${a}/config`, `https://${a}`, `${a}/config`, `${a}?x=1`, `user:pw@${a}`]) {
      const res = await helper.request().post("/meross-onboard/scan").send({ address }).expect(400);
      assert.match(res.body.error.message, /not a device address/, address);
    }
    for (const address of ["169.254.169.254", "169.254.169.254:80", "8.8.8.8"]) {
      const res = await helper.request().post("/meross-onboard/scan").send({ address }).expect(400);
      assert.match(res.body.error.message, /not an address on your local network/, address);
    }
    assert.equal(sim!.requestCount, before, "nothing was sent");
  });
});
