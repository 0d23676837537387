/**
 * The device's life on MQTT (docs/protocol.md §5): dial the gateway Config.Key gave it, send
 * Bind and Clock on connect, answer requests on the topic they name, and push state changes.
 * Every message it publishes is signed with the device's current key (docs/protocol.md §1.2).
 */
import { buildMessage, verifySign, type Envelope } from "../core/protocol/message";
import { isObject, toInt, type Json } from "../core/protocol/rules";
import type { SimPush } from "./capabilities/types";
import { TRIGGER_DEVICE, type SimBroker, type SimFirmware } from "./firmware";
import { DeviceMqttLink } from "./mqttlink";
import type { FirmwareQueue } from "./server";
import type { MqttState } from "./types";

const NS_BIND = "Appliance.Control.Bind";
const NS_CLOCK = "Appliance.System.Clock";

export interface SimMqttSessionOptions {
  reconnectMs: number;
  /** Where the connection comes from (SimulatorOptions.mqttLocalAddress). */
  localAddress?: string;
  /** Encrypt pushes with the static key (encrypted models with `mqttEncryption`). */
  encryptPushes: boolean;
  queue: FirmwareQueue;
}

export class SimMqttSession implements SimBroker {
  private link?: DeviceMqttLink;
  private _state: MqttState = "disabled";
  private _bound = false;
  private bindMessageId = "";
  private clockMessageId = "";

  constructor(
    private readonly fw: SimFirmware,
    private readonly opts: SimMqttSessionOptions,
  ) {}

  get state(): MqttState {
    return this._state;
  }

  /** True once the broker acknowledged this connection's Bind (docs/protocol.md §5.4). */
  get bound(): boolean {
    return this._bound;
  }

  private get requestTopic(): string {
    return `/appliance/${this.fw.uuid}/subscribe`;
  }

  private setState(state: MqttState): void {
    if (state !== "connected") this._bound = false;
    if (state === this._state) return;
    this._state = state;
    this.fw.emit("mqtt", { state });
  }

  start(): void {
    this.dropLink();
    const fw = this.fw;
    const gw = fw.setup.gateway;
    if (fw.stopped || fw.setup.mode !== "normal" || !gw || !gw.host || gw.port < 1 || gw.port > 65535) {
      this.setState("disabled");
      return;
    }
    this._bound = false;
    this.setState("connecting");
    const link: DeviceMqttLink = new DeviceMqttLink({
      host: gw.host,
      port: gw.port,
      uuid: fw.uuid,
      mac: fw.mac,
      key: fw.setup.key,
      userId: fw.setup.userId,
      reconnectMs: this.opts.reconnectMs,
      localAddress: this.opts.localAddress,
      onState: (state) => {
        if (this.link === link) this.setState(state);
      },
      onSession: () => {
        if (this.link === link) this.session(link);
      },
      onMessage: (text) => {
        if (this.link === link) this.onMessage(text);
      },
    });
    this.link = link;
  }

  stop(): void {
    this.dropLink();
    this.setState("disabled");
  }

  /** For the device's own stop(): waits until the client is closed. */
  async close(): Promise<void> {
    const link = this.link;
    this.link = undefined;
    await link?.close();
  }

  private dropLink(): void {
    const link = this.link;
    this.link = undefined;
    if (link) void link.close();
  }

  private message(method: "SET" | "PUSH", namespace: string, payload: Json, from: string, triggerSrc: string): Envelope {
    const now = this.fw.clock.seconds();
    return buildMessage({ method, namespace, payload, key: this.fw.setup.key, from, triggerSrc, uuid: this.fw.uuid, timestamp: now });
  }

  push(messages: SimPush[], triggerSrc: string): void {
    const link = this.link;
    if (!link || this._state !== "connected") return;
    const topic = this.fw.publishTopic;
    for (const m of messages) {
      const env = this.message("PUSH", m.namespace, m.payload, topic, triggerSrc);
      if (this.opts.encryptPushes) link.publishText(topic, this.fw.crypto.seal(JSON.stringify(env), this.fw.crypto.staticKey()));
      else link.publish(topic, env);
    }
  }

