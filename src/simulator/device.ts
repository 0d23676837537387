/**
 * A simulated Meross device: the composition of a firmware core (firmware.ts) holding the
 * capabilities of its model, an HTTP server (server.ts) feeding httpendpoint.ts, an MQTT session
 * (mqttsession.ts), LAN encryption (crypto.ts) and fault injection (faults.ts). It answers the
 * local protocol the way real firmware does (docs/protocol.md), rough edges included: LF-only header lines, one
 * request at a time, connection closed after each reply, ERROR 5001 signed with the real key,
 * access-point mode that accepts any signature.
 */
import { EventEmitter } from "node:events";
import { MerossError } from "../core/errors";
import { ElectricityCapability } from "./capabilities/electricity";
import { ConfigCapability } from "./capabilities/config";
import { LightCapability } from "./capabilities/light";
import { ScheduleCapability } from "./capabilities/schedule";
import { GarageCapability } from "./capabilities/garage";
import { HubCapability, type SubType } from "./capabilities/hub";
import { ThermostatCapability } from "./capabilities/thermostat";
import { FaultInjector } from "./faults";
import { SimFirmware, TRIGGER_PHYSICAL } from "./firmware";
import { deriveIdentity } from "./identity";
import { MODELS, type DeviceModel } from "./models";
import { SimMqttSession } from "./mqttsession";
import { serveHttp } from "./httpendpoint";
import { FirmwareQueue, SimHttpServer } from "./server";
import type {
  DeviceSnapshot,
  Fault,
  Gateway,
  LightChange,
  MqttState,
  SimDeviceState,
  SimEventMap,
  SimulatorOptions,
  SimulatorQuirks,
  WifiNetwork,
} from "./types";

export type {
  SimulatorQuirks,
  PlaintextRefusal,
  SimulatorOptions,
  Fault,
  WifiNetwork,
  WifiConfigEvent,
  RebootEvent,
  RequestEvent,
  ReplyEvent,
  MqttState,
  MqttStateEvent,
  BindAckEvent,
  ClockEvent,
  DroppedEvent,
  EcdheEvent,
  Gateway,
  SimChannelState,
  SimLightState,
  SimElectricityReading,
  SimCoverState,
  SimDeviceState,
  DeviceSnapshot,
  LightChange,
} from "./types";

const MQTT_RECONNECT_MS = 5000;
/** The cloud broker an app-paired device points at (a Meross regional host name, port 443). */
export const APP_BROKER = { host: "mqtt-eu-3.meross.com", port: 443 };
/** A Meross account userId as the app stores it (a decimal number). */
const APP_USER_ID = "2487453";

function validate(opts: SimulatorOptions): DeviceModel {
  const modelName = opts.model ?? "msl120";
  const model = Object.prototype.hasOwnProperty.call(MODELS, modelName) ? MODELS[modelName] : undefined;
  if (!model) {
    throw new MerossError("BAD_INPUT", `Unknown simulator model "${modelName}". Choose one of: ${Object.keys(MODELS).join(", ")}.`);
  }
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)) {
    throw new MerossError("BAD_INPUT", `Simulator port ${String(opts.port)} is not a valid TCP port: use 0 (any free port) or 1-65535.`);
  }
  const gw = opts.gateway;
  const badPort = (p: unknown): boolean => !Number.isInteger(p) || (p as number) < 1 || (p as number) > 65535;
  if (gw !== undefined && (typeof gw?.host !== "string" || !gw.host.trim() || badPort(gw.port))) {
    const example = '{ host: "127.0.0.1", port: 8883 }';
    throw new MerossError("BAD_INPUT", `The simulator gateway needs a broker host and a port 1-65535, e.g. ${example}.`);
  }
  const reconnect = opts.mqttReconnectMs;
  if (reconnect !== undefined && (!Number.isFinite(reconnect) || reconnect < 10)) {
    const why = `mqttReconnectMs ${String(reconnect)} is too small`;
    throw new MerossError("BAD_INPUT", `${why}: use at least 10 (ms); real firmware waits seconds.`);
  }
  return model;
}

/**
 * One virtual device. Start it with `SimulatedDevice.start()`, talk to `url` with any HTTP
 * client that tolerates LF-only headers (`insecureHTTPParser`), drive its "physical" button
 * with `press()`, and watch `change`, `request`, `reply`, `wifi` and `reboot` events. Once it
 * has a gateway in normal mode it also lives on MQTT like firmware: events `mqtt`, `bind`, `clock`.
 */
