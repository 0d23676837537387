import assert from "node:assert/strict";
import { verifySign, computeSign, type Envelope } from "../../src/core/protocol/message";
import { SimulatedDevice, type WifiConfigEvent, type RebootEvent, type DeviceSnapshot } from "../../src/simulator/device";
import { encryptWifiXPassword, decryptWifiXPassword } from "../../src/simulator/identity";
import { send, postRaw, msg, once } from "./helpers";

// Test-only: replies are walked deeply and their shape is what each assertion checks.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

describe("simulator: SimulatedDevice", () => {
  const devices: SimulatedDevice[] = [];
  async function start(opts: Parameters<typeof SimulatedDevice.start>[0]): Promise<SimulatedDevice> {
    const d = await SimulatedDevice.start(opts);
    devices.push(d);
    return d;
  }
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.stop()));
  });

  describe("identity", () => {
    it("has a 32-char uuid whose last 12 chars are its Meross MAC", async () => {
      const d = await start({ model: "mss310" });
      assert.equal(d.uuid.length, 32);
      assert.match(d.mac, /^48:e1:e9(:[0-9a-f]{2}){3}$/);
      assert.equal(d.uuid.slice(-12), d.mac.replace(/:/g, ""));
      assert.equal(d.url, `http://127.0.0.1:${d.port}/config`);
      assert.equal(d.address, `127.0.0.1:${d.port}`);
    });

    it("derives the same identity from the same seed, and the MAC from a given uuid", async () => {
      const a = await start({ seed: "kitchen" });
      const b = await start({ seed: "kitchen" });
      assert.equal(a.uuid, b.uuid);
      const c = await start({ uuid: "2308283569760958070148e1e9d7c243" });
      assert.equal(c.mac, "48:e1:e9:d7:c2:43");
    });

    it("refuses an unknown model with a sentence naming the valid ones", async () => {
      await assert.rejects(SimulatedDevice.start({ model: "msx999" }), (err: Error & { code?: string }) => {
        assert.equal(err.code, "BAD_INPUT");
        assert.match(err.message, /msl120/);
        return true;
      });
    });
  });

  describe("access-point mode", () => {
    it("accepts any signature and answers System.All signed with the empty key", async () => {
      const d = await start({ unconfigured: true });
      assert.equal(d.mode, "ap");
      const req = msg("Appliance.System.All", "GET", {}, "whatever");
      req.header.sign = "00000000000000000000000000000000";
      const res = await postRaw(d.port, JSON.stringify(req));
      const reply = JSON.parse(res.text) as Envelope;
      assert.equal(reply.header.method, "GETACK");
      assert.equal(reply.header.messageId, req.header.messageId);
      assert.equal(reply.header.from, `/appliance/${d.uuid}/publish`);
      assert.equal(reply.header.uuid, d.uuid);
      assert.equal(reply.header.payloadVersion, 1);
      assert.ok(verifySign(reply.header, ""));
      const all = reply.payload.all as Json;
      assert.equal(all.system.hardware.uuid, d.uuid);
      assert.equal(all.system.hardware.macAddress, d.mac);
      assert.equal(all.system.online.status, 0);
    });

    it("lists Wi-Fi networks with base64 SSIDs, strongest first", async () => {
      const d = await start({ unconfigured: true });
      const reply = await send(d, "Appliance.Config.WifiList", "GET", { wifiList: {} });
      const list = reply.payload.wifiList as Json[];
      assert.ok(list.length >= 3);
      const ssids = list.map((n) => Buffer.from(n.ssid, "base64").toString("utf8"));
      assert.ok(ssids.includes("HomeNet"));
      assert.ok(ssids.includes("Café Wi-Fi"));
      const signals = list.map((n) => n.signal as number);
      assert.deepEqual(
        signals,
        [...signals].sort((a, b) => b - a),
      );
      for (const n of list) assert.ok(n.channel >= 1 && n.channel <= 13, "2.4 GHz channels only");
    });

    it("completes onboarding by hand: Key, Time, Wifi, reboot, then enforces the new key", async () => {
      const d = await start({ model: "msl120", unconfigured: true });
      const key = "0123456789abcdef0123456789abcdef";
      const keyReq = msg(
        "Appliance.Config.Key",
        "SET",
        {
          key: { key, userId: "42", gateway: { host: "127.0.0.1", port: 8883, secondHost: "127.0.0.1", secondPort: 8883, redirect: 1 } },
        },
        "",
      );
      const keyReply = JSON.parse((await postRaw(d.port, JSON.stringify(keyReq))).text) as Envelope;
      assert.equal(keyReply.header.method, "SETACK");
      assert.ok(verifySign(keyReply.header, key), "Config.Key SETACK is signed with the new key (docs/protocol.md §1.2)");
      assert.ok(!verifySign(keyReply.header, ""));
      assert.deepEqual(d.gateway, { host: "127.0.0.1", port: 8883, secondHost: "127.0.0.1", secondPort: 8883 });
      assert.equal(d.userId, "42");
      assert.equal(d.mode, "ap", "Config.Key alone does not leave pairing mode");

      const t = 1_700_000_000;
      const timeReply = await send(
        d,
        "Appliance.System.Time",
        "SET",
        { time: { timestamp: t, timezone: "Europe/Paris", timeRule: [[t, 3600, 0]] } },
        "any",
      );
      assert.equal(timeReply.header.method, "SETACK");
      const timeGet = await send(d, "Appliance.System.Time", "GET", { time: {} });
      assert.equal((timeGet.payload.time as Json).timezone, "Europe/Paris");
      assert.ok((timeGet.payload.time as Json).timestamp >= t);

      const wifiSeen = once<WifiConfigEvent>(d, "wifi");
      const rebooted = once<RebootEvent>(d, "reboot");
      const wifiReply = await send(d, "Appliance.Config.Wifi", "SET", {
        wifi: {
          ssid: Buffer.from("HomeNet").toString("base64"),
          password: Buffer.from("correct horse").toString("base64"),
          bssid: "a4:2b:b0:5e:10:01",
          channel: 6,
          encryption: 6,
          cipher: 3,
        },
      });
      assert.equal(wifiReply.header.method, "SETACK");
      const wifi = await wifiSeen;
      assert.equal(wifi.ssid, "HomeNet");
      assert.equal(wifi.password, "correct horse");
      assert.equal(wifi.channel, 6);
      assert.deepEqual(await rebooted, { mode: "normal", reason: "wifi-joined" });
      assert.equal(d.mode, "normal");

      const wrong = await send(d, "Appliance.System.All", "GET", {}, "not-the-key");
      assert.equal(wrong.header.method, "ERROR");
      assert.deepEqual(wrong.payload, { error: { code: 5001, detail: "sign error" } });
      assert.ok(verifySign(wrong.header, key), "the 5001 reply is signed with the real key");
      assert.equal(wrong.header.from, `/appliance/${d.uuid}/publish`);

      const right = await send(d, "Appliance.System.All", "GET", {}, key);
      assert.equal(right.header.method, "GETACK");
      assert.ok(verifySign(right.header, key));
      const fw = (right.payload.all as Json).system.firmware;
      assert.equal(fw.server, "127.0.0.1");
      assert.equal(fw.port, 8883);
      assert.equal(fw.userId, 42);
      assert.equal(fw.wifiMac, "a4:2b:b0:5e:10:01");
    });

    it("falls back to access-point mode when the Wi-Fi password is wrong", async () => {
      const d = await start({ unconfigured: true });
      d.expectWifiPassword("HomeNet", "right password");
      const rebooted = once<RebootEvent>(d, "reboot");
      await send(d, "Appliance.Config.Wifi", "SET", {
        wifi: { ssid: Buffer.from("HomeNet").toString("base64"), password: Buffer.from("wrong password").toString("base64") },
      });
      assert.deepEqual(await rebooted, { mode: "ap", reason: "wifi-failed" });
      assert.equal(d.mode, "ap");
      const trace = await send(d, "Appliance.Config.Trace", "GET", { trace: {} }, "anything");
      assert.equal((trace.payload.trace as Json).ssid, "HomeNet");
      assert.notEqual((trace.payload.trace as Json).code, 0);
    });

    it("decrypts a WifiX password (docs/protocol.md §3.5 vector) and accepts WifiX only where the ability lists it", async () => {
      assert.equal(
        decryptWifiXPassword(
          "c/sY5LHH92vRBVU1CzWBfqunORBqdjiLQvGg1CCxnSs=",
          "mss710",
          "2308283569760958070148e1e9d7c243",
          "48:e1:e9:d7:c2:43",
        ),
        "you found a secret",
      );
      const plug = await start({ model: "mss305", unconfigured: true });
      const seen = once<WifiConfigEvent>(plug, "wifi");
      const rebooted = once<RebootEvent>(plug, "reboot");
      const password = encryptWifiXPassword("s3cret wifi pass", plug.model.type, plug.uuid, plug.mac);
      const reply = await send(plug, "Appliance.Config.WifiX", "SET", {
        wifi: { ssid: Buffer.from("Guest").toString("base64"), password },
      });
      assert.equal(reply.header.method, "SETACK");
      const ev = await seen;
      assert.equal(ev.namespace, "Appliance.Config.WifiX");
      assert.equal(ev.password, "s3cret wifi pass");
      assert.equal((await rebooted).mode, "normal");

      const bulb = await start({ model: "msl120", unconfigured: true });
      const refused = await send(bulb, "Appliance.Config.WifiX", "SET", { wifi: { ssid: "", password: "" } });
      assert.equal(refused.header.method, "ERROR");
      assert.deepEqual(refused.payload, { error: { code: 5000 } });
    });
  });

  describe("normal mode", () => {
    it("switches a plug with ToggleX and reflects it in GET, the digest and a change event", async () => {
      const d = await start({ model: "mss310", key: "k" });
      const changes: DeviceSnapshot[] = [];
      d.on("change", (s: DeviceSnapshot) => changes.push(s));
      const set = await send(d, "Appliance.Control.ToggleX", "SET", { togglex: { channel: 0, onoff: 1 } });
      assert.equal(set.header.method, "SETACK");
      assert.deepEqual(set.payload, {});
      const get = await send(d, "Appliance.Control.ToggleX", "GET", { togglex: [] });
      assert.equal(get.payload.channel, 0);
      assert.equal((get.payload.togglex as Json).onoff, 1);
      const all = await send(d, "Appliance.System.All", "GET", {});
      assert.equal((all.payload.all as Json).digest.togglex[0].onoff, 1);
      assert.equal(changes.length, 1);
      assert.equal(changes[0].channels[0].on, true);
      assert.equal(d.state.channels[0].on, true);

      await send(d, "Appliance.Control.ToggleX", "SET", { togglex: [{ channel: 0, onoff: 0 }] });
      assert.equal(d.state.channels[0].on, false, "the array form of SET works too");
    });

    it("answers the list form with outer channel 4294967295 on the mss305", async () => {
      const d = await start({ model: "mss305" });
      d.press();
      const get = await send(d, "Appliance.Control.ToggleX", "GET", { togglex: [] });
      assert.equal(get.payload.channel, 4294967295);
      assert.deepEqual(
        (get.payload.togglex as Json[]).map((t) => [t.channel, t.onoff]),
        [[0, 1]],
      );
    });

    it("switches one outlet of a 4-channel strip", async () => {
      const d = await start({ model: "mss425" });
      await send(d, "Appliance.Control.ToggleX", "SET", { togglex: { channel: 2, onoff: 1 } });
      assert.deepEqual(
        d.state.channels.map((c) => c.on),
        [false, false, true, false],
      );
      const all = await send(d, "Appliance.System.All", "GET", {});
      assert.deepEqual(
        (all.payload.all as Json).digest.togglex.map((t: Json) => t.onoff),
        [0, 0, 1, 0],
      );
    });

    it("speaks legacy Control.Toggle on the mss210, with control.toggle in System.All and no digest", async () => {
      const d = await start({ model: "mss210" });
      const toggleX = await send(d, "Appliance.Control.ToggleX", "SET", { togglex: { channel: 0, onoff: 1 } });
      assert.deepEqual(toggleX.payload, { error: { code: 5000 } });
      assert.equal(d.state.channels[0].on, false);
      const set = await send(d, "Appliance.Control.Toggle", "SET", { channel: 0, toggle: { onoff: 1 } });
      assert.equal(set.header.method, "SETACK");
      const get = await send(d, "Appliance.Control.Toggle", "GET", { toggle: {} });
      assert.equal((get.payload.toggle as Json).onoff, 1);
      const all = (await send(d, "Appliance.System.All", "GET", {})).payload.all as Json;
      assert.equal(all.control.toggle.onoff, 1);
      assert.equal(all.digest, undefined);
    });

    it("applies only the Light fields named by the SET capacity bits", async () => {
      const d = await start({ model: "msl120" });
      const before = d.state.light!;
      await send(d, "Appliance.Control.Light", "SET", { light: { channel: 0, capacity: 4, rgb: 0x00ff00, luminance: 30 } });
      assert.equal(d.state.light!.luminance, 30);
      assert.equal(d.state.light!.rgb, before.rgb, "rgb ignored: capacity 4 selects luminance only");

      await send(d, "Appliance.Control.Light", "SET", { light: { channel: 0, capacity: 5, rgb: 0xff0000, luminance: 70 } });
      const light = (await send(d, "Appliance.Control.Light", "GET", { light: {} })).payload.light as Json;
      assert.equal(light.rgb, 0xff0000);
      assert.equal(light.luminance, 70);
      assert.equal(light.capacity, 5, "GET capacity reports colour mode");
      assert.equal(d.snapshot().light!.rgb, "#ff0000");

      await send(d, "Appliance.Control.Light", "SET", { light: { channel: 0, capacity: 6, temperature: 100, luminance: 50 } });
      assert.equal(d.state.light!.capacity, 6);
      assert.equal(d.snapshot().light!.temperature, 6500);
    });

    it("turns an off bulb on with any Light SET, like msl120 firmware", async () => {
      const d = await start({ model: "msl120" });
      assert.equal(d.state.channels[0].on, false);
      await send(d, "Appliance.Control.Light", "SET", { light: { channel: 0, capacity: 4, luminance: 10 } });
      assert.equal(d.state.channels[0].on, true);
      const digest = ((await send(d, "Appliance.System.All", "GET", {})).payload.all as Json).digest;
      assert.equal(digest.togglex[0].onoff, 1);
      assert.equal(digest.light.luminance, 10);
    });

    it("ignores RGB on the white-only msl100", async () => {
      const d = await start({ model: "msl100" });
      const before = d.state.light!.rgb;
      await send(d, "Appliance.Control.Light", "SET", { light: { channel: 0, capacity: 5, rgb: 0x0000ff, luminance: 40 } });
      assert.equal(d.state.light!.rgb, before);
      assert.equal(d.state.light!.luminance, 40);
      assert.equal(d.state.light!.capacity, 6);
    });

    it("answers ERROR 5000 for namespaces the model does not have", async () => {
      const d = await start({ model: "msl120" });
      for (const ns of ["Appliance.Control.Electricity", "Appliance.Hub.SubDevice.Beep", "Appliance.Control.Toggle"]) {
        const r = await send(d, ns, "GET", {});
        assert.equal(r.header.method, "ERROR", ns);
        assert.deepEqual(r.payload, { error: { code: 5000 } });
      }
    });

    it("meters power that follows the relay and keeps ~30 unsorted daily consumption entries", async () => {
      const d = await start({ model: "mss310" });
      const off = (await send(d, "Appliance.Control.Electricity", "GET", { electricity: {} })).payload.electricity as Json;
      assert.equal(off.power, 0);
      assert.ok(off.voltage > 2000 && off.voltage < 2600, "decivolts around 230 V");
      d.press();
      const on = (await send(d, "Appliance.Control.Electricity", "GET", { electricity: {} })).payload.electricity as Json;
      assert.ok(on.power > 10_000, "mW of a lamp-sized load");
      assert.ok(on.current > 0);
      assert.deepEqual(on.config, { voltageRatio: 188, electricityRatio: 100 });
      const cx = (await send(d, "Appliance.Control.ConsumptionX", "GET", { consumptionx: [] })).payload.consumptionx as Json[];
      assert.ok(cx.length >= 28 && cx.length <= 31);
      const dates = cx.map((e) => e.date as string);
      assert.notDeepEqual(dates, [...dates].sort(), "unsorted like the real firmware");
      const cfg = await send(d, "Appliance.Control.ConsumptionConfig", "GET", {});
      assert.deepEqual(cfg.payload, { config: { voltageRatio: 188, electricityRatio: 100 } });
    });

    it("answers Control.Multiple with one signed reply per inner request", async () => {
      const d = await start({ model: "msl120", key: "mk" });
      const inner = [
        {
          header: { messageId: "a".repeat(32), method: "SET", namespace: "Appliance.Control.ToggleX" },
          payload: { togglex: { channel: 0, onoff: 1 } },
        },
        { header: { messageId: "b".repeat(32), method: "GET", namespace: "Appliance.Control.Light" }, payload: { light: {} } },
        { header: { messageId: "c".repeat(32), method: "GET", namespace: "Appliance.Control.Electricity" }, payload: {} },
      ];
      const r = await send(d, "Appliance.Control.Multiple", "SET", { multiple: inner });
      assert.equal(r.header.method, "SETACK");
      const replies = r.payload.multiple as Envelope[];
      assert.deepEqual(
        replies.map((x) => x.header.method),
        ["SETACK", "GETACK", "ERROR"],
      );
      for (const x of replies) assert.equal(x.header.sign, computeSign(x.header.messageId, "mk", x.header.timestamp));
      assert.equal(d.state.channels[0].on, true);
    });

    it("re-binds with Config.Key in normal mode", async () => {
      const d = await start({ model: "mss310", key: "old" });
      const r = await send(
        d,
        "Appliance.Config.Key",
        "SET",
        { key: { key: "new", userId: 7, gateway: { host: "h", port: "8883" } } },
        "old",
      );
      assert.ok(verifySign(r.header, "new"));
      assert.equal((await send(d, "Appliance.System.Ability", "GET", {}, "old")).header.method, "ERROR");
      const ability = await send(d, "Appliance.System.Ability", "GET", {}, "new");
      assert.ok("Appliance.Control.Electricity" in (ability.payload.ability as Json));
      assert.equal(d.gateway?.port, 8883);
    });

    it("reports DND mode, runtime, hardware and firmware", async () => {
      const d = await start({ model: "mss310" });
      await send(d, "Appliance.System.DNDMode", "SET", { DNDMode: { mode: 1 } });
      assert.deepEqual((await send(d, "Appliance.System.DNDMode", "GET", { DNDMode: {} })).payload, { DNDMode: { mode: 1 } });
      const runtime = (await send(d, "Appliance.System.Runtime", "GET", { runtime: {} })).payload.runtime as Json;
      assert.ok(runtime.signal > 0);
      const hw = (await send(d, "Appliance.System.Hardware", "GET", {})).payload.hardware as Json;
      assert.equal(hw.type, "mss310r");
      const fw = (await send(d, "Appliance.System.Firmware", "GET", {})).payload.firmware as Json;
      assert.equal(fw.version, "2.1.4");
    });

    it("lets the physical button and setLight drive state, with validation", async () => {
      const d = await start({ model: "msl120" });
      const change = once<DeviceSnapshot>(d, "change");
      d.press();
      assert.equal((await change).light!.on, true);
      d.setLight({ rgb: "#00ff00", luminance: 20 });
      assert.deepEqual(
        { rgb: d.snapshot().light!.rgb, mode: d.snapshot().light!.mode, brightness: d.snapshot().light!.brightness },
        { rgb: "#00ff00", mode: "colour", brightness: 20 },
      );
      assert.throws(() => d.setLight({ luminance: 0 }), /1\.\.100/);
      assert.throws(() => d.press(3), /Channel 3/);
      const plug = await start({ model: "mss310" });
      assert.throws(() => plug.setLight({ luminance: 50 }), /not a light/);
    });

    it("counts requests and emits request events", async () => {
      const d = await start({ model: "mss310" });
      const seen: string[] = [];
      d.on("request", (r: { namespace: string }) => seen.push(r.namespace));
      await send(d, "Appliance.System.All", "GET", {});
      await send(d, "Appliance.System.Ability", "GET", {});
      assert.equal(d.requestCount, 2);
      assert.deepEqual(seen, ["Appliance.System.All", "Appliance.System.Ability"]);
    });

    it("factory-resets on an Unbind PUSH: the connection drops and the device is back in AP mode", async () => {
      const d = await start({ model: "mss310", key: "k" });
      const rebooted = once<RebootEvent>(d, "reboot");
      await assert.rejects(send(d, "Appliance.Control.Unbind", "PUSH", {}));
      assert.deepEqual(await rebooted, { mode: "ap", reason: "unbind" });
      assert.equal(d.key, "");
      assert.equal(d.mode, "ap");
    });
  });
});
