/**
 * The meross-config edit dialog's two admin endpoints: what a deployed config knows about
 * its device, and "Read device" for an address typed in the dialog. The probe is reachable
 * by anyone allowed to edit flows, so it only ever talks to a device address (no URL, no
 * path, no credentials in it) or, over a deployed broker, to a device uuid, and only signs
 * with the key of the config being edited.
 */
import type { NodeAPI } from "node-red";
import type { Request, Response } from "express";
import { lookup } from "node:dns/promises";
import { MerossDevice, BrokerTransport, type Transport, isLanAddress, MerossError, describeValue } from "../../core";
import { summarizeDevice } from "./device-summary";
import { toMerossError } from "./errors";
import { UNCHANGED_PASSWORD } from "./inputs";
import { isMerossConfig } from "./types";
import { isMerossBroker } from "./broker-types";
import { registerAccountAdmin } from "./account-admin";

/** The editor probe answers a person waiting on a button: fail fast. */
const PROBE_TIMEOUT_MS = 5_000;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;

function badHost(raw: string): MerossError {
  return new MerossError(
    "BAD_INPUT",
    `${describeValue(raw)} is not a device address. Enter only the device's IP address or host name, optionally with :port ` +
      "(for example 192.168.1.50, [fd00::1]:80 or plug.local), without http://, a path or a user name.",
  );
}

