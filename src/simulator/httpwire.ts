/**
 * A deliberately small HTTP/1.1 reader and writer on raw sockets. The simulator cannot use
 * node:http for the device side because real firmware ends header lines with a bare LF
 * (docs/protocol.md §2.2) and node:http always writes CRLF.
 */
import type { Socket } from "node:net";

/** One complete request as read off the wire. */
export interface WireRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export type ParseResult =
  { kind: "incomplete" } | { kind: "error"; status: number; reason: string } | { kind: "request"; request: WireRequest; rest: Buffer };

/** Bigger than any real Meross request; protects the simulator from hostile input. */
export const MAX_HEADER_BYTES = 16 * 1024;
export const MAX_BODY_BYTES = 256 * 1024;

function findHeaderEnd(buf: Buffer): { end: number; sepLen: number } | undefined {
  const crlf = buf.indexOf("\r\n\r\n");
  const lf = buf.indexOf("\n\n");
  if (crlf < 0 && lf < 0) return undefined;
  if (lf >= 0 && (crlf < 0 || lf < crlf)) return { end: lf, sepLen: 2 };
  return { end: crlf, sepLen: 4 };
}

function decodeChunked(buf: Buffer): { body: Buffer; used: number } | "incomplete" | "error" {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const lineEnd = buf.indexOf("\n", pos);
    if (lineEnd < 0) return "incomplete";
    const sizeText = buf.subarray(pos, lineEnd).toString("latin1").replace(/\r$/, "").split(";")[0].trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) return "error";
    const size = parseInt(sizeText, 16);
    pos = lineEnd + 1;
    if (size === 0) {
      const trailerEnd = buf.indexOf("\n", pos);
      if (trailerEnd < 0) return "incomplete";
      return { body: Buffer.concat(parts), used: trailerEnd + 1 };
    }
    if (buf.length < pos + size) return "incomplete";
    parts.push(buf.subarray(pos, pos + size));
    pos += size;
    if (buf.length < pos + 1) return "incomplete";
    if (buf[pos] === 0x0d) pos += 1;
    if (buf.length < pos + 1) return "incomplete";
    if (buf[pos] !== 0x0a) return "error";
    pos += 1;
    if (pos > MAX_BODY_BYTES * 2) return "error";
  }
}

/** Tries to read one request from the start of `buf`; tolerant of LF-only clients. */
export function parseRequest(buf: Buffer): ParseResult {
  const head = findHeaderEnd(buf);
  if (!head) {
    if (buf.length <= MAX_HEADER_BYTES) return { kind: "incomplete" };
    return { kind: "error", status: 431, reason: "Request Header Fields Too Large" };
  }
  const lines = buf.subarray(0, head.end).toString("latin1").split(/\r?\n/);
  const requestLine = lines.shift() ?? "";
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(requestLine.trim());
  if (!m) return { kind: "error", status: 400, reason: "Bad Request" };
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) return { kind: "error", status: 400, reason: "Bad Request" };
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const bodyStart = head.end + head.sepLen;
  const rest = buf.subarray(bodyStart);
  if ((headers["transfer-encoding"] ?? "").toLowerCase().includes("chunked")) {
    const decoded = decodeChunked(rest);
    if (decoded === "incomplete") return { kind: "incomplete" };
    if (decoded === "error") return { kind: "error", status: 400, reason: "Bad Request" };
    if (decoded.body.length > MAX_BODY_BYTES) return { kind: "error", status: 413, reason: "Payload Too Large" };
    return { kind: "request", request: { method: m[1], path: m[2], headers, body: decoded.body }, rest: rest.subarray(decoded.used) };
  }
  const lengthText = headers["content-length"];
  const length = lengthText === undefined ? 0 : Number(lengthText);
  if (!Number.isInteger(length) || length < 0) return { kind: "error", status: 400, reason: "Bad Request" };
  if (length > MAX_BODY_BYTES) return { kind: "error", status: 413, reason: "Payload Too Large" };
  if (rest.length < length) return { kind: "incomplete" };
  return { kind: "request", request: { method: m[1], path: m[2], headers, body: rest.subarray(0, length) }, rest: rest.subarray(length) };
}

export interface ResponseOptions {
  lfOnly: boolean;
  keepAlive: boolean;
  contentType?: string;
}

/** Serialises a response the way Meross firmware does (header set of mss310 fw 1.1.18, BS#22). */
export function formatResponse(status: number, reason: string, body: Buffer | string, opts: ResponseOptions): Buffer {
  const eol = opts.lfOnly ? "\n" : "\r\n";
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const lines = [
    `HTTP/1.1 ${status} ${reason}`,
    "Server: HTTPD",
    // Real devices without a synchronised clock send a 1970 date; clients must not care.
    "Date: Thu, 01 Jan 1970 00:00:00 GMT",
    "Pragma: no-cache",
    "Cache-Control: no-cache",
    `Content-Type: ${opts.contentType ?? "application/json;charset=UTF-8"}`,
    `Content-Length: ${bytes.length}`,
    `Connection: ${opts.keepAlive ? "keep-alive" : "close"}`,
  ];
  return Buffer.concat([Buffer.from(lines.join(eol) + eol + eol, "latin1"), bytes]);
}

/** Writes and optionally half-closes; never throws on a socket the client already closed. */
export function writeResponse(socket: Socket, data: Buffer, close: boolean): void {
  if (socket.destroyed || !socket.writable) return;
  if (close) socket.end(data);
  else socket.write(data);
}
