import assert from "node:assert/strict";
import { run } from "../../src/cli/index";
import { SimulatedDevice, type DroppedEvent, type RequestEvent, type WifiConfigEvent } from "../../src/simulator/device";
import { memIo } from "./helpers";

interface Env {
  header: { method: string; namespace: string };
  payload: Record<string, unknown>;
}

const KEY = "cli-encrypted-key";

describe("meross commands against encrypted firmware, with no extra flag", () => {
  const started: SimulatedDevice[] = [];
  async function sim(opts: Parameters<typeof SimulatedDevice.start>[0]): Promise<SimulatedDevice> {
    const d = await SimulatedDevice.start({ host: "127.0.0.1", port: 0, ...opts });
    started.push(d);
    return d;
  }
  afterEach(async () => {
    await Promise.all(started.splice(0).map((d) => d.stop()));
  });

  it("request GET System.All: the plaintext attempt is dropped, the same command answers encrypted", async () => {
    const dev = await sim({ model: "mss110", key: KEY });
    const dropped: DroppedEvent[] = [];
    const requests: RequestEvent[] = [];
    dev.on("dropped", (e: DroppedEvent) => dropped.push(e));
    dev.on("request", (e: RequestEvent) => requests.push(e));
    const m = memIo();
    assert.equal(await run(["request", dev.address, "GET", "Appliance.System.All", "--key", KEY], m.io), 0, m.err());
    const reply = JSON.parse(m.out()) as Env;
    assert.equal(reply.header.method, "GETACK");
    assert.match(JSON.stringify(reply.payload), new RegExp(dev.uuid));
    assert.ok(dropped.length > 0, "the device refused the plaintext request");
    assert.ok(requests.some((r) => r.namespace === "Appliance.System.All" && r.encrypted === true));
  });

  it("request SET ToggleX switches an encrypted plug exactly as a plain one", async () => {
    const dev = await sim({ model: "mss110", key: KEY });
    const m = memIo({ MEROSS_KEY: KEY });
    assert.equal(
      await run(["request", dev.address, "SET", "Appliance.Control.ToggleX", '{"togglex":{"channel":0,"onoff":1}}'], m.io),
      0,
      m.err(),
    );
    assert.equal((JSON.parse(m.out()) as Env).header.method, "SETACK");
    assert.equal(dev.state.channels[0].on, true);
  });

  it("request on a fw 8-like plug (HTTP 500 with an empty body to plaintext, no ECDHE): the same command answers", async () => {
    const dev = await sim({ model: "mss110v8", key: KEY });
    const answers: Array<string | undefined> = [];
    dev.on("dropped", (e: DroppedEvent) => answers.push(e.answer));
    const m = memIo({ MEROSS_KEY: KEY });
    assert.equal(
      await run(["request", dev.address, "SET", "Appliance.Control.ToggleX", '{"togglex":{"channel":0,"onoff":1}}'], m.io),
      0,
      m.err(),
    );
    assert.equal((JSON.parse(m.out()) as Env).header.method, "SETACK");
    assert.equal(dev.state.channels[0].on, true);
    assert.deepEqual(answers, ["http500"]);
  });

  it("request with a wrong key exits 1 saying the key is wrong, without printing any key", async () => {
    const dev = await sim({ model: "hp110a", key: KEY });
    const m = memIo();
    assert.equal(await run(["request", dev.address, "GET", "Appliance.Control.Light", "--key", "guessed"], m.io), 1);
    assert.match(m.err(), /key is (probably )?wrong/);
    assert.doesNotMatch(m.out() + m.err(), new RegExp(`${KEY}|guessed`));
  });

  it("onboard an out-of-the-box mss110: key exchange, encrypted WifiX, then request works with the new key", async () => {
    const dev = await sim({ model: "mss110", unconfigured: true });
    const wifi = new Promise<WifiConfigEvent>((r) => dev.once("wifi", r));
    const rebooted = new Promise<void>((r) => dev.once("reboot", () => r()));
    const m = memIo();
    const code = await run(
      [
        "onboard",
        "--device",
        dev.address,
        "--host",
        "127.0.0.1",
        "--port",
        "8883",
        "--password",
        "pw-encrypted-1",
        "--key",
        KEY,
        "--ssid",
        "HomeNet",
      ],
      m.io,
    );
    assert.equal(code, 0, m.err());
    const log = JSON.parse(m.out()) as { steps: { name: string; ok: boolean; detail?: string }[]; encryption?: string };
    assert.equal(log.encryption, "ecdhe");
    const setup = log.steps.find((s) => s.name === "set up encryption");
    assert.ok(setup?.ok && /ECDHE/.test(setup.detail ?? ""), JSON.stringify(log.steps));
    const sent = await wifi;
    assert.equal(sent.namespace, "Appliance.Config.WifiX");
    assert.equal(sent.password, "pw-encrypted-1");
    assert.doesNotMatch(m.out() + m.err(), /pw-encrypted-1/);
    await rebooted;
    assert.equal(dev.mode, "normal");

    const after = memIo();
    assert.equal(await run(["request", dev.address, "GET", "Appliance.Control.ToggleX", "{}", "--key", KEY], after.io), 0, after.err());
    assert.equal((JSON.parse(after.out()) as Env).header.method, "GETACK");
  });
});
