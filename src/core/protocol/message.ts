/**
 * The Meross envelope: `{header, payload}` on every transport (docs/protocol.md §1).
 * Pure functions only, so tests and the simulator share exactly the same rules.
 */
import { createHash, randomUUID } from "node:crypto";
import { MerossError, explain, scrubSecrets, DEVICE_ERROR_SIGN, DEVICE_ERROR_UNSUPPORTED } from "../errors";
import { MAX_NESTING, describeValue, isObject, nestedDeeperThan } from "./rules";

export type RequestMethod = "GET" | "SET" | "PUSH";
export type ReplyMethod = "GETACK" | "SETACK" | "ERROR" | "PUSH";
/**
 * Only the removal of a TimerX/TriggerX entry uses DELETE (docs/protocol-devices.md §18.2 ⚠); it
 * is not a request method a flow may send, so REQUEST_METHODS leaves it out.
 */
export type Method = RequestMethod | ReplyMethod | "DELETE";

export const REQUEST_METHODS: readonly RequestMethod[] = ["GET", "SET", "PUSH"];

/** Which ACK a request expects (PUSH queries are answered with a PUSH). */
export const ACK_FOR: Record<RequestMethod, ReplyMethod> = { GET: "GETACK", SET: "SETACK", PUSH: "PUSH" };

export interface Header {
  messageId: string;
  namespace: string;
  method: Method | string;
  payloadVersion?: number;
  from?: string;
  timestamp: number;
  timestampMs?: number;
  sign: string;
  triggerSrc?: string;
  uuid?: string;
  [extra: string]: unknown;
}

export interface Envelope<P = Record<string, unknown>> {
  header: Header;
  payload: P;
}

export function md5Hex(input: string): string {
  return createHash("md5").update(input, "utf8").digest("hex");
}

/** sign = md5(messageId + key + timestamp) in lowercase hex, docs/protocol.md §1.2. */
export function computeSign(messageId: string, key: string, timestamp: number | string): string {
  return md5Hex(`${messageId}${key}${String(timestamp)}`);
}

/** A fresh 32-hex messageId; newer firmware refuses reused ids (docs/protocol.md §1.1). */
export function newMessageId(): string {
  // randomUUID draws from a pre-filled entropy cache: a fresh randomBytes() per request cost more
  // than the rest of the core put together (bench core-overhead). 122 random bits, 32 hex digits.
  return randomUUID().replace(/-/g, "");
}

/** Epoch seconds (never milliseconds: a known pitfall of other libraries). */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export interface BuildOptions {
  method: Method;
  namespace: string;
  payload?: Record<string, unknown>;
  key: string;
  from?: string;
  messageId?: string;
  timestamp?: number;
  triggerSrc?: string;
  uuid?: string;
}

export function buildMessage(opts: BuildOptions): Envelope {
  const messageId = opts.messageId ?? newMessageId();
  const timestamp = opts.timestamp ?? nowSeconds();
  const header: Header = {
    messageId,
    namespace: opts.namespace,
    method: opts.method,
    payloadVersion: 1,
    from: opts.from ?? "MerossLocal",
    timestamp,
    timestampMs: Date.now() % 1000,
    sign: computeSign(messageId, opts.key, timestamp),
  };
  if (opts.triggerSrc) header.triggerSrc = opts.triggerSrc;
  if (opts.uuid) header.uuid = opts.uuid;
  return { header, payload: opts.payload ?? {} };
}

/**
 * True when the header's sign matches `key`. The header may come from a hostile peer: a
 * messageId or timestamp that is not a string/number never verifies (and is never hashed).
 */
export function verifySign(header: Pick<Header, "messageId" | "timestamp" | "sign">, key: string): boolean {
  const { messageId, timestamp, sign } = header as { messageId: unknown; timestamp: unknown; sign: unknown };
  if (typeof sign !== "string" || sign.length !== 32 || typeof messageId !== "string") return false;
  if (typeof timestamp !== "number" && typeof timestamp !== "string") return false;
  return sign.toLowerCase() === computeSign(messageId, key, timestamp);
}

