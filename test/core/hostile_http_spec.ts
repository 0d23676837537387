/**
 * Something hostile answers at the device's address. Each case is a raw socket server on
 * 127.0.0.1 that misbehaves byte for byte; each asserts the MerossError a flow would see
 * and that memory stayed bounded while it happened (peak RSS, sampled, not timed).
 */
import assert from "node:assert/strict";
import net from "node:net";
import { gzipSync } from "node:zlib";
import { HttpTransport, REPLY_MAX_BYTES } from "../../src/core/transport/http";
import { MerossDevice } from "../../src/core/session/device";
import { buildMessage, checkReply, computeSign, type Envelope } from "../../src/core/protocol/message";
import { rejectsWith } from "../helpers/errors";

const KEY = "device-key";
const MB = 1024 * 1024;
/** Most RSS a single case may add: far below the gigabytes an unbounded reader reaches. */
const RSS_BUDGET = 50 * MB;

interface Hostile {
  address: string;
  /** Raw request heads received, lower-cased. */
  heads: string[];
  close: () => Promise<void>;
}

type Behaviour = (body: string, sock: net.Socket) => void;

/** A server that hands each complete request to `behave`; every socket is destroyed on close. */
async function hostile(behave: Behaviour): Promise<Hostile> {
  const sockets = new Set<net.Socket>();
  const heads: string[] = [];
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => undefined);
    let buf = "";
    let done = false;
    sock.on("data", (d) => {
      if (done) return;
      buf += d.toString("utf8");
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const len = Number(/content-length:\s*(\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      const body = buf.slice(end + 4);
      if (Buffer.byteLength(body) < len) return;
      done = true;
      heads.push(buf.slice(0, end).toLowerCase());
      behave(body, sock);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    heads,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * Writes `chunk` again and again (up to `total` bytes, or until the peer goes away), waiting
 * for 'drain' so the hostile server itself holds only one chunk: the RSS we measure is the client's.
 */
function pour(sock: net.Socket, chunk: Buffer, total = Infinity, then?: () => void): void {
  let sent = 0;
  const go = (): void => {
    while (sent < total && !sock.destroyed) {
      const piece = total - sent < chunk.length ? chunk.subarray(0, total - sent) : chunk;
      sent += piece.length;
      if (!sock.write(piece)) {
        sock.once("drain", go);
        return;
      }
    }
    if (!sock.destroyed) then?.();
  };
  go();
}

function head(lines: string[]): string {
  return `HTTP/1.1 200 OK\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`;
}

function signedReply(body: string, key: string, edit?: (e: Envelope) => void): string {
  const req = JSON.parse(body) as Envelope;
  const ts = 1700000000;
  const env: Envelope = {
    header: { ...req.header, method: "GETACK", timestamp: ts, from: "/appliance/x/publish" },
    payload: { all: { system: {} } },
  };
  env.header.sign = computeSign(req.header.messageId, key, ts);
  edit?.(env);
  return JSON.stringify(env);
}

function answer(sock: net.Socket, text: string): void {
  sock.end(head(["Content-Type: application/json", `Content-Length: ${Buffer.byteLength(text)}`, "Connection: close"]) + text);
}

const getAll = () => buildMessage({ method: "GET", namespace: "Appliance.System.All", key: KEY });

/** Runs `fn` while sampling RSS; fails when the peak grew past the budget. */
async function bounded<T>(fn: () => Promise<T>): Promise<T> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sample = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  try {
    return await fn();
  } finally {
    clearInterval(sample);
    peak = Math.max(peak, process.memoryUsage().rss);
    const grew = peak - before;
    assert.ok(grew < RSS_BUDGET, `RSS grew by ${Math.round(grew / MB)} MB during the case (budget ${RSS_BUDGET / MB} MB)`);
  }
}

/** One exchange through the HTTP transport against a hostile server, then checkReply with the device key. */
async function exchange(srv: Hostile, timeoutMs = 5_000): Promise<Envelope> {
  const t = new HttpTransport(srv.address, { timeoutMs, retries: 0 });
  try {
    const req = getAll();
    const reply = await t.send(req);
    return checkReply(req, reply, srv.address, { keys: [KEY] });
  } finally {
    await t.close();
  }
}

describe("a hostile host at the device's address (HTTP)", function () {
  let srv: Hostile | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });

  it("control: a well-signed reply goes through the same path", async () => {
    srv = await hostile((body, sock) => answer(sock, signedReply(body, KEY)));
    const reply = await bounded(() => exchange(srv as Hostile));
    assert.equal(reply.header.method, "GETACK");
  });

  it("garbage instead of JSON is BAD_RESPONSE, not a crash", async () => {
    srv = await hostile((_b, sock) => answer(sock, "\u0000\u00ff<html>hello</html>}{"));
    await bounded(() => rejectsWith(exchange(srv as Hostile), "BAD_RESPONSE", /invalid or truncated JSON.*try again/));
  });

  it("truncated JSON is BAD_RESPONSE", async () => {
    srv = await hostile((body, sock) => answer(sock, signedReply(body, KEY).slice(0, 50)));
    await bounded(() => rejectsWith(exchange(srv as Hostile), "BAD_RESPONSE", /truncated/));
  });

  it("JSON nested thirty thousand deep (within the size cap) is BAD_RESPONSE", async () => {
    srv = await hostile((_b, sock) => answer(sock, "[".repeat(30_000) + "]".repeat(30_000)));
    await bounded(() => rejectsWith(exchange(srv as Hostile), "BAD_RESPONSE"));
  });

  it("a 50 MB body announced by Content-Length is refused from its header", async () => {
    srv = await hostile((_b, sock) => {
      sock.write(head([`Content-Length: ${50 * MB}`, "Content-Type: application/json"]));
      pour(sock, Buffer.alloc(64 * 1024, 0x20), 50 * MB, () => sock.end());
    });
    const refused = /larger than the 64 KiB a device ever sends: 52428800 bytes announced/;
    await bounded(() => rejectsWith(exchange(srv as Hostile), "BAD_RESPONSE", refused));
  });

  it("a 50 MB body without Content-Length is cut off at the cap", async () => {
    srv = await hostile((_b, sock) => {
      sock.write(head(["Content-Type: application/json", "Connection: close"]));
      pour(sock, Buffer.alloc(64 * 1024, 0x7b), 50 * MB, () => sock.end());
    });
    await bounded(() => rejectsWith(exchange(srv as Hostile), "BAD_RESPONSE", /larger than the 64 KiB a device ever sends: cut off/));
  });

  it("an endless chunked body is cut off at the cap", async () => {
    const chunk = Buffer.from(`4000\r\n${"a".repeat(0x4000)}\r\n`);
    srv = await hostile((_b, sock) => {
      sock.write(head(["Content-Type: application/json", "Transfer-Encoding: chunked"]));
      pour(sock, chunk);
    });
    await bounded(() => rejectsWith(exchange(srv as Hostile), "BAD_RESPONSE", /cut off/));
  });

  it("a body just under the cap is still read (real replies are far smaller)", async () => {
    srv = await hostile((body, sock) =>
      answer(
        sock,
        signedReply(body, KEY, (e) => (e.payload = { all: { pad: "p".repeat(REPLY_MAX_BYTES - 1024) } })),
      ),
    );
    const reply = await bounded(() => exchange(srv as Hostile));
    assert.equal(reply.header.method, "GETACK");
  });

  it("a gzip bomb is never decompressed: BAD_RESPONSE, and we asked for identity", async () => {
    // One gzip member of 10 MB of zeros, repeated: a gunzip would produce a gigabyte.
    const member = gzipSync(Buffer.alloc(10 * MB));
    srv = await hostile((_b, sock) => {
      sock.write(head(["Content-Type: application/json", "Content-Encoding: gzip", "Connection: close"]));
      pour(sock, member, member.length * 100, () => sock.end());
    });
    await bounded(() => rejectsWith(exchange(srv as Hostile), "BAD_RESPONSE", /compressed reply \("gzip"\)/));
    assert.match(srv.heads[0], /accept-encoding: identity/);
  });

  for (const encoding of ["deflate", "br", "x-gzip"]) {
    it(`a reply with Content-Encoding ${encoding} is BAD_RESPONSE, not decoded`, async () => {
      srv = await hostile((body, sock) => {
        const text = signedReply(body, KEY);
        sock.end(head([`Content-Encoding: ${encoding}`, `Content-Length: ${text.length}`]) + text);
      });
      await bounded(() => rejectsWith(exchange(srv as Hostile), "BAD_RESPONSE", /compressed reply/));
    });
  }

  it("a reply signed with another key is BAD_RESPONSE: another device may be answering", async () => {
    srv = await hostile((body, sock) => answer(sock, signedReply(body, "not-the-device-key")));
    await bounded(() => rejectsWith(exchange(srv as Hostile), "BAD_RESPONSE", /not signed with this device's key.*another device/));
  });

  it("a reply without any signature is BAD_RESPONSE", async () => {
    srv = await hostile((body, sock) =>
      answer(
        sock,
        signedReply(body, KEY, (e) => delete (e.header as Partial<Envelope["header"]>).sign),
      ),
    );
    await bounded(() => rejectsWith(exchange(srv as Hostile), "BAD_RESPONSE", /not signed .*\(no sign\)/));
  });

  it("a reply to another messageId is BAD_RESPONSE", async () => {
    srv = await hostile((body, sock) =>
      answer(
        sock,
        signedReply(body, KEY, (e) => {
          e.header.messageId = "f".repeat(32);
          e.header.sign = computeSign(e.header.messageId, KEY, e.header.timestamp);
        }),
      ),
    );
    await bounded(() => rejectsWith(exchange(srv as Hostile), "BAD_RESPONSE", /another request \(messageId differs\)/));
  });

  it("a slow drip is ended by the exchange deadline: TIMEOUT", async () => {
    const timers: NodeJS.Timeout[] = [];
    srv = await hostile((body, sock) => {
      const text = signedReply(body, KEY);
      sock.write(head([`Content-Length: ${text.length}`, "Content-Type: application/json"]));
      let i = 0;
      const drip = setInterval(() => {
        if (sock.destroyed || i >= text.length) return clearInterval(drip);
        sock.write(text[i++]);
      }, 20);
      timers.push(drip);
    });
    try {
      await bounded(() => rejectsWith(exchange(srv as Hostile, 400), "TIMEOUT", /did not answer GET Appliance\.System\.All within 0\.4 s/));
    } finally {
      timers.forEach(clearInterval);
    }
  });

  it("headers then silence is TIMEOUT too", async () => {
    srv = await hostile((_b, sock) => sock.write(head(["Content-Length: 500", "Content-Type: application/json"])));
    await bounded(() => rejectsWith(exchange(srv as Hostile, 300), "TIMEOUT"));
  });

  describe("through MerossDevice.request()", () => {
    it("an endless body: the request fails with BAD_RESPONSE and the session stays usable", async () => {
      let n = 0;
      srv = await hostile((body, sock) => {
        n++;
        if (n === 1) {
          sock.write(head(["Content-Type: application/json"]));
          pour(sock, Buffer.alloc(64 * 1024, 0x20));
        } else answer(sock, signedReply(body, KEY));
      });
      const device = new MerossDevice({ address: srv.address, key: KEY, timeoutMs: 5_000, encryption: "off", http: { retries: 0 } });
      try {
        await bounded(() => rejectsWith(device.request("GET", "Appliance.System.All"), "BAD_RESPONSE", /cut off/));
        const reply = await device.request("GET", "Appliance.System.All");
        assert.equal(reply.header.method, "GETACK");
      } finally {
        await device.close();
      }
    });

    it("a gzip bomb: BAD_RESPONSE, memory bounded", async () => {
      const member = gzipSync(Buffer.alloc(10 * MB));
      srv = await hostile((_b, sock) => {
        sock.write(head(["Content-Type: application/json", "Content-Encoding: gzip"]));
        pour(sock, member, member.length * 100, () => sock.end());
      });
      const device = new MerossDevice({ address: srv.address, key: KEY, timeoutMs: 5_000, encryption: "off", http: { retries: 0 } });
      try {
        await bounded(() => rejectsWith(device.request("GET", "Appliance.System.All"), "BAD_RESPONSE", /compressed/));
      } finally {
        await device.close();
      }
    });
  });
});
