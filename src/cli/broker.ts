/**
 * `meross broker`: the embedded Meross-aware MQTT broker in the foreground, so onboarded
 * devices have somewhere to log in (docs/protocol.md §3.9, §5) without installing Mosquitto.
 * One stdout line per event, so it can be watched or piped into scripts.
 */
import * as path from "node:path";
import {
  firstLanAddress,
  IDENTITY_FILE,
  IdentityBook,
  MQTT_TLS_PORT,
  loadOrCreateCertificates,
  MerossBroker,
  type BrokerDevice,
  type BrokerUser,
  type RefusedEvent,
  BIND_GRACE_MS,
  ReportLimiter,
} from "../core";
import { EXIT_OK, UsageError, intOption, list, parse, readSecretFile, reportError, str, type CliIo } from "./io";

export const BROKER_HELP = `Usage: meross broker --certs DIR [options]

Runs an MQTT broker over TLS that Meross devices can log in to, until interrupted
(Ctrl-C or SIGTERM, exit 0). It accepts a device when its password matches one of the
keys (user name = MAC, password = <userId>_md5(MAC + key)), answers the Bind and clock
requests devices send after connecting, and sets their time zone.

A login must come from the MAC its uuid ends with. A uuid is proven to belong to a key
only by an onboarding that set it ("meross onboard --broker --certs DIR", same DIR), kept in
device-identities.json in the certificate directory as fingerprints; then no other key opens
it, and a proven login takes over from an unproven session. Any other login is unproven: its
first signed Bind keeps other keys out until proof comes, but any key given here could have
made it, so each such login gets an "unproven" line. A connected device is not pushed off by
a login from another address unless that login is proven. At most 10 refused lines a minute
are printed, then how many more were refused. Devices may publish only on their own topic
and on the reply topics of requests sent to them, and subscribe only to their own request
topic. Before login a client may send at most 4 KiB and has 10 s; one address may hold at
most 8 connections that have not logged in.

It prints one ready line, then one line per event:
  broker listening on mqtts://<address>:<port>
  connected <uuid> <mac> <ip> <model>        (model "unknown" when the device sent no Bind)
  unproven <uuid> <ip>: <why>                (after "connected", when no proof names its key)
  refused <user name> <ip>: <reason>
  refused <n> more clients without a line     (past 10 refused lines a minute)
  disconnected <uuid>
Other messages (where the certificates are) go to stderr. Keys are never printed.

Options:
  --certs DIR         certificate directory (as written by "meross certs"); certificates are
                      created there when missing, damaged, expiring or made for another host
  --cert-host H       the address devices and clients use to reach this machine, written into the
                      certificate (default: this machine's first LAN IPv4 address, else 127.0.0.1)
  --port N            port to listen on (default ${MQTT_TLS_PORT}; 0 picks a free port, shown in the ready line)
  --host ADDR         address to listen on (default 0.0.0.0: every interface, as devices are on the LAN)
  --key K             a device key to accept; repeat for several. $MEROSS_KEY is added too
  --accept-empty-key  also accept devices set up with the empty key. Unsafe: anyone on the
                      network can compute that password for any device; off by default
  --key-file F        read device keys from file F, one per line (keeps them out of shell history)
  --user NAME:PASS    credentials for other MQTT clients (Node-RED, "meross request --broker",
                      mosquitto_sub); repeat for several. $MEROSS_BROKER_USER (NAME:PASS) is added too
  --user-file F       read such NAME:PASS lines from file F instead of the command line
  --allow-anonymous   let other MQTT clients in without credentials
  --time-zone TZ      IANA time zone sent to devices (default: this machine's)
  -h, --help          show this help

Exit status: 0 stopped by a signal; 2 bad arguments or the port could not be opened.

Example:
  meross broker --certs ./certs --key mykey --allow-anonymous
`;

/** What a device on the same LAN can reach (one rule for the CLI and the nodes: src/core/net.ts). */
export const lanAddress = firstLanAddress;

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]";
}

/** What clients should type: the bind address, unless it is the all-interfaces wildcard. */
export function brokerUrl(broker: MerossBroker, certHost: string): string {
  const h = isWildcard(broker.host) ? certHost : broker.host;
  return `mqtts://${h.includes(":") ? `[${h}]` : h}:${broker.port}`;
}

const UNPROVEN_WHY =
  "logged in with a key this broker accepts, but nothing proves it is this device's own key (any device holding it could use this uuid); " +
  'onboard it with "meross onboard --broker --certs" and this directory to prove it';

/** The non-empty lines of a secret file flag, or none when the flag is absent. */
function linesOf(values: Record<string, unknown>, flag: string): string[] {
  const file = values[flag];
  if (typeof file !== "string") return [];
  return readSecretFile(file, flag)
    .split(/\r?\n/)
    .filter((l) => l !== "");
}

function parseUser(spec: string): BrokerUser {
  const i = spec.indexOf(":");
  if (i <= 0)
    throw new UsageError(
      `--user must be NAME:PASSWORD (so must --user-file lines and $MEROSS_BROKER_USER), for example nodered:secret (got a value without a name and a colon)`,
    );
  return { username: spec.slice(0, i), password: spec.slice(i + 1) };
}

/**
 * Prints the broker's events as lines. A device's model arrives in its Bind just after the
 * login, so the "connected" line waits for it briefly instead of printing twice.
 */