export class SimulatedDevice extends EventEmitter {
  readonly model: DeviceModel;
  readonly host: string;
  readonly name: string;
  private readonly fw: SimFirmware;
  private readonly queue: FirmwareQueue;
  private readonly server: SimHttpServer;
  private readonly mqtt: SimMqttSession;
  private readonly faults = new FaultInjector();

  private constructor(opts: SimulatorOptions, model: DeviceModel) {
    super();
    this.model = model;
    this.host = opts.host ?? "127.0.0.1";
    this.name = opts.name ?? model.name;
    const quirks: Required<SimulatorQuirks> = {
      lfOnly: opts.quirks?.lfOnly ?? true,
      closeAfterReply: opts.quirks?.closeAfterReply ?? true,
      oneAtATime: opts.quirks?.oneAtATime ?? true,
      processingMs: opts.quirks?.processingMs ?? 0,
      refusePlaintext: opts.quirks?.refusePlaintext ?? model.refusePlaintext ?? "drop",
    };
    const configured = !opts.unconfigured;
    this.fw = new SimFirmware({
      model,
      host: this.host,
      name: this.name,
      configured,
      key: configured ? (opts.key ?? "") : "",
      userId: opts.userId ?? (configured ? (opts.appPaired ? APP_USER_ID : "1") : ""),
      quirks,
      emit: <K extends keyof SimEventMap>(event: K, payload: SimEventMap[K]) => this.emit(event, payload),
    });
    this.queue = new FirmwareQueue(quirks.oneAtATime, () => this.fw.stopped);
    this.server = new SimHttpServer({
      quirks,
      queue: this.queue,
      accepting: () => !this.fw.rebooting,
      serve: (ex) => serveHttp(this.fw, this.faults, ex),
    });
    this.mqtt = new SimMqttSession(this.fw, {
      reconnectMs: opts.mqttReconnectMs ?? MQTT_RECONNECT_MS,
      localAddress: opts.mqttLocalAddress,
      encryptPushes: opts.mqttEncryption === true && model.encrypted,
      queue: this.queue,
    });
    this.fw.broker = this.mqtt;
  }

  /** Starts listening; resolves once the port is bound and the identity is fixed. */
  static async start(opts: SimulatorOptions = {}): Promise<SimulatedDevice> {
    const model = validate(opts);
    const dev = new SimulatedDevice(opts, model);
    const port = await dev.server.listen(dev.host, opts.port ?? 0);
    const id = deriveIdentity(opts.seed ?? `${model.name}:${port}`, opts.uuid, opts.mac);
    dev.fw.boot(id.uuid, id.mac, port);
    const gw = opts.gateway;
    if (opts.appPaired && dev.fw.setup.mode === "normal") {
      // Where the app leaves a device; never dialled here (the simulator stays on this machine).
      dev.fw.setup.gateway = { host: APP_BROKER.host, port: APP_BROKER.port, secondHost: APP_BROKER.host, secondPort: APP_BROKER.port };
    } else if (gw && dev.fw.setup.mode === "normal") {
      dev.fw.setup.gateway = { host: gw.host.trim(), port: gw.port, secondHost: "", secondPort: 0 };
      dev.mqtt.start();
    }
    return dev;
  }

