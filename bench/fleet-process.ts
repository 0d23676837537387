/**
 * Simulated devices in their own process for the benchmarks: a real device is another
 * machine, so its CPU time must not be charged to the client being measured.
 * Protocol over IPC: {id, cmd: "start", specs} → {id, devices: [{address, uuid}]};
 * {id, cmd: "stats", index} → {id, requestCount, luminance}; {cmd: "stop"}.
 */
import { fork, type ChildProcess } from "node:child_process";
import { SimulatedDevice, type SimulatorOptions } from "../src/simulator/device";

type Request = { id: number; cmd: "start"; specs: SimulatorOptions[] } | { id: number; cmd: "stats"; index: number } | { id: number; cmd: "stop" };

if (require.main === module) {
  const devices: SimulatedDevice[] = [];
  process.on("message", (m: Request) => {
    void (async () => {
      if (m.cmd === "start") {
        for (const spec of m.specs) devices.push(await SimulatedDevice.start(spec));
        process.send?.({ id: m.id, devices: devices.map((d) => ({ address: d.address, uuid: d.uuid })) });
      } else if (m.cmd === "stats") {
        const d = devices[m.index];
        process.send?.({ id: m.id, requestCount: d.requestCount, luminance: d.state.light?.luminance });
      } else {
        await Promise.all(devices.map((d) => d.stop()));
        process.send?.({ id: m.id }, () => process.exit(0));
      }
    })();
  });
}

export class RemoteFleet {
  private seq = 0;
  private constructor(private readonly child: ChildProcess, readonly devices: { address: string; uuid: string }[]) {}

  static async start(specs: SimulatorOptions[]): Promise<RemoteFleet> {
    const child = fork(__filename, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const probe = new RemoteFleet(child, []);
    const reply = (await probe.call({ cmd: "start", specs })) as { devices: { address: string; uuid: string }[] };
    return new RemoteFleet(child, reply.devices);
  }

  call(req: { cmd: "start"; specs: SimulatorOptions[] } | { cmd: "stats"; index: number } | { cmd: "stop" }): Promise<Record<string, unknown>> {
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