function isIpv6(text: string): boolean {
  if (!IPV6_CHARS.test(text) || !text.includes(":")) return false;
  try {
    return new URL(`http://[${text}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/**
 * `host` or `host:port` where host is IPv4, an IPv6 address in brackets, or a host name, and
 * port is 1–65535. Anything else (a URL, a path, user:pass@, a scheme) is a BAD_INPUT sentence.
 */
export function parseDeviceHost(raw: unknown): string {
  if (typeof raw !== "string" || !raw.trim()) throw new MerossError("BAD_INPUT", "Enter the device's IP address or host name first.");
  const text = raw.trim();
  const m = /^(\[([^\]]*)\]|[^:[\]]*)(?::(\d{1,5}))?$/.exec(text);
  if (!m) throw badHost(raw);
  const [, host, bracketed, port] = m;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw badHost(raw);
  const ok = bracketed !== undefined ? isIpv6(bracketed) : IPV4.test(host) || (HOST_NAME.test(host) && !/^[\d.]+$/.test(host));
  if (!ok) throw badHost(raw);
  return text;
}

function errorBody(err: unknown, secrets: string[]): { error: { code: string; message: string } } {
  const e = toMerossError(err, secrets);
  return { error: { code: e.code, message: e.message } };
}

/**
 * The key to sign a probe with: the one typed in the dialog, else (blank or untouched field)
 * the stored credential of the meross-config whose id the dialog sends, and only when the
 * probe goes to the address that config names. Never any other key.
 */
function probeKey(RED: NodeAPI, body: Record<string, unknown>, host: string, byUuid = false): string {
  if (typeof body.key === "string" && body.key !== "" && body.key !== UNCHANGED_PASSWORD) return body.key;
  if (typeof body.id !== "string" || !body.id) return "";
  const cfg = RED.nodes.getNode(body.id);
  if (!isMerossConfig(cfg)) return "";
  const own = (byUuid ? [cfg.uuid()] : [cfg.host, cfg.currentAddress()]).map((a) =>
    String(a ?? "")
      .trim()
      .toLowerCase(),
  );
  if (!own.includes(host.toLowerCase())) {
    throw new MerossError(
      "BAD_INPUT",
      `The key stored in this device node is only sent to the device it was deployed with (${describeValue(byUuid ? cfg.uuid() : cfg.host)}). ` +
        "To read another device, type the key again in the Key field.",
    );
  }
  const creds = (cfg as { credentials?: { key?: unknown } }).credentials;
  return creds && typeof creds.key === "string" ? creds.key : "";
}

/**
 * "Read device" over the broker, as the node would: Transport MQTT, or Auto while the device (by
 * the dialog's uuid) is connected to the chosen deployed broker. Undefined: read over HTTP.
 */
function brokerPath(RED: NodeAPI, body: Record<string, unknown>): { transport: BrokerTransport; uuid: string } | undefined {
  if (body.transport !== "mqtt" && body.transport !== "auto") return undefined;
  const broker = typeof body.broker === "string" && body.broker ? RED.nodes.getNode(body.broker) : null;
  const uuid = typeof body.uuid === "string" ? body.uuid.trim().toLowerCase() : "";
  if (!isMerossBroker(broker) || !uuid) return undefined;
  if (body.transport === "auto" && !broker.fleet.isListening(uuid)) return undefined;
  return { transport: new BrokerTransport(broker.fleet, () => uuid, broker.name || "meross-broker"), uuid };
}

/**
 * The address to dial for `hostPort` (already a plain host[:port]): an IP on a local network
 * or this machine, a host name resolved once to such an IP (so a name cannot be re-pointed
 * between the check and the request). Link-local (169.254.x.x, where cloud metadata services
 * answer) and public addresses are refused: the admin endpoints sign and scan only on a LAN.
 */
export async function lanTarget(hostPort: string): Promise<string> {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(hostPort);
  const host = m?.[1] ?? m?.[2] ?? "";
  const port = m?.[3] ? `:${m[3]}` : "";
  let ip = host;
  if (m?.[2] !== undefined && !IPV4.test(host)) {
    const found = await lookup(host, { all: true }).catch(() => []);
    if (found.length === 0 || !found.every((a) => isLanAddress(a.address))) throw notLan(hostPort);
    ip = (found.find((a) => a.family === 4) ?? found[0]).address;
  }
  if (!isLanAddress(ip)) throw notLan(hostPort);
  return ip.includes(":") ? `[${ip}]${port}` : `${ip}${port}`;
}

function notLan(hostPort: string): MerossError {
  return new MerossError(
    "BAD_INPUT",
    `${describeValue(hostPort)} is not an address on your local network. Devices are read only at private addresses ` +
      "(10.x.x.x, 172.16–31.x.x, 192.168.x.x, fd00::/8) or on this machine; link-local 169.254.x.x addresses are refused.",
  );
}

/** One sentence whatever answered (or did not) at a probed address, so the probe tells nothing about other services. */
function noDevice(host: string): MerossError {
  return new MerossError(
    "UNREACHABLE",
    `No Meross device answered at ${host}: nothing answered there, or what answered is not a Meross device. ` +
      "Check the address (the device's IP, optionally with :port) and that the device is powered and on this network.",
  );
}

export function registerConfigAdmin(RED: NodeAPI): void {
  // "Sign in to Meross account" and "Find devices" (shared/account-admin.ts).
  registerAccountAdmin(RED, "meross-config");

  // Info about a deployed config, for the edit dialog; answers from the running session.
  RED.httpAdmin.get("/meross-config/:id/info", RED.auth.needsPermission("meross-config.read"), (req: Request, res: Response) => {
    const cfg = RED.nodes.getNode(String(req.params.id));
    if (!isMerossConfig(cfg)) {
      const message = "No deployed meross-config with this id. Deploy the flow first, or use Read device.";
      res.status(404).json({ error: { code: "NOT_FOUND", message } });
      return;
    }
    cfg.getDevice().then(
      (d) => {
        const address = cfg.currentAddress();
        const followedIp = address !== cfg.host ? address : undefined;
        const summary = summarizeDevice(d, cfg.displayName());
        res.json({ ...summary, address, configuredAddress: cfg.host, transport: cfg.transport, path: cfg.path(), followedIp });
      },
      (err: unknown) => res.status(502).json(errorBody(err, cfg.secrets())),
    );
  });

  // "Read device" in the edit dialog: reads System.All/Ability from a host that may not be deployed yet.
  RED.httpAdmin.post("/meross-config/probe", RED.auth.needsPermission("meross-config.write"), (req: Request, res: Response) => {
    const body: Record<string, unknown> = req.body && typeof req.body === "object" ? (req.body as Record<string, unknown>) : {};
    let d: MerossDevice | undefined;
    let mqtt: Transport | undefined;
    let host = "";
    let secrets: string[] = [];
    (async () => {
      const viaBroker = brokerPath(RED, body);
      mqtt = viaBroker?.transport;
      host = viaBroker ? viaBroker.uuid : parseDeviceHost(body.host);
      const key = probeKey(RED, body, host, !!viaBroker);
      secrets = key ? [key] : [];
      d = mqtt
        ? new MerossDevice({ transport: mqtt, key, timeoutMs: PROBE_TIMEOUT_MS })
        : new MerossDevice({ address: await lanTarget(host), key, timeoutMs: PROBE_TIMEOUT_MS, http: { retries: 0 } });
      await d.refresh();
    })()
      .then(
        () => res.json({ ...summarizeDevice(d as MerossDevice), via: mqtt ? "mqtt" : "http" }),
        (err: unknown) => {
          const e = toMerossError(err, secrets);
          if (e.code === "BAD_INPUT") res.status(400).json(errorBody(e, secrets));
          else res.status(502).json(errorBody(e.code === "WRONG_KEY" ? e : noDevice(host), secrets));
        },
      )
      .finally(() => {
        d?.close().catch(() => undefined);
        mqtt?.close().catch(() => undefined);
      });
  });
}