export function printBrokerEvents(broker: MerossBroker, write: (line: string) => void, limiter = new ReportLimiter()): () => void {
  const pending = new Map<string, { device: BrokerDevice; timer: NodeJS.Timeout }>();
  const print = (d: BrokerDevice): void => {
    write(`connected ${d.uuid} ${d.mac} ${d.ip || "unknown"} ${d.model ?? "unknown"}`);
    if (!d.proven) write(`unproven ${d.uuid} ${d.ip || "unknown"}: ${UNPROVEN_WHY}`);
  };
  const flush = (uuid: string, bound?: BrokerDevice): void => {
    const p = pending.get(uuid);
    if (!p) return;
    clearTimeout(p.timer);
    pending.delete(uuid);
    print(bound && bound.clientId === p.device.clientId ? bound : p.device);
  };
  const onConnected = (d: BrokerDevice): void => {
    flush(d.uuid);
    pending.set(d.uuid, { device: d, timer: setTimeout(() => flush(d.uuid), BIND_GRACE_MS) });
  };
  const onBound = (d: BrokerDevice): void => flush(d.uuid, d);
  const onDisconnected = ({ uuid }: { uuid: string }): void => {
    flush(uuid);
    write(`disconnected ${uuid}`);
  };
  const held = (n: number): void => {
    if (n > 0) write(`refused ${n} more clients without a line`);
  };
  const onRefused = (r: RefusedEvent): void => {
    const turn = limiter.take();
    held(turn.held);
    if (turn.report) write(`refused ${r.username || "(none)"} ${r.ip || "unknown"}: ${r.reason}`);
  };
  const offs = [
    broker.events.on("device-connected", onConnected),
    broker.events.on("device-bound", onBound),
    broker.events.on("device-disconnected", onDisconnected),
    broker.events.on("refused", onRefused),
  ];
  return () => {
    for (const uuid of [...pending.keys()]) flush(uuid);
    for (const off of offs) off();
    held(limiter.drain());
  };
}

function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

export async function brokerCommand(argv: string[], io: CliIo): Promise<number> {
  let broker: MerossBroker | undefined;
  let unhook: (() => void) | undefined;
  let book: IdentityBook | undefined;
  try {
    const { values, positionals } = parse(argv, {
      certs: { type: "string" },
      "cert-host": { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      key: { type: "string", multiple: true },
      "key-file": { type: "string" },
      user: { type: "string", multiple: true },
      "user-file": { type: "string" },
      "allow-anonymous": { type: "boolean" },
      "accept-empty-key": { type: "boolean" },
      "time-zone": { type: "string" },
    });
    if (values.help) {
      io.stdout.write(BROKER_HELP);
      return EXIT_OK;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}": every setting is a --flag`);
    const dir = str(values, "certs");
    if (!dir)
      throw new UsageError(
        `--certs is required: the directory with the broker certificate ("meross certs" writes one), for example --certs ./certs`,
      );
    const port = intOption("port", str(values, "port"), 0, 65535) ?? MQTT_TLS_PORT;
    const host = str(values, "host") ?? "0.0.0.0";
    const certHost = str(values, "cert-host") ?? lanAddress();
    const keys = [...list(values, "key"), ...linesOf(values, "key-file")];
    if (io.env.MEROSS_KEY !== undefined) keys.push(io.env.MEROSS_KEY);
    const acceptEmptyKey = values["accept-empty-key"] === true;
    if (acceptEmptyKey && !keys.includes("")) keys.push("");

    const userSpecs = [...list(values, "user"), ...linesOf(values, "user-file")];
    if (io.env.MEROSS_BROKER_USER !== undefined) userSpecs.push(io.env.MEROSS_BROKER_USER);
    const users = userSpecs.map(parseUser);
    const timeZone = str(values, "time-zone");
    if (io.signal?.aborted) return EXIT_OK;

    const certs = loadOrCreateCertificates(dir, certHost, { mosquittoPort: port || MQTT_TLS_PORT });
    book = new IdentityBook(path.join(certs.files.dir, IDENTITY_FILE));
    broker = await MerossBroker.start({
      port,
      host,
      certs,
      keys,
      users,
      allowAnonymous: values["allow-anonymous"] === true,
      acceptEmptyKey,
      identities: book,
      ...(timeZone !== undefined ? { timeZone } : {}),
    });
    const unproven = book.unproven();
    if (unproven.length > 0) {
      const shown = unproven.slice(-20).join(", ");
      io.stderr.write(
        `meross broker: ${unproven.length} uuid${unproven.length === 1 ? " is" : "s are"} bound only by an unproven Bind: ${shown}` +
          `${unproven.length > 20 ? " (latest 20)" : ""}; onboarding a device with --certs and this directory proves it\n`,
      );
    }
    io.stderr.write(
      `meross broker: ${certs.created ? "created" : "using"} certificates for ${certHost} in ${certs.files.dir}; ` +
        `clients that check the broker need ${certs.files.caCert}\n`,
    );
    io.stderr.write(
      keys.length === 0
        ? `meross broker: no device key given: every device login will be refused; add --key K (or --accept-empty-key for devices set up without one)\n`
        : `meross broker: accepting devices signed with ${keys.length === 1 && keys[0] === "" ? "the empty key" : `${keys.length} key${keys.length === 1 ? "" : "s"}`}\n`,
    );
    io.stdout.write(`broker listening on ${brokerUrl(broker, certHost)}\n`);
    unhook = printBrokerEvents(broker, (line) => io.stdout.write(`${line}\n`));
    await untilAborted(io.signal);
    return EXIT_OK;
  } catch (err) {
    return reportError(io, "broker", err);
  } finally {
    unhook?.();
    await broker?.stop();
    book?.flush();
  }
}
