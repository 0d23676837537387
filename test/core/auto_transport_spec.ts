import assert from "node:assert/strict";
import { MerossError } from "../../src/core/errors";
import { AutoTransport } from "../../src/core/transport/auto";
import { buildMessage } from "../../src/core/protocol/message";
import { FakeTransport } from "./helpers/fakes";

describe("AutoTransport (contract and ownership)", () => {
  it("forwards the MQTT side's pushes and connection changes, and reports a switch of path", async () => {
    const mqtt = new FakeTransport(() => {
      throw new MerossError("TIMEOUT", "The device did not answer over MQTT in time. Check that it is online.");
    }, "u1");
    const http = new FakeTransport(() => ({ ok: 1 }));
    http.kind = "http";
    const auto = new AutoTransport({ http, mqtt, mqttAvailable: () => true });
    const pushes: string[] = [];
    const links: boolean[] = [];
    const switches: string[] = [];
    auto.events.on("push", (e) => pushes.push(e.header.namespace));
    auto.events.on("connection", (c) => links.push(c.connected));
    auto.switches.on("switch", (k) => switches.push(k));
    mqtt.push("Appliance.Control.ToggleX", { togglex: [] });
    mqtt.events.emit("connection", { connected: false });
    assert.deepEqual(pushes, ["Appliance.Control.ToggleX"]);
    assert.deepEqual(links, [false]);
    assert.equal(auto.uuid, "u1");

    const reply = await auto.send(buildMessage({ method: "GET", namespace: "Appliance.System.All", key: "" }));
    assert.deepEqual(reply.payload, { ok: 1 });
    assert.deepEqual(switches, ["http"]);
    await auto.close();
  });

  it("leaves both transports it was given open when it closes: their creator closes them", async () => {
    const mqtt = new FakeTransport(() => ({}));
    const http = new FakeTransport(() => ({}));
    const auto = new AutoTransport({ http, mqtt, mqttAvailable: () => true });
    await auto.close();
    assert.equal(mqtt.closed, 0);
    assert.equal(http.closed, 0);
    assert.equal(mqtt.events.listenerCount(), 0);
  });
});
