import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { MerossDevice } from "../../src/core/session/device";
import { onboard } from "../../src/core/onboarding";
import { HttpTransport, isEmptyServerError } from "../../src/core/transport/http";
import { buildMessage, type Envelope } from "../../src/core/protocol/message";
import { SimulatedDevice, type DroppedEvent, type EcdheEvent, type RequestEvent } from "../../src/simulator/device";
import { rejectsWith } from "../helpers/errors";

const KEY = "refusal-spec-key";

describe("firmware that refuses plaintext in different ways (docs/protocol.md §4.2)", function () {
  this.timeout(20_000);
  const sims: SimulatedDevice[] = [];
  const devices: MerossDevice[] = [];
  const start = async (
    opts: Parameters<typeof SimulatedDevice.start>[0],
    deviceOpts: Partial<ConstructorParameters<typeof MerossDevice>[0]> = {},
  ) => {
    const sim = await SimulatedDevice.start({ key: KEY, port: 0, ...opts });
    sims.push(sim);
    const device = new MerossDevice({ address: sim.address, key: KEY, ...deviceOpts });
    devices.push(device);
    return { sim, device };
  };
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
  });

  it("HTTP 500 with an empty body (mss110v8): the same request goes encrypted with the static key", async () => {
    const { sim, device } = await start({ model: "mss110v8" });
    const dropped: DroppedEvent[] = [];
    sim.on("dropped", (e: DroppedEvent) => dropped.push(e));
    const info = await device.ready();
    assert.equal(info.uuid, sim.uuid);
    assert.deepEqual(dropped[0], { method: "GET", namespace: "Appliance.System.All", via: "http", answer: "http500" });
    assert.equal(device.encryptionScheme, "static");
    await device.setToggle(0, true);
    assert.equal(sim.state.channels[0].on, true);
    assert.equal(dropped.length, 1, "once encrypting, nothing more is refused");
  });

  it("a first request that is a SET (no ready()) on mss110v8: refused, then applied once, encrypted", async () => {
    const { sim, device } = await start({ model: "mss110v8" });
    const requests: RequestEvent[] = [];
    sim.on("request", (e: RequestEvent) => requests.push(e));
    const reply = await device.request("SET", "Appliance.Control.ToggleX", { togglex: { channel: 0, onoff: 1 } });
    assert.equal(reply.header.method, "SETACK");
    assert.equal(sim.state.channels[0].on, true);
    const sets = requests.filter((r) => r.namespace === "Appliance.Control.ToggleX");
    assert.deepEqual(
      sets.map((r) => r.encrypted),
      [true],
      "the refused plaintext SET never reached the firmware",
    );
  });

  it("an ERROR reply to plaintext on a device that lists Encrypt.*: recovered the same way", async () => {
    const { sim, device } = await start({ model: "mss110", quirks: { refusePlaintext: "error" } });
    const dropped: DroppedEvent[] = [];
    sim.on("dropped", (e: DroppedEvent) => dropped.push(e));
    await device.setToggle(0, true);
    assert.equal(sim.state.channels[0].on, true);
    assert.equal(dropped[0]?.answer, "error");
    assert.equal(device.encryptionScheme, "static");
  });

  it("an ERROR from a device that lists no encryption stays that error, in plaintext", async () => {
    const { device } = await start({ model: "mss310" });
    const err = await rejectsWith(
      device.request("GET", "Appliance.Control.Nonexistent", {}, { checkAbility: false }),
      "UNSUPPORTED",
      /answered that it does not know this command/,
    );
    assert.equal(err.details.deviceCode, 5000);
    assert.equal(device.encryptionScheme, undefined);
    await device.setToggle(0, true);
    assert.equal(device.encryptionScheme, undefined);
  });

  it("Encrypt.ECDHE answered with ERROR: onboarding in pairing mode falls back to the static key", async () => {
    const sim = await SimulatedDevice.start({ model: "mss110v8", unconfigured: true, port: 0 });
    sims.push(sim);
    let exchanges = 0;
    sim.on("ecdhe", (_e: EcdheEvent) => exchanges++);
    const encrypted: RequestEvent[] = [];
    sim.on("request", (e: RequestEvent) => e.encrypted && encrypted.push(e));
    const rebooted = new Promise<void>((r) => sim.once("reboot", () => r()));
    const result = await onboard({
      address: sim.address,
      mqttHost: "127.0.0.1",
      mqttPort: 8883,
      key: KEY,
      wifi: { ssid: "HomeNet", password: "home-wifi-pw" },
    });
    assert.equal(result.encryption, "static");
    assert.equal(exchanges, 0, "the exchange was refused");
    assert.ok(encrypted.some((e) => e.namespace === "Appliance.Config.Key"));
    await rebooted;
    await new Promise<void>((r) => (sim.mode === "normal" ? r() : sim.once("reboot", () => r())));
    const device = new MerossDevice({ address: sim.address, key: KEY });
    devices.push(device);
    await device.setToggle(0, true);
    assert.equal(sim.state.channels[0].on, true);
  });

  it("Encrypt.ECDHE answered with ERROR when the user forced ecdhe: the ERROR stands (no silent switch)", async () => {
    const { sim, device } = await start({ model: "mss110v8" }, { encryption: "ecdhe" });
    await rejectsWith(device.setToggle(0, true), "UNSUPPORTED", /Encrypt\.ECDHE/);
    assert.equal(sim.state.channels[0].on, false);
  });

  it("a wrong key on mss110v8 is WRONG_KEY after the refusal, never a loop", async () => {
    const { sim } = await start({ model: "mss110v8" });
    const wrong = new MerossDevice({ address: sim.address, key: "not-the-key", http: { retries: 0 } });
    devices.push(wrong);
    await rejectsWith(wrong.setToggle(0, true), "WRONG_KEY");
    assert.equal(sim.state.channels[0].on, false);
  });
});

