/**
 * The device's HTTP endpoint on a raw TCP server, with the firmware's rough edges: LF-only header
 * lines, one request at a time, connection closed after each reply (docs/protocol.md §2.2) unless
 * the `closeAfterReply` quirk is off, in which case it keeps the connection open like some firmware.
 * It knows nothing of the protocol: each request goes to `serve` as an exchange to answer.
 */
import { createServer, type Server, type Socket } from "node:net";
import { MerossError } from "../core/errors";
import { parseRequest, formatResponse, writeResponse, MAX_BODY_BYTES, MAX_HEADER_BYTES, type WireRequest } from "./httpwire";
import type { SimulatorQuirks } from "./types";

const IDLE_SOCKET_MS = 15_000;

/** The firmware handles one job at a time: HTTP requests and MQTT requests share this line. */
export class FirmwareQueue {
  private readonly jobs: Array<() => Promise<void>> = [];
  private busy = false;

  constructor(
    private readonly oneAtATime: boolean,
    private readonly stopped: () => boolean,
  ) {}

  enqueue(job: () => Promise<void>): void {
    if (!this.oneAtATime) {
      void job().catch(() => undefined);
      return;
    }
    this.jobs.push(job);
    void this.drain();
  }

  clear(): void {
    this.jobs.length = 0;
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    while (this.jobs.length > 0 && !this.stopped()) {
      const job = this.jobs.shift()!;
      await job().catch(() => undefined);
    }
    this.busy = false;
  }
}

/** One request and the ways to answer it. */
export interface HttpExchange {
  readonly request: WireRequest;
  /** The client went away (or the device stopped) while the request waited. */
  readonly gone: boolean;
  send(status: number, reason: string, body: string, contentType?: string): void;
  /** Closes the connection without an answer. */
  drop(): void;
}

export interface SimHttpServerOptions {
  quirks: Required<SimulatorQuirks>;
  queue: FirmwareQueue;
  /** False while the device is rebooting or stopped: connections are refused. */
  accepting(): boolean;
  serve(exchange: HttpExchange): Promise<void>;
}

export class SimHttpServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private closed = false;
  /** Connections accepted so far. */
  connections = 0;

  constructor(private readonly opts: SimHttpServerOptions) {
    this.server = createServer((socket) => this.onConnection(socket));
    this.server.on("error", () => undefined);
  }

  /** Binds and resolves with the port; a port in use is a MerossError a person can act on. */
  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        const what = `The simulator could not listen on ${host}:${port} (${err.message}).`;
        reject(new MerossError("BAD_INPUT", `${what} Pick another port or use 0.`, { cause: err }));
      };
      this.server.once("error", onError);
      this.server.listen(port, host, () => {
        this.server.off("error", onError);
        resolve();
      });
    });
    const addr = this.server.address();
    return typeof addr === "object" && addr ? addr.port : 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(socket: Socket): void {
    if (this.closed || !this.opts.accepting()) {
      socket.destroy();
      return;
    }
    const { quirks } = this.opts;
    this.connections += 1;
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.setTimeout(IDLE_SOCKET_MS, () => socket.destroy());
    let buf: Buffer = Buffer.alloc(0);
    let waiting = false;
    const pump = (): void => {
      if (waiting || socket.destroyed || buf.length === 0) return;
      const parsed = parseRequest(buf);
      if (parsed.kind === "incomplete") return;
      if (parsed.kind === "error") {
        buf = Buffer.alloc(0);
        const opts = { lfOnly: quirks.lfOnly, keepAlive: false, contentType: "text/plain" };
        writeResponse(socket, formatResponse(parsed.status, parsed.reason, "", opts), true);
        return;
      }
      buf = parsed.rest;
      waiting = true;
      this.opts.queue.enqueue(async () => {
        await this.serve(socket, parsed.request);
        waiting = false;
        if (!quirks.closeAfterReply) pump();
      });
    };
    socket.on("data", (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (buf.length > MAX_HEADER_BYTES + 2 * MAX_BODY_BYTES) {
        socket.destroy();
        return;
      }
      pump();
    });
  }

  private async serve(socket: Socket, request: WireRequest): Promise<void> {
    // A client that gave up while queued is gone; real firmware just finds a dead socket.
    if (this.closed || socket.destroyed) return;
    const { quirks } = this.opts;
    const closed = (): boolean => this.closed;
    await this.opts.serve({
      request,
      get gone() {
        return closed() || socket.destroyed;
      },
      send(status, reason, body, contentType) {
        const close = quirks.closeAfterReply || status !== 200;
        writeResponse(socket, formatResponse(status, reason, body, { lfOnly: quirks.lfOnly, keepAlive: !close, contentType }), close);
      },
      drop() {
        socket.destroy();
      },
    });
  }
}
