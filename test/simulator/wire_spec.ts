import assert from "node:assert/strict";
import { connect } from "node:net";
import { parseEnvelopeText, type Envelope } from "../../src/core/protocol/message";
import { SimulatedDevice, type RequestEvent } from "../../src/simulator/device";
import { send, postRaw, msg, rawExchange, httpRequestText } from "./helpers";

describe("simulator: HTTP wire behaviour", () => {
  const devices: SimulatedDevice[] = [];
  async function start(opts: Parameters<typeof SimulatedDevice.start>[0]): Promise<SimulatedDevice> {
    const d = await SimulatedDevice.start(opts);
    devices.push(d);
    return d;
  }
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.stop()));
  });

  const body = (d: SimulatedDevice): string => JSON.stringify(msg("Appliance.System.All", "GET", {}, d.key));

  it("ends header lines with a bare LF, like most firmware, and closes after the reply", async () => {
    const d = await start({});
    const raw = (await rawExchange(d.port, httpRequestText(body(d)))).toString("latin1");
    assert.ok(raw.startsWith("HTTP/1.1 200 OK\nServer: HTTPD\n"), raw.slice(0, 60));
    const head = raw.slice(0, raw.indexOf("\n\n"));
    assert.ok(!head.includes("\r"), "no CR anywhere in the header block");
    assert.match(head, /\nContent-Type: application\/json;charset=UTF-8\n/);
    assert.match(head, /\nConnection: close(\n|$)/);
    const len = Number(/Content-Length: (\d+)/.exec(head)![1]);
    const payload = raw.slice(raw.indexOf("\n\n") + 2);
    assert.equal(Buffer.byteLength(payload), len);
    assert.equal((JSON.parse(payload) as Envelope).header.method, "GETACK");
  });

  it("sends CRLF when the lfOnly quirk is off", async () => {
    const d = await start({ quirks: { lfOnly: false } });
    const raw = (await rawExchange(d.port, httpRequestText(body(d)))).toString("latin1");
    assert.ok(raw.startsWith("HTTP/1.1 200 OK\r\nServer: HTTPD\r\n"));
  });

  it("serves several requests on one connection when closeAfterReply is off", async () => {
    const d = await start({ quirks: { closeAfterReply: false, lfOnly: false } });
    const replies = await new Promise<string>((resolve, reject) => {
      let text = "";
      const s = connect(d.port, "127.0.0.1", () => s.write(httpRequestText(body(d)) + httpRequestText(body(d))));
      s.on("data", (c: Buffer) => {
        text += c.toString("latin1");
        if ((text.match(/HTTP\/1\.1 200 OK/g) ?? []).length === 2 && text.endsWith("}}")) {
          s.destroy();
          resolve(text);
        }
      });
      s.on("error", reject);
    });
    assert.equal((replies.match(/Connection: keep-alive/g) ?? []).length, 2);
    assert.equal(d.requestCount, 2);
  });

  it("answers 404 for other paths", async () => {
    const d = await start({});
    const res = await postRaw(d.port, body(d), "/other");
    assert.equal(res.status, 404);
    assert.equal(d.requestCount, 0);
  });

  it("handles one request at a time: the second starts only after the first reply", async () => {
    const d = await start({ quirks: { processingMs: 60 } });
    const order: string[] = [];
    d.on("request", (r: RequestEvent) => order.push(`start ${r.namespace}`));
    d.on("reply", (r: RequestEvent) => order.push(`reply ${r.namespace}`));
    await Promise.all([send(d, "Appliance.System.All", "GET"), send(d, "Appliance.System.Ability", "GET")]);
    assert.equal(order.length, 4);
    assert.ok(order[0].startsWith("start"));
    assert.equal(order[1], order[0].replace("start", "reply"), `got ${order.join(", ")}`);
    assert.ok(order[2].startsWith("start"));
    assert.equal(order[3], order[2].replace("start", "reply"));
  });

  it("interleaves requests when the oneAtATime quirk is off", async () => {
    // The second request is sent once the first is being processed; with the queue off it
    // starts while the first is still busy (1 s of simulated firmware time).
    const d = await start({ quirks: { processingMs: 1000, oneAtATime: false } });
    const order: string[] = [];
    d.on("reply", (r: RequestEvent) => order.push(`reply ${r.namespace}`));
    let second: Promise<unknown> | undefined;
    d.on("request", (r: RequestEvent) => {
      order.push(`start ${r.namespace}`);
      if (!second) second = send(d, "Appliance.System.Ability", "GET");
    });
    await send(d, "Appliance.System.All", "GET");
    await second;
    assert.deepEqual(order.slice(0, 2), ["start Appliance.System.All", "start Appliance.System.Ability"]);
  });

  describe("faults", () => {
    it("delay: the reply still comes, no earlier than the delay, and only for `count` requests", async () => {
      const d = await start({});
      d.setFault({ kind: "delay", ms: 150 }, { count: 1 });
      const t0 = Date.now();
      const r = await send(d, "Appliance.System.All", "GET");
      assert.ok(Date.now() - t0 >= 140, "the delay is a lower bound");
      assert.equal(r.header.method, "GETACK");
    });

    it("drop: the connection closes without a reply and the command is not applied", async () => {
      const d = await start({ model: "mss310" });
      d.setFault({ kind: "drop" }, { count: 1 });
      await assert.rejects(send(d, "Appliance.Control.ToggleX", "SET", { togglex: { channel: 0, onoff: 1 } }));
      assert.equal(d.state.channels[0].on, false);
      await send(d, "Appliance.Control.ToggleX", "SET", { togglex: { channel: 0, onoff: 1 } });
      assert.equal(d.state.channels[0].on, true, "the fault applied to one request only");
    });

    it("truncate: the reply body is cut short, which a client must treat as a bad reply", async () => {
      const d = await start({});
      d.setFault({ kind: "truncate" });
      for (let i = 0; i < 2; i++) {
        const res = await postRaw(d.port, body(d));
        assert.equal(res.status, 200);
        assert.throws(() => parseEnvelopeText(res.text, d.address), { code: "BAD_RESPONSE" });
      }
      d.setFault(null);
      assert.equal((await send(d, "Appliance.System.All", "GET")).header.method, "GETACK");
    });

    it("invalid-json: the body is not JSON", async () => {
      const d = await start({});
      d.setFault({ kind: "invalid-json" }, { count: 1 });
      const res = await postRaw(d.port, body(d));
      assert.throws(() => JSON.parse(res.text));
      assert.equal((await send(d, "Appliance.System.All", "GET")).header.method, "GETACK");
    });

    it("http500: the device answers HTTP 500", async () => {
      const d = await start({});
      d.setFault({ kind: "http500" }, { count: 1 });
      assert.equal((await postRaw(d.port, body(d))).status, 500);
      assert.equal((await postRaw(d.port, body(d))).status, 200);
    });
  });

  describe("hostile input", () => {
    it("survives garbage, partial requests and disconnects, and keeps answering", async () => {
      const d = await start({});
      const junk: Array<string | Buffer> = [
        Buffer.from([0, 255, 13, 10, 13, 10, 1, 2, 3]),
        "GARBAGE\r\n\r\n",
        "POST /config HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        httpRequestText("{not json"),
        httpRequestText('{"header": 5}'),
        httpRequestText('{"header":{"namespace":"Appliance.System.All","method":"GET"}}'),
        "POST /config HTTP/1.1\r\nContent-Length: 9999999999\r\n\r\n",
        "POST /config HTTP/1.1\r\nX: " + "a".repeat(40_000),
      ];
      for (const j of junk) {
        const out = await rawExchange(d.port, j, { halfClose: true });
        assert.ok(out.length === 0 || /^HTTP\/1\.1 \d{3} /.test(out.toString("latin1")));
      }
      // A client that sends half a body and vanishes.
      await new Promise<void>((resolve) => {
        const s = connect(d.port, "127.0.0.1", () => {
          s.write('POST /config HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"hea');
          s.destroy();
          resolve();
        });
      });
      // A header-only envelope has no sign: configured devices say 5001, they do not crash.
      const noSign = await postRaw(d.port, '{"header":{"namespace":"Appliance.System.All","method":"GET","messageId":"x"}}');
      assert.equal((JSON.parse(noSign.text) as Envelope).payload.error !== undefined, true);
      assert.equal((await send(d, "Appliance.System.All", "GET")).header.method, "GETACK");
    });

    it("accepts a chunked request body", async () => {
      const d = await start({});
      const b = body(d);
      const chunked = `POST /config HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${Buffer.byteLength(b).toString(16)}\r\n${b}\r\n0\r\n\r\n`;
      const raw = (await rawExchange(d.port, chunked)).toString("utf8");
      assert.match(raw, /"method":"GETACK"/);
    });
  });
});