/** A raw HTTP/1.1 server that counts connections; `answer` decides per request (n counts from 1 per server). */
async function rawServer(answer: (req: { n: number; onSocket: number; body: string }, sock: Socket) => void) {
  let connections = 0;
  let n = 0;
  const server: Server = createServer((sock) => {
    connections++;
    let onSocket = 0;
    let buf = "";
    sock.on("error", () => undefined);
    sock.on("data", (chunk) => {
      buf += chunk.toString("latin1");
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const len = Number(/content-length:\s*(\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const body = buf.slice(end + 4, end + 4 + len);
        buf = buf.slice(end + 4 + len);
        answer({ n: ++n, onSocket: ++onSocket, body }, sock);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    connections: () => connections,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function ackTo(body: string): string {
  const req = JSON.parse(body) as Envelope;
  const method = req.header.method === "SET" ? "SETACK" : "GETACK";
  return JSON.stringify({ header: { ...req.header, method }, payload: {} });
}

function reply(sock: Socket, body: string, opts: { status?: string; keepAlive: boolean }): void {
  const head = [`HTTP/1.1 ${opts.status ?? "200 OK"}`, "Content-Type: application/json", `Content-Length: ${Buffer.byteLength(body)}`];
  head.push(`Connection: ${opts.keepAlive ? "keep-alive" : "close"}`);
  sock.write(`${head.join("\n")}\n\n${body}`);
  if (!opts.keepAlive) sock.end();
}

const set = (): Envelope =>
  buildMessage({ method: "SET", namespace: "Appliance.Control.ToggleX", payload: { togglex: { channel: 0, onoff: 1 } }, key: "" });

describe("HTTP keep-alive where the device allows it (docs/protocol.md §2.2)", function () {
  this.timeout(20_000);

  it("a device that keeps the connection open: 10 requests use 1 connection", async () => {
    const sim = await SimulatedDevice.start({ model: "mss310", key: KEY, port: 0, quirks: { closeAfterReply: false } });
    const device = new MerossDevice({ address: sim.address, key: KEY });
    try {
      for (let i = 0; i < 10; i++) await device.setToggle(0, i % 2 === 0);
      assert.equal(sim.state.channels[0].on, false);
      assert.equal(sim.connectionCount, 1);
    } finally {
      await device.close();
      await sim.stop();
    }
  });

  it("a device that closes after each reply: every request reconnects by itself", async () => {
    const sim = await SimulatedDevice.start({ model: "mss310", key: KEY, port: 0 });
    const device = new MerossDevice({ address: sim.address, key: KEY });
    try {
      await device.ready();
      const [requests, connections] = [sim.requestCount, sim.connectionCount];
      for (let i = 0; i < 10; i++) await device.setToggle(0, i % 2 === 0);
      assert.equal(sim.state.channels[0].on, false);
      assert.equal(sim.requestCount - requests, 10);
      assert.equal(sim.connectionCount - connections, 10);
    } finally {
      await device.close();
      await sim.stop();
    }
  });

  it("a kept-alive connection the device closed meanwhile: a SET is retried once on a new connection and applied once", async () => {
    const applied: number[] = [];
    const srv = await rawServer((req, sock) => {
      // The second request on the first connection meets a device that already closed it.
      if (req.onSocket === 2) return void sock.destroy();
      applied.push(req.n);
      reply(sock, ackTo(req.body), { keepAlive: true });
    });
    const t = new HttpTransport(srv.address, { retries: 0 });
    try {
      assert.equal((await t.send(set())).header.method, "SETACK");
      assert.equal((await t.send(set())).header.method, "SETACK");
      assert.equal(srv.connections(), 2);
      assert.deepEqual(applied, [1, 3], "the request on the closed connection was never read, the retry was");
    } finally {
      await t.close();
      await srv.close();
    }
  });

  it("a SET whose new connection is dropped is not retried: the device may have read it", async () => {
    const srv = await rawServer((_req, sock) => sock.destroy());
    const t = new HttpTransport(srv.address, { retries: 2 });
    try {
      await rejectsWith(t.send(set()), "UNREACHABLE");
      assert.equal(srv.connections(), 1);
    } finally {
      await t.close();
      await srv.close();
    }
  });

  it("a SET dropped on a reused connection is retried once only, then reported", async () => {
    const srv = await rawServer((req, sock) => {
      if (req.n === 1) return reply(sock, ackTo(req.body), { keepAlive: true });
      sock.destroy();
    });
    const t = new HttpTransport(srv.address, { retries: 2 });
    try {
      await t.send(set());
      await rejectsWith(t.send(set()), "UNREACHABLE");
      assert.equal(srv.connections(), 2, "one retry on a new connection, no more");
    } finally {
      await t.close();
      await srv.close();
    }
  });

  it("HTTP 500 with an empty body is its own recognisable error; with a body it stays a plain HTTP 500", async () => {
    const srv = await rawServer((req, sock) =>
      reply(sock, req.n === 1 ? "" : "oops", { status: "500 Internal Server Error", keepAlive: false }),
    );
    const t = new HttpTransport(srv.address);
    try {
      const empty = await rejectsWith(t.send(set()), "BAD_RESPONSE", /500 with an empty body/);
      assert.ok(isEmptyServerError(empty));
      const other = await rejectsWith(t.send(set()), "BAD_RESPONSE", /HTTP status 500/);
      assert.ok(!isEmptyServerError(other));
    } finally {
      await t.close();
      await srv.close();
    }
  });
});
