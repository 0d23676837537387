/** In-memory doubles for capability and session tests: no network, no Node-RED. */
import { buildMessage, type Envelope, type Method } from "../../../src/core/protocol/message";
import type { Abilities, DeviceSession, DeviceState, MutableDeviceState, Update, DeviceEvent } from "../../../src/core/capabilities/types";
import { applyDigest, parseSystemAll, type DeviceInfo } from "../../../src/core/capabilities/system";
import { composeCapabilities } from "../../../src/core/capabilities/registry";
import { transportEvents, type SendOptions, type Transport } from "../../../src/core/transport/types";

export interface Sent {
  method: string;
  namespace: string;
  payload: Record<string, unknown>;
}

/** A DeviceSession whose device answers with `answer` (default: an empty ACK). */
export class FakeSession implements DeviceSession {
  readonly address = "fake-device";
  readonly sent: Sent[] = [];
  readonly heard: DeviceEvent[] = [];
  private readonly s: MutableDeviceState = { toggles: new Map() };

  constructor(
    abilities: Abilities,
    private readonly answer: (req: Sent) => Record<string, unknown> = () => ({}),
  ) {
    this.s.abilities = abilities;
    this.s.info = { uuid: "u", mac: "", model: "fake", hardwareVersion: "", firmwareVersion: "", encryptFlag: false, legacy: false };
  }

  get state(): DeviceState {
    return this.s;
  }

  async request(method: Method, namespace: string, payload: Record<string, unknown> = {}): Promise<Envelope> {
    const req = { method: String(method), namespace, payload };
    this.sent.push(req);
    return { header: { messageId: "m", namespace, method: `${String(method)}ACK`, timestamp: 0, sign: "" }, payload: this.answer(req) };
  }

  async ready(): Promise<DeviceInfo> {
    return this.s.info as DeviceInfo;
  }

  /** Like the session's: System.All through `answer`, handed to every capability's digest hook. */
  async rereadDigest(): Promise<void> {
    const all = parseSystemAll((await this.request("GET", "Appliance.System.All", {})).payload);
    this.commit(applyDigest(all, composeCapabilities(this.s.abilities)));
  }

  /** Hands a System.All reply to the digest hooks, as the session's ready() does (sends nothing). */
  digest(payload: Record<string, unknown>): this {
    this.commit(applyDigest(parseSystemAll(payload), composeCapabilities(this.s.abilities)));
    return this;
  }

  has(ns: string): boolean {
    return !!this.s.abilities && ns in this.s.abilities;
  }

  commit(update: Update): void {
    this.heard.push(...update(this.s));
  }
}

/** A transport whose device is a function of the request; counts closes and can push. */
export class FakeTransport implements Transport {
  kind: "http" | "mqtt" = "mqtt";
  readonly address = "fake-transport";
  readonly events = transportEvents();
  closed = 0;
  readonly requests: Envelope[] = [];

  constructor(
    private readonly reply: (req: Envelope, opts: SendOptions) => Record<string, unknown>,
    readonly uuid?: string,
    private readonly key = "",
  ) {}

  async send(req: Envelope, opts: SendOptions = {}): Promise<Envelope> {
    this.requests.push(req);
    const { messageId, namespace, method } = req.header;
    const ack = method === "GET" ? "GETACK" : method === "SET" ? "SETACK" : String(method);
    const env = buildMessage({ method: ack as Method, namespace, payload: this.reply(req, opts), key: this.key, messageId });
    return env;
  }

  async close(): Promise<void> {
    this.closed++;
  }

  /** A PUSH signed with `key` (the device key, or a wrong one). */
  push(namespace: string, payload: Record<string, unknown>, key = this.key): void {
    this.events.emit("push", buildMessage({ method: "PUSH", namespace, payload, key }));
  }
}
