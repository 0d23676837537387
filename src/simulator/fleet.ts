/**
 * A set of simulated devices plus a live status page, for `meross simulate` and the demo.
 * The page is what a newcomer sees first, so it shows each device the way it would look on
 * a shelf: bulbs glow in their colour, plugs show their switch, buttons act as the real ones.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { SimulatedDevice, type SimulatorOptions, type DeviceSnapshot } from "./device";
import { STATUS_PAGE_HEADERS, STATUS_PAGE_HTML, crossOriginProblem } from "./statuspage";
import { MerossError } from "../core/errors";

export interface FleetOptions {
  /** Port of the status page; 0 (default) picks a free one. */
  statusPort?: number;
  /** Interface of the status page (default 127.0.0.1). */
  statusHost?: string;
}

/** The SSE / JSON body: every device, so a client never has to merge partial updates. */
export interface FleetSnapshot {
  devices: DeviceSnapshot[];
}

/** Several SimulatedDevices and the HTTP status page that watches them. */
export class Fleet {
  readonly devices: SimulatedDevice[];
  private readonly server: Server;
  private readonly clients = new Set<ServerResponse>();
  private readonly host: string;
  private _port = 0;
  private keepAlive?: NodeJS.Timeout;

  private constructor(devices: SimulatedDevice[], host: string) {
    this.devices = devices;
    this.host = host;
    this.server = createServer((req, res) => this.route(req, res));
    for (const d of devices) {
      d.on("change", () => this.broadcast());
      d.on("mqtt", () => this.broadcast());
    }
  }

  /** Starts every device (each on its own free port unless given) and the status page. */
  static async start(specs: Array<SimulatorOptions & { name?: string }>, opts: FleetOptions = {}): Promise<Fleet> {
    const devices: SimulatedDevice[] = [];
    try {
      for (const spec of specs) devices.push(await SimulatedDevice.start(spec));
    } catch (err) {
      await Promise.all(devices.map((d) => d.stop()));
      throw err;
    }
    const fleet = new Fleet(devices, opts.statusHost ?? "127.0.0.1");
    try {
      await new Promise<void>((resolve, reject) => {
        fleet.server.once("error", reject);
        fleet.server.listen(opts.statusPort ?? 0, fleet.host, () => {
          fleet.server.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      await Promise.all(devices.map((d) => d.stop()));
      throw new MerossError(
        "BAD_INPUT",
        `The status page could not listen on ${fleet.host}:${opts.statusPort ?? 0} (${(err as Error).message}). ` +
          "Pick another port or use 0.",
        { cause: err },
      );
    }
    const addr = fleet.server.address();
    fleet._port = typeof addr === "object" && addr ? addr.port : 0;
    // A comment line every 15 s keeps proxies and idle browser tabs from closing the stream.
    fleet.keepAlive = setInterval(() => {
      for (const c of fleet.clients) c.write(": keep-alive\n\n");
    }, 15_000);
    fleet.keepAlive.unref();
    return fleet;
  }

  get statusUrl(): string {
    return `http://${this.host}:${this._port}/`;
  }

  /** Finds a device by uuid (exact) or by display name. */
  get(id: string): SimulatedDevice | undefined {
    return this.devices.find((d) => d.uuid === id) ?? this.devices.find((d) => d.name === id);
  }

  snapshot(): FleetSnapshot {
    return { devices: this.devices.map((d) => d.snapshot()) };
  }

  async stop(): Promise<void> {
    if (this.keepAlive) clearInterval(this.keepAlive);
    for (const c of this.clients) c.end();
    this.clients.clear();
    for (const d of this.devices) {
      d.removeAllListeners("change");
      d.removeAllListeners("mqtt");
    }
    await Promise.all([
      new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      }),
      ...this.devices.map((d) => d.stop()),
    ]);
  }

  private broadcast(): void {
    const data = `data: ${JSON.stringify(this.snapshot())}\n\n`;
    for (const c of this.clients) c.write(data);
  }

  /** The smoke alarm buttons of the status page: its test button, a real alarm, or quiet again. */
  private smoke(device: SimulatedDevice, what: string, sub: string | undefined): void {
    if (what === "test") device.smokeTest(sub);
    else if (what === "alarm" || what === "clear") device.setSmokeAlarm(what === "alarm", sub);
    else throw new MerossError("BAD_INPUT", `Smoke action "${what}" is not known: use test, alarm or clear.`);
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { ...STATUS_PAGE_HEADERS, "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
    res.end(text);
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    req.on("error", () => undefined);
    res.on("error", () => undefined);
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    if (method === "GET" && (url.pathname === "/" || url.pathname === "/index.html")) {
      res.writeHead(200, { ...STATUS_PAGE_HEADERS, "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
      res.end(STATUS_PAGE_HTML);
      return;
    }
    if (method === "GET" && url.pathname === "/api/devices") {
      this.json(res, 200, this.snapshot().devices);
      return;
    }
    if (method === "GET" && url.pathname === "/events") {
      res.writeHead(200, {
        ...STATUS_PAGE_HEADERS,
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-store",
        Connection: "keep-alive",
      });
      res.write(`data: ${JSON.stringify(this.snapshot())}\n\n`);
      this.clients.add(res);
      req.on("close", () => this.clients.delete(res));
      return;
    }
    // press: the device button; advance: its clock moves ahead (a day by default) so energy rolls over;
    // leak: a hub's leak sensor gets wet (?on=0 dries it); window: a thermostat's window opens (?open=0 closes);
    // door: a hub's door/window contact opens (?open=0 closes); smoke: a hub's smoke alarm ?do=test|alarm|clear;
    // reset: the button held for 5 s, a factory reset (back in access-point mode, no key).
    const action = /^\/api\/devices\/([^/]+)\/(press|advance|leak|window|door|smoke|reset)$/.exec(url.pathname);
    if (method === "POST" && action) {
      const refused = crossOriginProblem(req.headers);
      if (refused) {
        req.resume();
        this.json(res, 403, { error: `Refused: ${refused}.` });
        return;
      }
      const device = this.get(decodeURIComponent(action[1]));
      if (!device) {
        this.json(res, 404, { error: `No simulated device with uuid ${action[1]}.` });
        return;
      }
      try {
        if (action[2] === "press")
          device.press(Number(url.searchParams.get("channel") ?? "0"), url.searchParams.get("action") ?? undefined);
        else if (action[2] === "leak") device.setLeak(url.searchParams.get("on") !== "0", url.searchParams.get("sub") ?? undefined);
        else if (action[2] === "window") device.setWindowOpen(url.searchParams.get("open") !== "0");
        else if (action[2] === "door") device.setDoorWindow(url.searchParams.get("open") !== "0", url.searchParams.get("sub") ?? undefined);
        else if (action[2] === "reset") device.longPress();
        else if (action[2] === "smoke") this.smoke(device, url.searchParams.get("do") ?? "test", url.searchParams.get("sub") ?? undefined);
        else device.advanceTime(Number(url.searchParams.get("seconds") ?? "86400"));
      } catch (err) {
        this.json(res, 400, { error: err instanceof Error ? err.message : "bad request" });
        return;
      }
      req.resume();
      this.json(res, 200, device.snapshot());
      return;
    }
    this.json(res, 404, { error: "Not found. Try / (status page), /api/devices or /events." });
  }
}