/**
 * Checks that `value` is a well-formed envelope. Hostile or broken input never throws
 * anything but a MerossError BAD_RESPONSE.
 */
export function asEnvelope(value: unknown, host: string): Envelope {
  // Checked first, and the value is not kept: printing it would overflow the stack.
  if (nestedDeeperThan(value)) {
    throw new MerossError("BAD_RESPONSE", explain.badResponse(host, `the reply is nested more than ${MAX_NESTING} levels deep`), { host });
  }
  if (!isObject(value) || !isObject(value.header)) {
    throw new MerossError("BAD_RESPONSE", explain.badResponse(host, "no header in the reply"), { host, reply: value });
  }
  const h = value.header;
  if (typeof h.messageId !== "string" || typeof h.method !== "string" || typeof h.namespace !== "string") {
    throw new MerossError("BAD_RESPONSE", explain.badResponse(host, "the reply header lacks messageId, method or namespace"), {
      host,
      reply: value,
    });
  }
  const payload = value.payload === undefined ? {} : value.payload;
  if (!isObject(payload)) {
    throw new MerossError("BAD_RESPONSE", explain.badResponse(host, "the reply payload is not an object"), { host, reply: value });
  }
  return { header: h as unknown as Header, payload };
}

/**
 * A reply cut at the device's buffer (docs/protocol.md §2.2, protocol-devices.md §14.5): an
 * envelope of buffer size whose JSON is valid up to its last byte, so the parser fails only at the
 * very end (garbage in the middle fails earlier and is a plain bad reply).
 */
/** Device reply buffers hold 2,048 to 4,096 bytes (docs/protocol.md §2.2): a shorter cut is just a broken reply. */
const SMALLEST_BUFFER = 1024;

function cutOff(text: string, err: unknown): boolean {
  if (!text.startsWith("{") || Buffer.byteLength(text) < SMALLEST_BUFFER) return false;
  const msg = err instanceof Error ? err.message : "";
  if (/end of (JSON )?input|Unterminated string/i.test(msg)) return true;
  const at = /position (\d+)/.exec(msg);
  return at !== null && Number(at[1]) >= text.length - 1;
}

/** Parses reply text; truncated or invalid JSON becomes BAD_RESPONSE (with `truncated` when cut at the end). */
export function parseEnvelopeText(text: string, host: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (cutOff(text, err))
      throw new MerossError("BAD_RESPONSE", explain.truncated(host, Buffer.byteLength(text)), { host, truncated: true });
    const what = text.length === 0 ? "an empty reply" : `invalid or truncated JSON, ${text.length} bytes`;
    throw new MerossError("BAD_RESPONSE", explain.badResponse(host, what), { host });
  }
  return asEnvelope(value, host);
}

/**
 * Matches a reply to its request and turns device errors into MerossErrors:
 * wrong messageId → BAD_RESPONSE, reply not signed with one of `keys` → BAD_RESPONSE,
 * ERROR 5001 → WRONG_KEY, 5000 → UNSUPPORTED, any other ERROR → DEVICE_ERROR,
 * an unexpected method → BAD_RESPONSE.
 */
export interface CheckOptions {
  /** Keys the reply may be signed with (the session's; also the new one after Config.Key). Unset: not checked. */
  keys?: readonly string[];
}

/** Error code of an ERROR reply, NaN when it has none. */
function deviceErrorCode(reply: Envelope): number {
  const err = isObject(reply.payload.error) ? reply.payload.error : {};
  return typeof err.code === "number" ? err.code : Number(err.code);
}

/**
 * The text values of a request payload (base64 SSID and Wi-Fi password, WifiX cipher, key),
 * and what a base64 one decodes to: a device may echo them back in an ERROR, never to be shown.
 */
