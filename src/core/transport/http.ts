/**
 * HTTP transport: `POST http://<host>/config` with the JSON envelope (protocol.md §2).
 *
 * Why axios with `insecureHTTPParser`: many firmwares end header lines with LF only,
 * which Node's strict parser (and fetch/undici) rejects with HPE_CR_EXPECTED.
 * Why `Connection: close`: devices close after every reply anyway.
 *
 * Whatever answers at the device's address is not trusted: the body is read as a stream and
 * cut off past REPLY_MAX_BYTES, never decompressed (a gzip bomb stays a few KB), and the whole
 * exchange, body included, ends at one deadline, so a peer dripping bytes cannot hold it open.
 */
import axios, { AxiosError, type AxiosInstance } from "axios";
import http from "node:http";
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

/**
 * True when the device accepted the connection and closed it without a reply: what encrypted
 * firmware does with a request it cannot read (protocol.md §2.2, §4.2), so the caller may
 * retry encrypted. Not proof on its own: some firmware also drops unknown verbs (§1.3).
 */
export function isDroppedConnection(err: unknown): boolean {
  if (!(err instanceof MerossError) || err.code !== "UNREACHABLE") return false;
  const cause = err.details.cause;
  return typeof cause === "string" && (DROPPED.has(cause) || /socket hang up|Parse Error/i.test(cause));
}

