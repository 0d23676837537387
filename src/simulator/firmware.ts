/**
 * The firmware core of a simulated device: identity, setup, clock and switches, the capabilities
 * composed from the model, and how one request becomes one signed reply. Transports (server.ts,
 * mqttsession.ts) feed it requests; it never touches a socket.
 */
import { computeSign, verifySign, type Envelope, type Header } from "../core/protocol/message";
import type { Json } from "../core/protocol/rules";
import { CapabilitySet } from "./capabilities/registry";
import { REBOOT_MS, unsupported, type Outcome, type SimContext, type SimPush } from "./capabilities/types";
import { SimCrypto } from "./crypto";
import type { DeviceModel } from "./models";
import { SimClock, SimSwitches, defaultNetworks, type SimSetup } from "./state";
import type { DeviceSnapshot, MqttState, PlaintextRefusal, RequestEvent, SimDeviceState, SimEmit, SimulatorQuirks } from "./types";

/** What [ML]'s device emulator puts on its own pushes; real firmware values for LAN/cloud origins are unknown. */
export const TRIGGER_DEVICE = "Device";
/** Spelled this way by real firmware on a button press (homebridge-meross#336, docs/protocol.md §1.1). */
export const TRIGGER_PHYSICAL = "DevicePysical";

/** The device's way to its broker; mqttsession.ts implements it. */
export interface SimBroker {
  readonly state: MqttState;
  /** (Re)dials with the current setup; disabled without a gateway or in pairing mode. */
  start(): void;
  stop(): void;
  push(messages: SimPush[], triggerSrc: string): void;
}

