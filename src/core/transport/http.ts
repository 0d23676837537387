/**
 * HTTP transport: `POST http://<host>/config` with the JSON envelope (docs/protocol.md §2).
 *
 * Why node:http with `insecureHTTPParser`: many firmwares end header lines with LF only,
 * which Node's strict parser (and fetch/undici) rejects with HPE_CR_EXPECTED (§2.2); node:http
 * directly, because the client library on top of it cost as much time as the rest of the core.
 * Keep-alive: most firmware closes after every reply (`connection: close`, §2.2), some keeps the
 * connection open. One keep-alive agent per device serves both: it reuses an open connection
 * and dials a new one when the device closed it. The session queue sends one request at a
 * time, so there is never more than one connection per device (§2.3).
 *
 * Whatever answers at the device's address is not trusted: the body is read as a stream and
 * cut off past REPLY_MAX_BYTES, never decompressed (a gzip bomb stays a few KB), and the whole
 * exchange, body included, ends at one deadline, so a peer dripping bytes cannot hold it open.
 */
import http, { type ClientRequest, type IncomingMessage } from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import { MerossError, explain } from "../errors";
import { describeValue } from "../protocol/rules";
import { parseEnvelopeText, type Envelope } from "../protocol/message";
import { decodeEnvelopeText, encodeEnvelope } from "../crypto/lan";
import { HTTP_TIMEOUT_MS, abortError, transportEvents, type SendOptions, type Transport } from "./types";

export interface HttpTransportOptions {
  timeoutMs?: number;
  /** Retries for GET requests whose connection failed (never for SET: not idempotent). */
  retries?: number;
  retryDelayMs?: number;
}

/**
 * Largest reply body accepted. Real replies are a few KB (the longest message in the captures
 * of docs/protocol.md §8.4, from an msh300 hub, is about 3.5 KB); 64 KiB leaves room for big
 * multi-channel devices, and anything beyond it is not a Meross device talking.
 */
export const REPLY_MAX_BYTES = 64 * 1024;

/** Connection errors worth a retry: the device's HTTP server sometimes drops a connection for no reason. */
const RETRYABLE = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);

/** Causes the transport reports when the device hung up after reading the request. */
const DROPPED = new Set(["ECONNRESET", "EPIPE", "ERR_BAD_RESPONSE"]);

/** details.reason of the distinct error for an HTTP 500 with an empty body. */
export const EMPTY_500 = "empty-500";

/**
 * Idle time after which we close a kept-alive connection ourselves: a device has few sockets
 * and the Meross app may want one; a session that talks again soon still saves the handshake.
 */
const IDLE_KEEPALIVE_MS = 4_000;

/**
 * True for an HTTP 500 with an empty body: what some encrypted firmware answers to a plaintext
 * request (docs/protocol.md §4.2), so the caller may retry encrypted, as after a dropped connection.
 */
export function isEmptyServerError(err: unknown): boolean {
  return err instanceof MerossError && err.code === "BAD_RESPONSE" && err.details.reason === EMPTY_500;
}

/**
 * True when the device accepted the connection and closed it without a reply: what encrypted
 * firmware does with a request it cannot read (docs/protocol.md §2.2, §4.2), so the caller may
 * retry encrypted. Not proof on its own: some firmware also drops unknown verbs (§1.3).
 */
export function isDroppedConnection(err: unknown): boolean {
  if (!(err instanceof MerossError) || err.code !== "UNREACHABLE") return false;
  const why = err.details.reason;
  return typeof why === "string" && (DROPPED.has(why) || /socket hang up|Parse Error/i.test(why));
}

/** Splits "host", "host:port", "[v6]:port" or "http://host:port/config" into a URL. */
export function deviceUrl(address: string): string {
  const a = address.trim();
  if (!a)
    throw new MerossError("BAD_INPUT", "The device address is empty. Enter the device's IP address or host name, optionally with :port.");
  if (/^https?:\/\//i.test(a)) {
    const u = new URL(a);
    if (u.pathname === "/" || u.pathname === "") u.pathname = "/config";
    return u.toString();
  }
  if (/[\s/?#@]/.test(a)) {
    throw new MerossError(
      "BAD_INPUT",
      `"${a}" is not a device address. Use an IP address or host name, optionally with :port (for example 192.168.1.20 or 127.0.0.1:18080).`,
    );
  }
  return `http://${a}/config`;
}

function tooBig(what: string): string {
  return `a body larger than the ${REPLY_MAX_BYTES / 1024} KiB a device ever sends: ${what}`;
}

/**
 * The body as UTF-8 text, or `tooLarge()` thrown as soon as more than REPLY_MAX_BYTES arrived
 * (the caller destroys the stream, which closes the connection).
 */
function readCapped(stream: Readable, tooLarge: () => MerossError): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let ended = false;
    const fail = (err: unknown): void => {
      stream.off("data", onData);
      reject(err);
    };
    const onData = (chunk: Buffer | string): void => {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      total += buf.length;
      if (total > REPLY_MAX_BYTES) return fail(tooLarge());
      chunks.push(buf);
    };
    stream.on("data", onData);
    stream.once("error", fail);
    // An aborted response may close without "end" or "error".
    stream.once("close", () => ended || fail(Object.assign(new Error("aborted"), { code: "ECONNRESET" })));
    stream.once("end", () => {
      ended = true;
      const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total)).toString("utf8");
      resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    });
  });
}

