/** Small clients for the simulator tests: node:http with the lenient parser, and raw TCP. */
import { request } from "node:http";
import { connect } from "node:net";
import { buildMessage, type Envelope, type Method } from "../../src/core/protocol/message";
import type { SimulatedDevice } from "../../src/simulator/device";

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export function postRaw(port: number, body: string, path = "/config", method = "POST"): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method,
        insecureHTTPParser: true,
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export function msg(namespace: string, method: Method, payload: Record<string, unknown>, key: string): Envelope {
  return buildMessage({ namespace, method, payload, key, from: "http://127.0.0.1/config" });
}

/** Sends one envelope and parses the JSON reply. */
export async function send(
  dev: SimulatedDevice,
  namespace: string,
  method: Method,
  payload: Record<string, unknown> = {},
  key = dev.key,
): Promise<Envelope> {
  const res = await postRaw(dev.port, JSON.stringify(msg(namespace, method, payload, key)));
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return JSON.parse(res.text) as Envelope;
}

/** Writes bytes on a fresh TCP connection and collects everything until the server closes. */
export function rawExchange(port: number, data: string | Buffer, opts: { halfClose?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect(port, "127.0.0.1", () => {
      s.write(data);
      if (opts.halfClose) s.end();
    });
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("close", () => resolve(Buffer.concat(chunks)));
    s.on("error", reject);
  });
}

export function httpRequestText(body: string, path = "/config"): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

export function once<T>(emitter: SimulatedDevice, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (v: T) => resolve(v)));
}

/** What the status page's own script sends with each POST. */
export const SIM_HEADERS: Readonly<Record<string, string>> = { "X-Meross-Simulator": "1" };

/** POST to a status-page route (with the page's header unless told otherwise); the JSON answer. */
export function post(
  url: string,
  headers: Record<string, string> = SIM_HEADERS,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Polls `cond` every 10 ms until it holds (8 s at most). */
export function until(cond: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) return resolve();
      if (Date.now() - t0 > 8000) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}