export interface SimFirmwareOptions {
  model: DeviceModel;
  host: string;
  name: string;
  configured: boolean;
  key: string;
  userId: string;
  quirks: Required<SimulatorQuirks>;
  emit: SimEmit;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class SimFirmware implements SimContext {
  readonly model: DeviceModel;
  readonly host: string;
  readonly name: string;
  readonly setup: SimSetup;
  readonly clock: SimClock;
  readonly switches: SimSwitches;
  readonly crypto: SimCrypto;
  readonly emit: SimEmit;
  readonly capabilities: CapabilitySet;
  broker?: SimBroker;
  uuid = "";
  mac = "";
  port = 0;
  /** Requests handled (benchmarks count device round trips with it). */
  requestCount = 0;
  stopped = false;
  rebooting = false;
  private readonly quirks: Required<SimulatorQuirks>;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(opts: SimFirmwareOptions) {
    this.model = opts.model;
    this.host = opts.host;
    this.name = opts.name;
    this.quirks = opts.quirks;
    this.emit = opts.emit;
    this.setup = { mode: opts.configured ? "normal" : "ap", key: opts.key, userId: opts.userId, networks: defaultNetworks() };
    if (opts.configured) this.setup.joined = this.setup.networks[0];
    // Out-of-the-box devices have no NTP yet and report seconds since boot (docs/protocol.md §1.1).
    this.clock = new SimClock(opts.configured);
    this.switches = new SimSwitches(opts.model.channels, this.clock);
    this.crypto = new SimCrypto(this, opts.model.encrypted, opts.model.ecdhe);
    this.capabilities = new CapabilitySet(opts.model, this);
  }

  /** The identity is fixed once the port is known (it may be derived from it). */
  boot(uuid: string, mac: string, port: number): void {
    this.uuid = uuid;
    this.mac = mac;
    this.port = port;
    this.capabilities.boot();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** How this firmware answers a plaintext request it refuses (docs/protocol.md §4.2). */
  get plaintextRefusal(): PlaintextRefusal {
    return this.quirks.refusePlaintext;
  }

  get publishTopic(): string {
    return `/appliance/${this.uuid}/publish`;
  }

  hardware(): Json {
    const m = this.model;
    const hw = { type: m.type, subType: m.subType ?? "un", version: m.hardwareVersion, chipType: m.chip };
    return { ...hw, uuid: this.uuid, macAddress: this.mac };
  }

  firmware(): Json {
    const { gateway, joined, userId } = this.setup;
    const fw: Json = { version: this.model.firmwareVersion, compileTime: this.model.compileTime ?? "" };
    // firmware.encrypt: 1 goes with WifiX in the traces (docs/protocol.md §4.5).
    if ("Appliance.Config.WifiX" in this.model.ability) fw.encrypt = 1;
    return Object.assign(fw, {
      wifiMac: joined?.bssid ?? "",
      innerIp: this.host,
      server: gateway?.host ?? "",
      port: gateway?.port ?? 0,
      secondServer: gateway?.secondHost ?? "",
      secondPort: gateway?.secondPort ?? 0,
      userId: /^\d+$/.test(userId) ? Number(userId) : userId,
    });
  }

  systemAll(): Json {
    return this.capabilities.all();
  }

  changed(triggerSrc: string = TRIGGER_DEVICE): void {
    // Like firmware, whatever caused the change, the broker hears about it.
    const pushes = this.capabilities.pushes();
    if (pushes.length > 0 && this.setup.mode === "normal") this.broker?.push(pushes, triggerSrc);
    this.emit("change", this.snapshot());
  }

  later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  reboot(then: () => void): void {
    this.rebooting = true;
    this.crypto.forgetSession();
    this.later(() => {
      this.rebooting = false;
      then();
    }, REBOOT_MS);
  }

  connectBroker(): void {
    this.broker?.start();
  }

  factoryReset(): void {
    this.broker?.stop();
    this.crypto.forgetSession();
    Object.assign(this.setup, { mode: "ap", key: "", userId: "", gateway: undefined, joined: undefined });
    this.emit("reboot", { mode: "ap", reason: "unbind" });
    this.changed();
  }

  /** Reply header: signed with the key as it is once the handler ran (docs/protocol.md §1.2). */
  envelope(req: Header, method: string, payload: Json): Envelope {
    const messageId = String(req.messageId ?? "");
    const timestamp = this.clock.seconds();
    const sign = computeSign(messageId, this.setup.key, timestamp);
    const header = { messageId, namespace: req.namespace, method, payloadVersion: 1, from: this.publishTopic, uuid: this.uuid, timestamp };
    return { header: { ...header, timestampMs: Date.now() % 1000, sign }, payload };
  }

  process(request: Envelope, inner: boolean): { reply: Envelope; outcome: Outcome } {
    let outcome: Outcome;
    const h = request.header;
    const signed = verifySign({ messageId: String(h.messageId ?? ""), timestamp: h.timestamp, sign: h.sign }, this.setup.key);
    if (!inner && this.setup.mode === "normal" && !signed) {
      outcome = { method: "ERROR", payload: { error: { code: 5001, detail: "sign error" } } };
    } else {
      const req = { header: h, method: String(h.method), namespace: h.namespace, payload: request.payload, inner };
      try {
        outcome = this.capabilities.handlerFor(h.namespace)?.handle(req) ?? unsupported();
      } catch {
        outcome = unsupported();
      }
    }
    // Built after the handler ran, so a Config.Key SETACK is signed with the new key.
    return { reply: this.envelope(h, outcome.method, outcome.payload), outcome };
  }

  /**
   * What firmware does with a request whichever way it came: count it, spend its processing
   * time, then apply it. Undefined when the device stopped meanwhile.
   */
  async handle(request: Envelope, via: "http" | "mqtt", encrypted: boolean) {
    const h = request.header;
    const info: RequestEvent = { method: String(h.method), namespace: h.namespace, messageId: String(h.messageId ?? ""), via, encrypted };
    this.requestCount += 1;
    this.emit("request", info);
    if (this.quirks.processingMs > 0) await sleep(this.quirks.processingMs);
    if (this.stopped) return undefined;
    return { info, ...this.process(request, false) };
  }

  /** A copy of the current state; capabilities add their parts (electricity is read now). */
  state(): SimDeviceState {
    const out: SimDeviceState = { channels: this.switches.all(), dndMode: 0 };
    for (const c of this.capabilities.list) c.state?.(out);
    return out;
  }

  snapshot(): DeviceSnapshot {
    const snap: DeviceSnapshot = {
      uuid: this.uuid,
      name: this.name,
      model: this.model.name,
      type: this.model.type,
      description: this.model.description,
      mode: this.setup.mode,
      ip: this.host,
      port: this.port,
      address: `${this.host}:${this.port}`,
      channels: this.switches.all().map((c) => ({ channel: c.channel, on: c.on })),
      mqtt: this.broker?.state ?? "disabled",
    };
    for (const c of this.capabilities.list) c.snapshot?.(snap);
    if (this.setup.joined) snap.wifi = this.setup.joined.ssid;
    return snap;
  }
}