export class HttpTransport implements Transport {
  readonly kind = "http" as const;
  readonly address: string;
  /** Part of the contract; HTTP never pushes. */
  readonly events = transportEvents();
  private readonly url: URL;
  /** Where and how every request goes, worked out once. */
  private readonly target: http.RequestOptions;
  private readonly lib: typeof http | typeof https;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly agent: http.Agent;
  /** For the one retry after a stale kept-alive connection: always a new connection. */
  private readonly freshAgent: http.Agent;

  constructor(address: string, opts: HttpTransportOptions = {}) {
    this.address = address;
    this.url = new URL(deviceUrl(address));
    this.timeoutMs = opts.timeoutMs ?? HTTP_TIMEOUT_MS;
    this.retries = opts.retries ?? 2;
    this.retryDelayMs = opts.retryDelayMs ?? 150;
    this.target = {
      protocol: this.url.protocol,
      hostname: this.url.hostname.replace(/^\[|\]$/g, ""),
      port: this.url.port || undefined,
      path: this.url.pathname + this.url.search,
      method: "POST",
      insecureHTTPParser: true,
    };
    const secure = this.url.protocol === "https:";
    this.lib = secure ? https : http;
    const Agent = secure ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1, timeout: IDLE_KEEPALIVE_MS });
    this.freshAgent = new Agent({ keepAlive: false });
  }

  async send(request: Envelope, opts: SendOptions = {}): Promise<Envelope> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const key = opts.encryptionKey;
    const body = key ? encodeEnvelope(request, key) : JSON.stringify(request);
    const retries = request.header.method === "GET" ? this.retries : 0;
    const deadline = performance.now() + timeoutMs;
    let fresh = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(body, request, Math.max(1, deadline - performance.now()), timeoutMs, key, opts.signal, fresh);
      } catch (err) {
        if (!fresh && err instanceof StaleConnection) {
          // Not counted as an attempt, and safe for SET too: see StaleConnection.
          fresh = true;
          attempt--;
          if (opts.signal?.aborted || performance.now() >= deadline) throw err.error;
          continue;
        }
        const failure = err instanceof StaleConnection ? err.error : err;
        const retryable = failure instanceof MerossError && failure.code === "UNREACHABLE" && failure.details.retryable;
        const wait = this.retryDelayMs * 2 ** attempt;
        if (!retryable || attempt >= retries || performance.now() + wait >= deadline || opts.signal?.aborted) throw failure;
        await new Promise((r) => setTimeout(r, wait));
        if (opts.signal?.aborted) throw err;
      }
    }
  }

  /** One POST; resolves with the response once its status line and headers arrived. */
  private post(body: string, key: string | undefined, fresh: boolean): { req: ClientRequest; response: Promise<IncomingMessage> } {
    // Encrypted bodies are base64 text; the official app labels them text/plain (ML#456, §2.1).
    const type = key ? { "Content-Type": "text/plain", Accept: "*/*" } : { "Content-Type": "application/json", Accept: "application/json" };
    const req = this.lib.request({
      ...this.target,
      agent: fresh ? this.freshAgent : this.agent,
      headers: { ...type, "Accept-Encoding": "identity", "Content-Length": Buffer.byteLength(body) },
    });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.once("response", resolve);
      req.once("error", reject);
    });
    req.end(body);
    return { req, response };
  }

  private async once(
    body: string,
    request: Envelope,
    budgetMs: number,
    timeoutMs: number,
    key?: string,
    stop?: AbortSignal,
    fresh = false,
  ): Promise<Envelope> {
    const { namespace, method } = request.header;
    const host = this.address;
    const details = { host, namespace, method: String(method) };
    // One deadline for the whole exchange (connect, send, reply body), so a device trickling
    // bytes cannot outlast it; the caller's stop signal ends it the same way.
    let aborted = false;
    let req: ClientRequest | undefined;
    const abort = (): void => {
      aborted = true;
      req?.destroy(Object.assign(new Error("deadline"), { code: "ABORT_ERR" }));
    };
    const timer = setTimeout(abort, budgetMs);
    stop?.addEventListener("abort", abort, { once: true });
    let res: IncomingMessage | undefined;
    let text: string;
    try {
      if (stop?.aborted) {
        aborted = true;
        throw new Error("stopped before sending");
      }
      const sent = this.post(body, key, fresh);
      req = sent.req;
      res = await sent.response;
      const stream: Readable = res;
      try {
        const tooLarge = (): MerossError => new MerossError("BAD_RESPONSE", explain.badResponse(host, tooBig("cut off")), details);
        if (res.statusCode === 500) {
          if ((await readCapped(stream, tooLarge)).trim() === "") {
            // Some encrypted firmware answers plaintext this way (docs/protocol.md §4.2): kept apart so the
            // encryption layer can recognise it; to anyone else it is just a broken reply.
            const what = "HTTP status 500 with an empty body (encrypted firmware answers plaintext requests this way)";
            throw new MerossError("BAD_RESPONSE", explain.badResponse(host, what), { ...details, reason: EMPTY_500 });
          }
        }
        if (res.statusCode !== 200) {
          throw new MerossError("BAD_RESPONSE", explain.badResponse(host, `HTTP status ${res.statusCode ?? "missing"}`), details);
        }
        const encoding = String(res.headers["content-encoding"] ?? "identity")
          .trim()
          .toLowerCase();
        if (encoding !== "identity" && encoding !== "") {
          // We asked for identity; a compressed reply is not decoded (a bomb expands a thousandfold).
          const what = `a compressed reply (${describeValue(encoding, 40)}), which Meross devices never send`;
          throw new MerossError("BAD_RESPONSE", explain.badResponse(host, what), details);
        }
        const declared = Number(res.headers["content-length"]);
        if (Number.isFinite(declared) && declared > REPLY_MAX_BYTES) {
          throw new MerossError("BAD_RESPONSE", explain.badResponse(host, tooBig(`${declared} bytes announced`)), details);
        }
        text = await readCapped(stream, tooLarge);
      } finally {
        // Unread or cut off: the connection cannot carry another request. Read to the end: it can.
        if (!res.complete) req.destroy();
      }
    } catch (err) {
      // The caller gave up (its queue deadline passed): its reason says why, not a timeout of ours.
      if (stop?.aborted) throw abortError(stop, host, request);
      if (aborted && !(err instanceof MerossError)) {
        throw new MerossError("TIMEOUT", explain.timeout(host, String(method), namespace, timeoutMs), { ...details, reason: "deadline" });
      }
      const translated = this.translate(err, String(method), namespace);
      if (!fresh && res === undefined && req?.reusedSocket === true && isReset(err)) throw new StaleConnection(translated);
      throw translated;
    } finally {
      clearTimeout(timer);
      stop?.removeEventListener("abort", abort);
    }
    if (key) {
      try {
        return decodeEnvelopeText(text, key, this.address);
      } catch (err) {
        if (err instanceof MerossError) err.details.namespace ??= namespace;
        throw err;
      }
    }
    return parseEnvelopeText(text, this.address);
  }

  private translate(err: unknown, method: string, namespace: string): MerossError {
    const host = this.address;
    if (err instanceof MerossError) return err;
    const e = err as NodeJS.ErrnoException;
    const code = typeof e?.code === "string" ? e.code : "";
    const message = e instanceof Error ? e.message : String(err);
    if (isReset(err) || code === "ERR_BAD_RESPONSE" || code.startsWith("HPE_") || /Parse Error|aborted/i.test(message)) {
      // The device accepted the connection but hung up without a reply: it may be busy,
      // or (encrypted firmware) it dropped a request it could not read.
      return new MerossError("UNREACHABLE", explain.unreachable(host, "the device closed the connection without answering"), {
        host,
        namespace,
        method,
        reason: code || message,
        retryable: true,
      });
    }
    const reason =
      code === "ECONNREFUSED"
        ? "connection refused"
        : code === "ENOTFOUND" || code === "EAI_AGAIN"
          ? "host name not found"
          : code === "EHOSTUNREACH" || code === "ENETUNREACH"
            ? "no route to the device"
            : code || message || "unknown network error";
    return new MerossError("UNREACHABLE", explain.unreachable(host, reason), {
      host,
      namespace,
      method,
      reason: code,
      retryable: RETRYABLE.has(code),
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.freshAgent.destroy();
  }
}

/**
 * A request sent on a kept-alive connection that the device had closed meanwhile. Retrying it
 * once on a new connection is safe even for SET: firmware closes an idle connection without
 * reading what arrives on it, and the failure came before any byte of a reply (no status line;
 * a failure while reading the body is never retried). A failure on a new connection is never
 * treated so: there the device may have read the request and acted on it.
 */
class StaleConnection extends Error {
  constructor(readonly error: MerossError) {
    super(error.message);
  }
}

/** The connection was reset or closed under the request (no status line came back). */
function isReset(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | undefined;
  if (!(e instanceof Error) || err instanceof MerossError) return false;
  return e.code === "ECONNRESET" || e.code === "EPIPE" || /socket hang up/i.test(e.message);
}