/** Splits "host", "host:port", "[v6]:port" or "http://host:port/config" into a URL. */
export function deviceUrl(address: string): string {
  const a = address.trim();
  if (!a) throw new MerossError("BAD_INPUT", "The device address is empty. Enter the device's IP address or host name, optionally with :port.");
  if (/^https?:\/\//i.test(a)) {
    const u = new URL(a);
    if (u.pathname === "/" || u.pathname === "") u.pathname = "/config";
    return u.toString();
  }
  if (/[\s/?#@]/.test(a)) {
    throw new MerossError("BAD_INPUT", `"${a}" is not a device address. Use an IP address or host name, optionally with :port (for example 192.168.1.20 or 127.0.0.1:18080).`);
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
async function readCapped(stream: Readable, tooLarge: () => MerossError): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    total += buf.length;
    if (total > REPLY_MAX_BYTES) throw tooLarge();
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks, total).toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export class HttpTransport implements Transport {
  readonly kind = "http" as const;
  readonly address: string;
  /** Part of the contract; HTTP never pushes. */
  readonly events = transportEvents();
  private readonly url: string;
  private readonly client: AxiosInstance;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly agent = new http.Agent({ keepAlive: false });

  constructor(address: string, opts: HttpTransportOptions = {}) {
    this.address = address;
    this.url = deviceUrl(address);
    this.timeoutMs = opts.timeoutMs ?? HTTP_TIMEOUT_MS;
    this.retries = opts.retries ?? 2;
    this.retryDelayMs = opts.retryDelayMs ?? 150;
    this.client = axios.create({
      insecureHTTPParser: true,
      httpAgent: this.agent,
      proxy: false,
      // The body is read by us (readCapped) with a byte cap; axios' own maxContentLength is not
      // set because on a stream its error cannot be told apart from a connection dropped mid-reply.
      responseType: "stream",
      decompress: false,
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
      headers: { "Content-Type": "application/json", Accept: "application/json", "Accept-Encoding": "identity", Connection: "close" },
    });
  }

  async send(request: Envelope, opts: SendOptions = {}): Promise<Envelope> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const key = opts.encryptionKey;
    const body = key ? encodeEnvelope(request, key) : JSON.stringify(request);
    const retries = request.header.method === "GET" ? this.retries : 0;
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(body, request, Math.max(1, deadline - Date.now()), timeoutMs, key, opts.signal);
      } catch (err) {
        const retryable = err instanceof MerossError && err.code === "UNREACHABLE" && err.details.retryable;
        const wait = this.retryDelayMs * 2 ** attempt;
        if (!retryable || attempt >= retries || Date.now() + wait >= deadline || opts.signal?.aborted) throw err;
        await new Promise((r) => setTimeout(r, wait));
        if (opts.signal?.aborted) throw err;
      }
    }
  }

  private async once(
    body: string,
    request: Envelope,
    budgetMs: number,
    timeoutMs: number,
    key?: string,
    stop?: AbortSignal,
  ): Promise<Envelope> {
    const { namespace, method } = request.header;
    const host = this.address;
    const details = { host, namespace, method: String(method) };
    let text: string;
    try {
      // Encrypted bodies are base64 text; the official app labels them text/plain (ML#456, §2.1).
      const headers = key ? { "Content-Type": "text/plain", Accept: "*/*" } : undefined;
      // One deadline for the whole exchange (connect, send, reply body): axios' own `timeout`
      // only measures socket inactivity, so a device trickling bytes could outlast it. The
      // signal stays wired to the response stream until it ends, so it also cuts a slow body.
      const deadline = AbortSignal.timeout(budgetMs);
      const signal = stop ? AbortSignal.any([deadline, stop]) : deadline;
      const res = await this.client.post<Readable>(this.url, body, { signal, headers });
      const stream = res.data;
      try {
        if (res.status !== 200) {
          throw new MerossError("BAD_RESPONSE", explain.badResponse(host, `HTTP status ${res.status}`), details);
        }
        const encoding = String(res.headers["content-encoding"] ?? "identity").trim().toLowerCase();
        if (encoding !== "identity" && encoding !== "") {
          // We asked for identity; a compressed reply is not decoded (a bomb expands a thousandfold).
          const what = `a compressed reply (${describeValue(encoding, 40)}), which Meross devices never send`;
          throw new MerossError("BAD_RESPONSE", explain.badResponse(host, what), details);
        }
        const declared = Number(res.headers["content-length"]);
        if (Number.isFinite(declared) && declared > REPLY_MAX_BYTES) {
          throw new MerossError("BAD_RESPONSE", explain.badResponse(host, tooBig(`${declared} bytes announced`)), details);
        }
        text = await readCapped(stream, () => new MerossError("BAD_RESPONSE", explain.badResponse(host, tooBig("cut off")), details));
      } finally {
        stream.destroy();
      }
    } catch (err) {
      // The caller gave up (its queue deadline passed): its reason says why, not a timeout of ours.
      if (stop?.aborted) throw abortError(stop, host, request);
      throw this.translate(err, String(method), namespace, timeoutMs);
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

  private translate(err: unknown, method: string, namespace: string, timeoutMs: number): MerossError {
    const host = this.address;
    if (err instanceof MerossError) return err;
    const e = err as AxiosError & { code?: string };
    const code = e.code ?? "";
    if (code === "ERR_CANCELED" || e.name === "CanceledError" || code === "ECONNABORTED") {
      return new MerossError("TIMEOUT", explain.timeout(host, method, namespace, timeoutMs), { host, namespace, method, cause: code });
    }
    if (code === "ECONNRESET" || code === "EPIPE" || code === "ERR_BAD_RESPONSE" || /socket hang up|Parse Error/i.test(e.message)) {
      // The device accepted the connection but hung up without a reply: it may be busy,
      // or (encrypted firmware) it dropped a request it could not read.
      return new MerossError(
        "UNREACHABLE",
        explain.unreachable(host, "the device closed the connection without answering"),
        { host, namespace, method, cause: code || e.message, retryable: true },
      );
    }
    const reason =
      code === "ECONNREFUSED" ? "connection refused" :
      code === "ENOTFOUND" || code === "EAI_AGAIN" ? "host name not found" :
      code === "EHOSTUNREACH" || code === "ENETUNREACH" ? "no route to the device" :
      code || e.message || "unknown network error";
    return new MerossError("UNREACHABLE", explain.unreachable(host, reason), { host, namespace, method, cause: code, retryable: RETRYABLE.has(code) });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}