  get uuid(): string {
    return this.fw.uuid;
  }
  get mac(): string {
    return this.fw.mac;
  }
  get port(): number {
    return this.fw.port;
  }
  get url(): string {
    return `http://${this.host}:${this.port}/config`;
  }
  get address(): string {
    return `${this.host}:${this.port}`;
  }
  get mode(): "ap" | "normal" {
    return this.fw.setup.mode;
  }
  /** The key replies and pushes are signed with (and, in normal mode, requests must be signed with). */
  get key(): string {
    return this.fw.setup.key;
  }
  get userId(): string {
    return this.fw.setup.userId;
  }
  get gateway(): Gateway | undefined {
    const gw = this.fw.setup.gateway;
    return gw ? { ...gw } : undefined;
  }
  /** "disabled" without a gateway or in access-point mode; "refused" when the broker rejects the key. */
  get mqttState(): MqttState {
    return this.mqtt.state;
  }
  /** True once the broker acknowledged this connection's Bind (docs/protocol.md §5.4). */
  get mqttBound(): boolean {
    return this.mqtt.bound;
  }
  /** The network joined after onboarding, if any. */
  get wifi(): WifiNetwork | undefined {
    const joined = this.fw.setup.joined;
    return joined ? { ...joined } : undefined;
  }
  /** Scan results for Config.WifiList; tests may replace or edit them. */
  get networks(): WifiNetwork[] {
    return this.fw.setup.networks;
  }
  set networks(list: WifiNetwork[]) {
    this.fw.setup.networks = list;
  }
  /** TCP connections accepted on the HTTP port (keep-alive tests count them). */
  get connectionCount(): number {
    return this.server.connections;
  }
  /** Requests handled by the firmware (benchmarks count device round trips with it). */
  get requestCount(): number {
    return this.fw.requestCount;
  }
  set requestCount(n: number) {
    this.fw.requestCount = n;
  }
  /** Namespaces this device answers: its ability list, as far as its capabilities cover it. */
  get namespaces(): string[] {
    return this.fw.capabilities.namespaces;
  }

  /** A copy of the current state; electricity is read at call time. */
  get state(): SimDeviceState {
    return this.fw.state();
  }

  async stop(): Promise<void> {
    if (this.fw.stopped) return;
    this.fw.stop();
    this.queue.clear();
    await Promise.all([this.server.close(), this.mqtt.close()]);
  }

  /**
   * The physical button: toggles one channel (the bulb itself for lights); on a garage opener
   * it starts or stops the door, on a roller shutter `action` is "open", "close" or "stop".
   */
  press(channel = 0, action?: string): void {
    for (const c of this.fw.capabilities.list) if (c.press?.(channel, action)) return;
    this.assertChannel(channel);
    this.fw.switches.set(channel, !this.fw.switches.get(channel).on);
    this.fw.changed(TRIGGER_PHYSICAL);
  }

  /**
   * Holding the button for about 5 s: a factory reset. The device forgets its key, user, broker
   * and Wi-Fi and is back in access-point mode. (Bulbs also reset after about five quick power
   * cycles; the simulator has no mains power to switch, so the long press is its one way.)
   */
  longPress(): void {
    this.fw.factoryReset();
  }

  /** Full travel time of doors and shutters in ms (default 15 s for doors, Config for shutters). */
  setCoverTravel(ms: number): void {
    if (!Number.isFinite(ms) || ms < 10) {
      throw new MerossError("BAD_INPUT", `Travel time ${String(ms)} is too short: use at least 10 (ms).`);
    }
    const covers = this.fw.capabilities.list.filter((c) => c.setTravelMs);
    if (covers.length === 0) throw new MerossError("BAD_INPUT", `The simulated ${this.model.name} has no door or shutter.`);
    for (const c of covers) c.setTravelMs?.(ms);
  }

  /**
   * Opt-in msg200 quirk (ML#428, docs/protocol-devices.md §11.2): every `everyMs` the opener pushes a bogus
   * channel-0 State item. 0 stops it.
   */
  setGarageGlitch(everyMs: number): void {
    const garage = this.fw.capabilities.find(GarageCapability);
    if (!garage) throw new MerossError("BAD_INPUT", `The simulated ${this.model.name} is not a garage door opener.`);
    garage.setGlitch(everyMs);
  }

  /** Switches a channel as the app or a wall switch would. */
  setOnOff(on: boolean, channel = 0): void {
    this.assertChannel(channel);
    this.fw.switches.set(channel, on);
    this.fw.changed();
  }

  /**
   * Skips the device clock `seconds` forward at once: timers and auto-off triggers due meanwhile
   * run (and push) as they would have, so tests need not wait.
   */
  advanceClock(seconds: number): void {
    this.fw.clock.advance(seconds);
  }

  /** Sets the device clock (epoch seconds), as System.Time or NTP would: nothing skipped is run. */
  setClock(timestamp: number): void {
    this.fw.clock.set(timestamp);
  }

  /** Copies of the timers and triggers the device holds, as stored (docs/protocol-devices.md §18). */
  get schedules(): { timers: Record<string, unknown>[]; triggers: Record<string, unknown>[] } {
    return this.fw.capabilities.find(ScheduleCapability)?.entries() ?? { timers: [], triggers: [] };
  }