function echoable(payload: unknown): string[] {
  const out: string[] = [];
  const stack: unknown[] = [payload];
  while (stack.length > 0 && out.length < 64) {
    const v = stack.pop();
    if (typeof v === "string" && v.length >= 6) {
      out.push(v);
      if (/^[A-Za-z0-9+/]+={0,2}$/.test(v)) {
        const text = Buffer.from(v, "base64").toString("utf8");
        // Only text that decodes cleanly (no replacement character, nothing below a space) is a form worth hiding.
        if (text.length >= 3 && ![...text].some((c) => c === "\ufffd" || c < " ")) out.push(text);
      }
    } else if (typeof v === "object" && v !== null) stack.push(...Object.values(v));
  }
  return out;
}

export function checkReply(request: Envelope, reply: Envelope, host: string, opts: CheckOptions = {}): Envelope {
  const rq = request.header;
  const echo = echoable(request.payload);
  const rp = reply.header;
  const base = { host, namespace: rq.namespace, method: String(rq.method), reply };
  if (rp.messageId !== rq.messageId) {
    throw new MerossError("BAD_RESPONSE", explain.badResponse(host, "the reply belongs to another request (messageId differs)"), base);
  }
  const isError = rp.method === "ERROR";
  const code = isError ? deviceErrorCode(reply) : NaN;
  // A 5001 reply is signed with the device's real key, the one we lack (docs/protocol.md §1.3),
  // so it cannot verify: it stays WRONG_KEY, which is what the person must fix.
  if (opts.keys && code !== DEVICE_ERROR_SIGN && !opts.keys.some((k) => verifySign(rp, k))) {
    const why = typeof rp.sign === "string" && rp.sign !== "" ? `sign ${describeValue(fromDevice(rp.sign, echo), 40)}` : "no sign";
    throw new MerossError("BAD_RESPONSE", explain.unsigned(host, why), { ...base, unsigned: true });
  }
  if (isError) {
    const err = isObject(reply.payload.error) ? reply.payload.error : {};
    if (code === DEVICE_ERROR_SIGN) {
      throw new MerossError("WRONG_KEY", explain.wrongKey(host), { ...base, deviceCode: code });
    }
    if (code === DEVICE_ERROR_UNSUPPORTED) {
      throw new MerossError(
        "UNSUPPORTED",
        explain.unsupported(host, String(rq.method), rq.namespace, "the device answered that it does not know this command"),
        {
          ...base,
          deviceCode: code,
        },
      );
    }
    throw new MerossError("DEVICE_ERROR", explain.deviceError(host, String(rq.method), rq.namespace, fromDevice(err.detail, echo)), {
      ...base,
      deviceCode: Number.isFinite(code) ? code : undefined,
    });
  }
  const expected = (REQUEST_METHODS as readonly string[]).includes(String(rq.method)) ? ACK_FOR[rq.method as RequestMethod] : undefined;
  if (expected && rp.method !== expected) {
    throw new MerossError(
      "BAD_RESPONSE",
      explain.badResponse(host, `expected ${expected} but got ${describeValue(fromDevice(rp.method, echo), 40)}`),
      base,
    );
  }
  return reply;
}

/** What the device wrote, without anything of our request it may repeat. */
function fromDevice(v: unknown, echo: readonly string[]): unknown {
  return typeof v === "string" ? scrubSecrets(v, echo) : v;
}

/**
 * The payload key a GET uses for a namespace: last segment, first letter lower-cased,
 * trailing "X" lower-cased (ToggleX → togglex), with the exceptions of docs/protocol.md §6.1.
 */
export function payloadKeyFor(namespace: string): string {
  const special: Record<string, string> = {
    "Appliance.System.DNDMode": "DNDMode",
    "Appliance.Control.ConsumptionConfig": "config",
    "Appliance.Config.WifiList": "wifiList",
    "Appliance.Control.ConsumptionH": "consumptionH",
    "Appliance.System.All": "all",
    "Appliance.System.Ability": "ability",
  };
  if (special[namespace]) return special[namespace];
  const last = namespace.split(".").pop() ?? namespace;
  let key = last.charAt(0).toLowerCase() + last.slice(1);
  if (key.endsWith("X")) key = key.slice(0, -1) + "x";
  return key;
}