  /** What firmware sends right after subscribing: Bind SET, then its clock (docs/protocol.md §5.4). */
  private session(link: DeviceMqttLink): void {
    const fw = this.fw;
    const bindTime = fw.clock.seconds();
    const payload = { bind: { bindTime, time: fw.clock.payload(), hardware: fw.hardware(), firmware: fw.firmware() } };
    // [ML]'s device emulator sends its Bind from the subscribe topic, triggered by boot.
    const bind = this.message("SET", NS_BIND, payload, this.requestTopic, "DevBoot");
    this.bindMessageId = bind.header.messageId;
    link.publish(fw.publishTopic, bind);
    this.sendClock(link, "DevBoot");
  }

  private sendClock(link: DeviceMqttLink, triggerSrc: string): void {
    const clock = this.message("PUSH", NS_CLOCK, { clock: { timestamp: this.fw.clock.seconds() } }, this.fw.publishTopic, triggerSrc);
    this.clockMessageId = clock.header.messageId;
    link.publish(this.fw.publishTopic, clock);
  }

  private onMessage(text: string): void {
    const read = this.fw.crypto.read(text);
    if (read.kind !== "plain" && read.kind !== "encrypted") return;
    const env = read.envelope;
    const replyKey = read.kind === "encrypted" ? read.key : undefined;
    const h = env.header;
    const method = String(h.method);
    const id = String(h.messageId ?? "");
    // Replies to the device's own Bind and Clock are session bookkeeping, not requests to answer.
    if (h.namespace === NS_BIND && id !== "" && id === this.bindMessageId) {
      if (method === "SETACK" && verifySign({ messageId: id, timestamp: h.timestamp, sign: h.sign }, this.fw.setup.key)) {
        this._bound = true;
        this.fw.emit("bind", { messageId: id, method });
      }
      return;
    }
    if (h.namespace === NS_CLOCK && method === "PUSH") {
      this.onClockPush(env, id);
      return;
    }
    if (method !== "GET" && method !== "SET" && method !== "PUSH") return;
    this.opts.queue.enqueue(() => this.serve(env, replyKey));
  }

  /**
   * The broker answers the Clock push by echoing its header with the time (docs/protocol.md §3.8);
   * an empty Clock PUSH is [ML]'s way to ask the device to send its clock again.
   */
  private onClockPush(env: Envelope, id: string): void {
    const h = env.header;
    if (!verifySign({ messageId: id, timestamp: h.timestamp, sign: h.sign }, this.fw.setup.key)) return;
    const clock = isObject(env.payload.clock) ? env.payload.clock : {};
    const ts = toInt(clock.timestamp);
    if (ts !== undefined && ts > 0) {
      this.fw.clock.set(ts);
      this.fw.emit("clock", { timestamp: ts });
      return;
    }
    if (id !== this.clockMessageId && this.link) this.sendClock(this.link, TRIGGER_DEVICE);
  }

  /** `from` names the reply topic on MQTT; anything that is not a topic falls back to ours (docs/protocol.md §1.4). */
  private replyTopicFor(from: unknown): string {
    return typeof from === "string" && /^\/[^\s+#]{1,255}$/.test(from) ? from : this.fw.publishTopic;
  }

  private async serve(request: Envelope, replyKey?: string): Promise<void> {
    if (this.fw.stopped || !this.link) return;
    const handled = await this.fw.handle(request, "mqtt", replyKey !== undefined);
    if (!handled) return;
    const { info, reply, outcome } = handled;
    if (!outcome.drop) {
      const topic = this.replyTopicFor(request.header.from);
      if (replyKey) this.link?.publishText(topic, this.fw.crypto.seal(JSON.stringify(reply), replyKey));
      else this.link?.publish(topic, reply);
      this.fw.emit("reply", { ...info, replyMethod: outcome.method });
    }
    outcome.after?.();
  }
}
