/**
 * Simulated devices in their own process for the benchmarks: a real device is another
 * machine, so its CPU time must not be charged to the client being measured.
 * Protocol over IPC: {id, cmd: "start", specs} → {id, devices: [{address, uuid}]};
 * {id, cmd: "stats", index} → {id, requestCount, luminance}; {id, cmd: "connects"} → {id, connects: [per device]}; {cmd: "stop"}.
 * {cmd: "pulse", everyMs} presses every device's button once per `everyMs` (0 stops), spread evenly;
 * {cmd: "presses"} → {presses: [[index, on, at]]} since the last call (at: wall-clock ms).
 */
import { fork, type ChildProcess } from "node:child_process";
import mqtt, { type MqttClient } from "mqtt";
import { SimulatedDevice, type SimulatorOptions } from "../src/simulator/device";

type Command =
  | { cmd: "start"; specs: SimulatorOptions[] }
  | { cmd: "stats"; index: number }
  | { cmd: "press"; index: number }
  | { cmd: "mqtt-states" }
  | { cmd: "connects" }
  | { cmd: "ping-client"; url: string }
  | { cmd: "ping" }
  | { cmd: "pulse"; everyMs: number }
  | { cmd: "presses" }
  | { cmd: "stop" };
type Request = Command & { id: number };

if (require.main === module) {
  const devices: SimulatedDevice[] = [];
  // MQTT connections each device made (its client reported "connected"), counted where a real device would.
  const connects: number[] = [];
  let pinger: MqttClient | undefined;
  let pulse: NodeJS.Timeout | undefined;
  let presses: Array<[number, boolean, number]> = [];
  const TICK_MS = 10;
  process.on("message", (m: Request) => {
    void (async () => {
      if (m.cmd === "start") {
        for (const spec of m.specs) {
          const d = await SimulatedDevice.start(spec);
          const i = devices.push(d) - 1;
          connects[i] = 0;
          d.on("mqtt", (e: { state: string }) => void (e.state === "connected" && connects[i]++));
        }
        process.send?.({ id: m.id, devices: devices.map((d) => ({ address: d.address, uuid: d.uuid })) });
      } else if (m.cmd === "stats") {
        const d = devices[m.index];
        process.send?.({ id: m.id, requestCount: d.requestCount, luminance: d.state.light?.luminance });
      } else if (m.cmd === "press") {
        // The physical button: the device pushes the change over MQTT. `at` is wall-clock
        // time in ms with sub-ms precision, comparable across the two processes.
        const at = performance.timeOrigin + performance.now();
        devices[m.index].press(0);
        process.send?.({ id: m.id, at });
      } else if (m.cmd === "pulse") {
        clearInterval(pulse);
        if (m.everyMs > 0) {
          // Each tick presses the devices whose turn falls in it: every device once per period.
          let next = 0;
          let owed = 0;
          let last = performance.now();
          const ons = devices.map((d) => d.state.channels[0]?.on ?? false);
          pulse = setInterval(() => {
            const now = performance.now();
            owed += ((now - last) * devices.length) / m.everyMs;
            last = now;
            for (; owed >= 1; owed--) {
              const i = next;
              next = (next + 1) % devices.length;
              const at = performance.timeOrigin + performance.now();
              devices[i].press(0);
              ons[i] = !ons[i];
              if (presses.length < 200_000) presses.push([i, ons[i], at]);
            }
          }, TICK_MS);
        }
        process.send?.({ id: m.id });
      } else if (m.cmd === "presses") {
        process.send?.({ id: m.id, presses });
        presses = [];
      } else if (m.cmd === "connects") {
        process.send?.({ id: m.id, connects });
      } else if (m.cmd === "mqtt-states") {
        process.send?.({ id: m.id, states: devices.map((d) => d.mqttState) });
      } else if (m.cmd === "ping-client") {
        pinger = await mqtt.connectAsync(m.url, { rejectUnauthorized: false, reconnectPeriod: 0 });
        process.send?.({ id: m.id });
      } else if (m.cmd === "ping") {
        // The yardstick: a bare publish on the same broker, sent the same way as a press.
        const at = performance.timeOrigin + performance.now();
        pinger?.publish("/bench/ping", String(at), { qos: 1 });
        process.send?.({ id: m.id, at });
      } else {
        clearInterval(pulse);
        await pinger?.endAsync();
        await Promise.all(devices.map((d) => d.stop()));
        process.send?.({ id: m.id }, () => process.exit(0));
      }
    })();
  });
}

export class RemoteFleet {
  private seq = 0;
  private constructor(
    private readonly child: ChildProcess,
    readonly devices: { address: string; uuid: string }[],
  ) {}

  static async start(specs: SimulatorOptions[]): Promise<RemoteFleet> {
    const child = fork(__filename, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const probe = new RemoteFleet(child, []);
    const reply = (await probe.call({ cmd: "start", specs })) as { devices: { address: string; uuid: string }[] };
    return new RemoteFleet(child, reply.devices);
  }

  call(req: Command): Promise<Record<string, unknown>> {
    const id = ++this.seq;
    return new Promise((resolve) => {
      const onMsg = (m: { id: number }) => {
        if (m.id !== id) return;
        this.child.off("message", onMsg);
        resolve(m as Record<string, unknown>);
      };
      this.child.on("message", onMsg);
      this.child.send({ id, ...req });
    });
  }

  async stats(index: number): Promise<{ requestCount: number; luminance?: number }> {
    return (await this.call({ cmd: "stats", index })) as { requestCount: number; luminance?: number };
  }

  async stop(): Promise<void> {
    await this.call({ cmd: "stop" });
  }
}
