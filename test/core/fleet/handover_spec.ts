import assert from "node:assert/strict";
import sinon from "sinon";
import { generateCertificates, type Certificates } from "../../../src/core/broker/certs";
import { EmbeddedFleet, type EmbeddedSettings } from "../../../src/core/fleet";
import { FleetHandover, describeChanges, changedSettings, type Parkable } from "../../../src/core/fleet/handover";
import { DEVICE_A, FakeDevice } from "../broker/fake_device";

/** A fleet that records why it was stopped. */
class Recorder implements Parkable {
  reasons: string[] = [];
  private resolveClosed!: (reason: string) => void;
  readonly closed = new Promise<string>((r) => (this.resolveClosed = r));
  close(reason = ""): Promise<void> {
    this.reasons.push(reason);
    this.resolveClosed(reason);
    return Promise.resolve();
  }
}

const SETTINGS = { mode: "embedded", port: "8883", "bind host": "0.0.0.0", password: "broker-pass-1234" };

describe("FleetHandover (a running fleet kept across a full deploy)", function () {
  this.timeout(20_000);
  let clock: sinon.SinonFakeTimers | undefined;
  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  it("gives the parked fleet to the node with the same id and settings, without stopping it", () => {
    const h = new FleetHandover<Recorder>();
    const fleet = new Recorder();
    h.park("b1", h.fingerprint(SETTINGS), fleet);
    const taken = h.adopt("b1", h.fingerprint({ ...SETTINGS }));
    assert.equal(taken.fleet, fleet);
    assert.deepEqual(taken.changed, []);
    assert.deepEqual(fleet.reasons, []);
    assert.equal(h.size, 0);
    assert.equal(h.adopt("b1", h.fingerprint(SETTINGS)).fleet, undefined, "a fleet is adopted once");
  });

  it("stops the parked fleet when a setting changed, and names the setting", async () => {
    const h = new FleetHandover<Recorder>();
    const fleet = new Recorder();
    h.park("b1", h.fingerprint(SETTINGS), fleet);
    const taken = h.adopt("b1", h.fingerprint({ ...SETTINGS, port: "8884" }));
    assert.equal(taken.fleet, undefined);
    assert.deepEqual(taken.changed, ["port"]);
    await taken.released;
    assert.deepEqual(fleet.reasons, ["restarted: port changed"]);
  });

  it("restarts on a changed or removed password without ever holding it in clear", async () => {
    const h = new FleetHandover<Recorder>();
    const print = h.fingerprint(SETTINGS);
    assert.ok(![...print.values()].some((v) => v.includes(SETTINGS.password) || v.includes("8883")), "only hashes are kept");
    assert.ok(!JSON.stringify([...print]).includes(SETTINGS.password));
    const fleet = new Recorder();
    h.park("b1", print, fleet);
    const taken = h.adopt("b1", h.fingerprint({ ...SETTINGS, password: "broker-pass-1235" }));
    assert.deepEqual(taken.changed, ["password"]);
    await taken.released;
    assert.deepEqual(fleet.reasons, ["restarted: password changed"]);
    const other = new Recorder();
    h.park("b1", print, other);
    const { password: _dropped, ...withoutPassword } = SETTINGS;
    assert.deepEqual(h.adopt("b1", h.fingerprint(withoutPassword)).changed, ["password"]);
  });

  it("keeps two runtimes apart: another handover neither adopts nor can compare the fingerprint", () => {
    const a = new FleetHandover<Recorder>();
    const b = new FleetHandover<Recorder>();
    a.park("b1", a.fingerprint(SETTINGS), new Recorder());
    assert.equal(b.adopt("b1", b.fingerprint(SETTINGS)).fleet, undefined);
    assert.notDeepEqual([...a.fingerprint(SETTINGS).values()], [...b.fingerprint(SETTINGS).values()], "each instance salts its hashes");
    assert.equal(a.size, 1);
  });

  it("stops a fleet nobody adopts once the grace period is over, and not before", async () => {
    clock = sinon.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const h = new FleetHandover<Recorder>({ graceMs: 5000, expiredReason: "nobody took it" });
    const fleet = new Recorder();
    h.park("b1", h.fingerprint(SETTINGS), fleet);
    clock.tick(4999);
    assert.deepEqual(fleet.reasons, []);
    clock.tick(1);
    assert.equal(await fleet.closed, "nobody took it");
    assert.equal(h.size, 0);
  });

  it("does not stop an adopted fleet when the grace period of its parking ends", () => {
    clock = sinon.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const h = new FleetHandover<Recorder>({ graceMs: 5000 });
    const fleet = new Recorder();
    for (let i = 0; i < 20; i++) {
      h.park("b1", h.fingerprint(SETTINGS), fleet);
      clock.tick(1000);
      assert.equal(h.adopt("b1", h.fingerprint(SETTINGS)).fleet, fleet);
    }
    clock.tick(60_000);
    assert.deepEqual(fleet.reasons, []);
  });

  it("expire() stops every parked fleet at once (the new flows started, or Node-RED is stopping)", async () => {
    const h = new FleetHandover<Recorder>();
    const f1 = new Recorder();
    const f2 = new Recorder();
    h.park("b1", h.fingerprint(SETTINGS), f1);
    h.park("b2", h.fingerprint(SETTINGS), f2);
    await h.expire("Node-RED stopped");
    assert.deepEqual([f1.reasons, f2.reasons], [["Node-RED stopped"], ["Node-RED stopped"]]);
    assert.equal(h.size, 0);
  });

  it("stops a fleet that another one replaces under the same id", () => {
    const h = new FleetHandover<Recorder>();
    const f1 = new Recorder();
    const f2 = new Recorder();
    h.park("b1", h.fingerprint(SETTINGS), f1);
    h.park("b1", h.fingerprint(SETTINGS), f2);
    assert.equal(f1.reasons.length, 1);
    assert.equal(h.adopt("b1", h.fingerprint(SETTINGS)).fleet, f2);
  });

  it("a fleet whose close fails still counts as released", async () => {
    const h = new FleetHandover<Parkable>();
    h.park("b1", h.fingerprint(SETTINGS), { close: () => Promise.reject(new Error("socket gone")) });
    await h.adopt("b1", h.fingerprint({ ...SETTINGS, mode: "existing" })).released;
  });

  it("says which settings changed as a person would read it", () => {
    assert.equal(describeChanges(["port"]), "port changed");
    assert.equal(describeChanges(["bind host", "port"]), "bind host and port changed");
    assert.equal(describeChanges(["mode", "port", "URL"]), "mode, port and URL changed");
    const h = new FleetHandover<Recorder>();
    assert.deepEqual(changedSettings(h.fingerprint({ a: 1, b: 2 }), h.fingerprint({ b: 3, c: 4 })), ["a", "b", "c"]);
    assert.deepEqual(changedSettings(h.fingerprint({ a: 1, b: undefined }), h.fingerprint({ a: 1 })), [], "undefined is absent");
  });

  describe("with an embedded broker", () => {
    let certs: Certificates;
    const fleets: EmbeddedFleet[] = [];
    const devices: FakeDevice[] = [];
    before(() => {
      certs = generateCertificates({ host: "127.0.0.1" });
    });
    afterEach(async () => {
      await Promise.all(devices.splice(0).map((d) => d.close()));
      await Promise.all(fleets.splice(0).map((f) => f.close()));
    });
    const embedded = (settings: EmbeddedSettings, after?: Promise<void>): EmbeddedFleet => {
      const f = new EmbeddedFleet({ settings: () => settings, certs: () => certs, after });
      fleets.push(f);
      return f;
    };

    it("keeps a logged-in device connected across 20 hand-overs: no 'gone', no closed connection", async () => {
      const h = new FleetHandover<EmbeddedFleet>();
      const settings: EmbeddedSettings = { port: 0, host: "127.0.0.1", certHost: "127.0.0.1", allowAnonymous: false };
      const fleet = embedded(settings);
      const off = fleet.useKeys("c1", () => [DEVICE_A.key]);
      const device = await FakeDevice.connect({ port: (await fleet.endpoint()).port, ...DEVICE_A });
      devices.push(device);
      let closes = 0;
      device.client.on("close", () => void closes++);
      let gone = 0;
      fleet.events.on("gone", () => void gone++);
      let current = fleet;
      for (let i = 0; i < 20; i++) {
        h.park("b1", h.fingerprint({ ...settings }), current);
        const taken = h.adopt("b1", h.fingerprint({ ...settings }));
        assert.ok(taken.fleet, `hand-over ${i} adopted the fleet`);
        current = taken.fleet;
      }
      assert.equal(current, fleet);
      assert.equal(gone, 0);
      assert.ok(fleet.device(DEVICE_A.uuid), "the broker still lists the device");
      assert.equal(closes, 0, "the device's connection never closed");
      assert.equal(device.client.connected, true);
      assert.equal(fleet.isClosed, false);
      off();
    });

    it("a changed setting frees the port before the new broker listens on it", async () => {
      const h = new FleetHandover<EmbeddedFleet>();
      const first = embedded({ port: 0, host: "127.0.0.1", certHost: "127.0.0.1", allowAnonymous: false });
      const port = (await first.endpoint()).port;
      const settings: EmbeddedSettings = { port, host: "127.0.0.1", certHost: "127.0.0.1", allowAnonymous: false };
      h.park("b1", h.fingerprint({ ...settings }), first);
      const taken = h.adopt("b1", h.fingerprint({ ...settings, allowAnonymous: true }));
      assert.deepEqual(taken.changed, ["allowAnonymous"]);
      const second = embedded({ ...settings, allowAnonymous: true }, taken.released);
      assert.equal((await second.endpoint()).port, port, "the new broker listens on the same port");
      assert.equal(first.isClosed, true);
    });
  });
});
