import assert from "node:assert/strict";
import net from "node:net";
import { HttpTransport, deviceUrl } from "../../src/core/transport/http";
import { buildMessage, computeSign } from "../../src/core/protocol/message";
import { MerossError } from "../../src/core/errors";

/** A tiny raw-socket device so each firmware quirk can be produced byte for byte. */
type Behaviour = (body: string, sock: net.Socket) => void;

async function rawServer(behave: Behaviour): Promise<{ address: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = net.createServer((sock) => {
    let buf = "";
    sock.on("error", () => undefined);
    sock.on("data", (d) => {
      buf += d.toString("utf8");
      const head = buf.indexOf("\r\n\r\n");
      if (head < 0) return;
      const len = Number(/content-length:\s*(\d+)/i.exec(buf.slice(0, head))?.[1] ?? 0);
      const body = buf.slice(head + 4);
      if (Buffer.byteLength(body) < len) return;
      hits++;
      behave(body, sock);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    hits: () => hits,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function replyTo(body: string, method = "GETACK", key = ""): string {
  const req = JSON.parse(body);
  const ts = 1700000000;
  return JSON.stringify({
    header: { ...req.header, method, timestamp: ts, sign: computeSign(req.header.messageId, key, ts), from: "/appliance/x/publish" },
    payload: { ok: 1 },
  });
}

function lfOnly(sock: net.Socket, text: string, status = "200 OK"): void {
  sock.end(
    `HTTP/1.1 ${status}\nServer: HTTPD\nContent-Type: application/json;charset=UTF-8\nContent-Length: ${Buffer.byteLength(text)}\nConnection: close\n\n${text}`,
  );
}

const get = () => buildMessage({ method: "GET", namespace: "Appliance.System.All", key: "" });
const set = () =>
  buildMessage({ method: "SET", namespace: "Appliance.Control.ToggleX", payload: { togglex: { channel: 0, onoff: 1 } }, key: "" });

async function rejects(p: Promise<unknown>, code: string): Promise<MerossError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MerossError, `expected a MerossError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe("HTTP transport", () => {
  it("reads replies whose header lines end with LF only, as many firmwares send them", async () => {
    const srv = await rawServer((body, sock) => lfOnly(sock, replyTo(body)));
    const t = new HttpTransport(srv.address);
    try {
      const reply = await t.send(get());
      assert.equal(reply.header.method, "GETACK");
      assert.deepEqual(reply.payload, { ok: 1 });
    } finally {
      await t.close();
      await srv.close();
    }
  });

  it("reports a truncated reply as BAD_RESPONSE with a sentence, not a crash", async () => {
    const srv = await rawServer((body, sock) => lfOnly(sock, replyTo(body).slice(0, 40)));
    const t = new HttpTransport(srv.address);
    try {
      const err = await rejects(t.send(get()), "BAD_RESPONSE");
      assert.match(err.message, /truncated/);
      assert.match(err.message, new RegExp(srv.address.replace(/\./g, "\\.")));
    } finally {
      await srv.close();
    }
  });

  it("reports HTTP 500 as BAD_RESPONSE", async () => {
    const srv = await rawServer((_b, sock) => lfOnly(sock, "oops", "500 Internal Server Error"));
    const t = new HttpTransport(srv.address);
    try {
      const err = await rejects(t.send(get()), "BAD_RESPONSE");
      assert.match(err.message, /HTTP status 500/);
    } finally {
      await srv.close();
    }
  });

  it("retries a GET whose connection was dropped, and then succeeds", async () => {
    let n = 0;
    const srv = await rawServer((body, sock) => {
      n++;
      if (n === 1) sock.destroy();
      else lfOnly(sock, replyTo(body));
    });
    const t = new HttpTransport(srv.address, { retryDelayMs: 10 });
    try {
      const reply = await t.send(get());
      assert.equal(reply.header.method, "GETACK");
      assert.equal(srv.hits(), 2);
    } finally {
      await srv.close();
    }
  });

  it("never retries a SET (switching twice is not harmless)", async () => {
    const srv = await rawServer((_b, sock) => sock.destroy());
    const t = new HttpTransport(srv.address, { retryDelayMs: 10 });
    try {
      await rejects(t.send(set()), "UNREACHABLE");
      assert.equal(srv.hits(), 1);
    } finally {
      await srv.close();
    }
  });

  it("gives up after the timeout with TIMEOUT naming the device and namespace", async () => {
    const srv = await rawServer(() => undefined);
    const t = new HttpTransport(srv.address, { timeoutMs: 300 });
    try {
      const err = await rejects(t.send(set()), "TIMEOUT");
      assert.match(err.message, /Appliance\.Control\.ToggleX/);
      assert.match(err.message, /0\.3 s/);
    } finally {
      await srv.close();
    }
  });

  it("a caller's stop signal (its queue deadline) ends the exchange with the caller's reason, and a GET is not retried", async () => {
    const srv = await rawServer(() => undefined);
    const t = new HttpTransport(srv.address, { timeoutMs: 10_000, retryDelayMs: 10 });
    const ctl = new AbortController();
    try {
      const pending = t.send(get(), { signal: ctl.signal });
      while (srv.hits() === 0) await new Promise((r) => setTimeout(r, 5));
      ctl.abort(new MerossError("TIMEOUT", "GET Appliance.System.All did not finish within 1 s."));
      const err = await rejects(pending, "TIMEOUT");
      assert.match(err.message, /did not finish within 1 s/);
      assert.equal(srv.hits(), 1);
    } finally {
      await t.close();
      await srv.close();
    }
  });

  it("says UNREACHABLE with 'connection refused' when nothing listens", async () => {
    const srv = await rawServer(() => undefined);
    const address = srv.address;
    await srv.close();
    const t = new HttpTransport(address, { retries: 1, retryDelayMs: 10 });
    const err = await rejects(t.send(get()), "UNREACHABLE");
    assert.match(err.message, /connection refused/);
    assert.match(err.message, /Check the address/);
  });

  it("turns addresses into the device URL and refuses nonsense with a sentence", () => {
    assert.equal(deviceUrl("192.168.1.20"), "http://192.168.1.20/config");
    assert.equal(deviceUrl(" 127.0.0.1:18080 "), "http://127.0.0.1:18080/config");
    assert.equal(deviceUrl("http://10.10.10.1"), "http://10.10.10.1/config");
    assert.throws(
      () => deviceUrl(""),
      (e: unknown) => e instanceof MerossError && e.code === "BAD_INPUT",
    );
    assert.throws(
      () => deviceUrl("my bulb"),
      (e: unknown) => e instanceof MerossError && /not a device address/.test(e.message),
    );
  });
});
