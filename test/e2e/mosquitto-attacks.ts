/**
 * Size and QoS 2 attacks on an MQTT broker over TLS, shared by the Mosquitto e2e spec and
 * `npm run bench` (mosquitto-hostile): a packet header claiming a huge remaining length
 * followed by a few MB of body (what the attack does, without sending 256 MB), and QoS 2
 * publishes whose PUBREL never comes.
 */
import fs from "node:fs";
import type net from "node:net";
import tls from "node:tls";
import mqttPacket from "mqtt-packet";

/** Resident memory of a process, in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

interface Target {
  port: number;
  username?: string;
  password?: string;
}

/** A TLS connection that is open once the handshake is done (or closed); `closed` tells which. */
async function open(port: number): Promise<{ sock: tls.TLSSocket; closed: () => boolean }> {
  const sock = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false });
  let closed = false;
  sock.on("error", () => undefined);
  sock.once("close", () => (closed = true));
  await new Promise<void>((resolve) => {
    sock.once("secureConnect", () => resolve());
    sock.once("close", () => resolve());
  });
  return { sock, closed: () => closed };
}

/** Resolves when the socket can take more, or closed; leaves no listener behind. */
export function drained(sock: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const go = (): void => {
      sock.off("drain", go).off("close", go);
      resolve();
    };
    sock.once("drain", go).once("close", go);
  });
}

/** Writes `chunk` until `bytes` are sent or the peer closes, respecting back-pressure. */
async function stream(sock: tls.TLSSocket, closed: () => boolean, bytes: number, chunk = Buffer.alloc(64 * 1024, 0x41)): Promise<number> {
  let sent = 0;
  while (sent < bytes && !closed()) {
    sent += chunk.length;
    if (!sock.write(chunk) && !closed()) {
      await drained(sock);
    }
  }
  return sent;
}

function connectPacket(t: Target, clientId: string): Buffer {
  return mqttPacket.generate({
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    clientId,
    ...(t.username !== undefined ? { username: t.username, password: Buffer.from(t.password ?? "") } : {}),
  });
}

/** Waits for the CONNACK; true when the login was accepted. */
function connack(sock: tls.TLSSocket): Promise<boolean> {
  return new Promise((resolve) => {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.once("packet", (p: mqttPacket.Packet) => {
      sock.off("data", feed);
      resolve(p.cmd === "connack" && (p as mqttPacket.IConnackPacket).returnCode === 0);
    });
    const feed = (d: Buffer): void => void parser.parse(d);
    sock.on("data", feed);
    sock.once("close", () => resolve(false));
  });
}

/** Outcome of one attack connection. */
export interface AttackResult {
  /** Bytes of the claimed packet written before the broker closed the connection. */
  sent: number;
  /** The broker closed the connection. */
  dropped: boolean;
}

/** Before login: a CONNECT claiming 268,435,455 bytes, then up to `bytes` of it. */
export async function hugeConnect(port: number, bytes = 4 * 1024 * 1024): Promise<AttackResult> {
  const { sock, closed } = await open(port);
  sock.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
  const sent = await stream(sock, closed, bytes);
  sock.end();
  await waitClosed(sock, closed);
  return { sent, dropped: sent < bytes };
}

/** After login: a PUBLISH to `topic` claiming 268,435,455 bytes, then up to `bytes` of it. */
export async function hugePublish(t: Target, topic: string, bytes = 4 * 1024 * 1024): Promise<AttackResult & { loggedIn: boolean }> {
  const { sock, closed } = await open(t.port);
  sock.write(connectPacket(t, `huge-${process.pid}-${Math.random().toString(16).slice(2, 8)}`));
  const loggedIn = await connack(sock);
  const name = Buffer.from(topic);
  sock.write(Buffer.concat([Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f, name.length >> 8, name.length & 0xff]), name]));
  const sent = await stream(sock, closed, bytes);
  sock.end();
  await waitClosed(sock, closed);
  return { sent, dropped: sent < bytes, loggedIn };
}

/** After login: `count` QoS 2 publishes of `size` bytes to `topic`, never sending PUBREL. */
export async function qos2Flood(t: Target, topic: string, count: number, size = 60 * 1024): Promise<AttackResult & { loggedIn: boolean }> {
  const { sock, closed } = await open(t.port);
  sock.on("data", () => undefined);
  sock.write(connectPacket(t, `qos2-${process.pid}-${Math.random().toString(16).slice(2, 8)}`));
  const loggedIn = await connack(sock);
  const payload = Buffer.alloc(size, 0x42);
  let sent = 0;
  for (let id = 1; id <= count && !closed(); id++) {
    const packet = mqttPacket.generate({
      cmd: "publish",
      topic,
      payload,
      qos: 2,
      messageId: ((id - 1) % 65535) + 1,
      retain: false,
      dup: false,
    });
    sent++;
    if (!sock.write(packet) && !closed()) {
      await drained(sock);
    }
  }
  const dropped = closed();
  sock.end();
  await waitClosed(sock, closed);
  return { sent, dropped, loggedIn };
}

async function waitClosed(sock: tls.TLSSocket, closed: () => boolean): Promise<void> {
  if (closed()) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      sock.destroy();
      resolve();
    }, 2000);
    sock.once("close", () => {
      clearTimeout(t);
      resolve();
    });
  });
}