  /** Changes the light as the Meross app would; rgb switches to colour mode, temperature to white. */
  setLight(change: LightChange): void {
    const light = this.fw.capabilities.find(LightCapability);
    if (!light) throw new MerossError("BAD_INPUT", `The simulated ${this.model.name} is not a light, so setLight() does not apply to it.`);
    light.set(change);
  }

  /**
   * Injects a network or firmware fault into the next `count` requests (all, until cleared,
   * by default). `null` clears it.
   */
  setFault(fault: Fault | null, opts: { count?: number } = {}): void {
    this.faults.set(fault, opts);
  }

  /**
   * Makes a Config.Wifi(X) for `ssid` with any other password fail like a real join with a
   * wrong password: the device reboots back into access-point mode.
   */
  expectWifiPassword(ssid: string, password: string): void {
    this.fw.capabilities.find(ConfigCapability)?.expectWifiPassword(ssid, password);
  }

  snapshot(): DeviceSnapshot {
    return this.fw.snapshot();
  }

  /**
   * Moves the device's clock `seconds` ahead as if that time had passed: energy counters fill the
   * days in and roll over at local midnight. Real time keeps running on top of it.
   */
  advanceTime(seconds: number): void {
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0 || seconds > 400 * 86_400) {
      const range = `between 1 and ${400 * 86_400}`;
      throw new MerossError("BAD_INPUT", `Advance the simulated clock by a number of seconds ${range}, not ${String(seconds)}.`);
    }
    this.fw.clock.advance(seconds);
    this.fw.changed();
  }

  /**
   * A hub's leak sensor gets wet (or dry): the hub pushes Hub.Sensor.WaterLeak. Without `id`, the
   * hub's first leak sensor.
   */
  setLeak(leak: boolean, id?: string): void {
    this.onHubSensor("ms400", "leak sensor", id, (hub, target) => hub.setLeak(target, leak));
  }

  /** A hub's door/window contact (ms200) opens or closes: the hub pushes Hub.Sensor.DoorWindow. Without `id`, its first one. */
  setDoorWindow(open: boolean, id?: string): void {
    this.onHubSensor("ms200", "door/window contact", id, (hub, target) => hub.setDoor(target, open));
  }

  /** A hub's smoke alarm (gs559) sounds (status 25) or is quiet again (170): the hub pushes Hub.Sensor.Smoke. */
  setSmokeAlarm(alarm: boolean, id?: string): void {
    this.onHubSensor("gs559", "smoke alarm", id, (hub, target) => hub.setSmoke(target, alarm));
  }

  /** The smoke alarm's test button: status 23 for `ms` (default 5 s), then 170 again, each pushed. */
  smokeTest(id?: string, ms?: number): void {
    this.onHubSensor("gs559", "smoke alarm", id, (hub, target) => hub.smokeTest(target, ms));
  }

  private onHubSensor(type: SubType, what: string, id: string | undefined, act: (hub: HubCapability, id: string) => boolean): void {
    const hub = this.fw.capabilities.find(HubCapability);
    const target = id ?? hub?.ofType(type)[0];
    if (!hub || !target || !act(hub, target)) {
      const has = hub ? `its ${what}s are ${hub.ofType(type).join(", ") || "none"}` : "it is not a hub";
      throw new MerossError("BAD_INPUT", `The simulated ${this.model.name} has no ${what} ${target ?? ""}: ${has}.`);
    }
  }

  /** Opens or closes the window next to a thermostat: open-window detection stops the heating. */
  setWindowOpen(open: boolean): void {
    const t = this.fw.capabilities.find(ThermostatCapability);
    if (!t) throw new MerossError("BAD_INPUT", `The simulated ${this.model.name} is not a thermostat, so it has no window detection.`);
    t.setWindow(open);
  }

  /** Restarts today's energy counter as metering firmware does when it reboots. */
  resetEnergyToday(): void {
    this.fw.capabilities.find(ElectricityCapability)?.resetToday();
  }

  private assertChannel(channel: number): void {
    const n = this.fw.switches.count;
    if (!this.fw.switches.has(channel)) {
      const range = n > 1 ? `..${n - 1}` : "";
      throw new MerossError("BAD_INPUT", `Channel ${String(channel)} does not exist on the simulated ${this.model.name}: use 0${range}.`);
    }
  }
}
