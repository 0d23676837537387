/**
 * `meross migrate`: moves every Meross device found on a subnet (or at given addresses) to a
 * broker of ours with a new key, one line per device. The work is the core's migrate(); this
 * file turns flags into its options, runs the embedded broker when no running one is named,
 * and prints the lines.
 */
import { readFileSync } from "node:fs";
import {
  MIGRATE_CONCURRENCY,
  MIGRATE_WAIT_MS,
  migrate,
  type MigrateLine,
  type MigrateOptions,
  parseTargets,
  DEFAULT_REBIND_PORT,
  ArrivalWatcher,
  MerossBroker,
  loadOrCreateCertificates,
  MerossError,
  addMosquittoLogin,
  HTTP_TIMEOUT_MS,
  isObject,
  isUuid,
} from "../core";
import { brokerUrl } from "./broker";
import { EXIT_FAILED, EXIT_OK, KEY_OPTIONS, UsageError, intOption, parse, reportError, secretFrom, str, timeoutMs, type CliIo } from "./io";

export const MIGRATE_HELP = `Usage: meross migrate SUBNET|ADDRESS... --key-file ACCOUNT --new-key-file NEW --host H --certs DIR [options]
       meross migrate SUBNET|ADDRESS... --key-file ACCOUNT --new-key-file NEW --broker HOST:PORT [--mosquitto DIR]

Moves every Meross device that answers on a subnet (at most a /22) or at the given addresses
to your MQTT broker with a new key: each device the account key fits is re-bound (only
Appliance.Config.Key is sent; its Wi-Fi stays), then its login to the broker is awaited.
Prints one line per device: moved, already moved (it answers with the new key and uses this
broker: nothing sent), wrong key (neither key fits: left untouched), unreachable, did not
arrive, or failed, each with why. Running it again skips what is done. Keys are never printed.

By default it runs the embedded MQTT broker on --port (devices are told --host) for the
duration and waits for each device there. With --broker HOST:PORT the devices are told that
running broker instead and their logins are not watched; with --mosquitto DIR (a folder made
by "meross certs") each device's login is added to that Mosquitto, live when it runs.

Options:
  --key K / --key-file F   the key the devices sign with now: for devices set up by the Meross
                           app, the account key "meross cloud --key-file" wrote ($MEROSS_KEY)
  --new-key K / --new-key-file F   the key they will sign with ($MEROSS_NEW_KEY, else empty)
  --host H                 the embedded broker's address the devices connect to (this machine's LAN address)
  --port N                 the embedded broker's port (default ${DEFAULT_REBIND_PORT})
  --certs DIR              the embedded broker's certificate directory (created there when missing)
  --listen ADDR            address the embedded broker listens on (default 0.0.0.0)
  --broker HOST:PORT       a running broker the devices move to, instead of the embedded one
  --mosquitto DIR          with --broker: add each device's login to the Mosquitto of DIR
  --user-id U              user id stored on the devices (default 0)
  --account F              the JSON "meross cloud" printed: names the devices
  --device-port N          the devices' HTTP port (default 80)
  --concurrency N          devices moved at once (default ${MIGRATE_CONCURRENCY}, at most 16)
  --timeout S              seconds to wait for each reply (default ${HTTP_TIMEOUT_MS / 1000})
  --wait S                 seconds to wait for each device to log in (default ${MIGRATE_WAIT_MS / 1000})
  -h, --help               show this help

Exit status: 0 every device found is moved or already moved; 1 some device is not; 2 bad arguments.

Examples:
  meross migrate 192.168.1.0/24 --key-file ~/.meross-account-key --new-key-file ~/.meross-key --host 192.168.1.10 --certs ./certs
  meross migrate 192.168.1.0/24 --key-file ~/.meross-account-key --new-key-file ~/.meross-key --broker 192.168.1.10:8883 --mosquitto ./certs
`;

interface Embedded {
  certs: string;
  listen: string;
}

function accountNames(file: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    const why = err instanceof SyntaxError ? "not JSON" : ((err as NodeJS.ErrnoException).code ?? "unreadable");
    throw new UsageError(`--account "${file}" could not be read (${why}): give the JSON file "meross cloud" printed`);
  }
  const names = new Map<string, string>();
  const devices = isObject(parsed) && Array.isArray(parsed.devices) ? parsed.devices : [];
  for (const d of devices) if (isObject(d) && isUuid(d.uuid) && typeof d.name === "string") names.set(d.uuid.toLowerCase(), d.name);
  return names;
}

function hostPort(text: string): { host: string; port: number } {
  const m = /^([^:\s]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new UsageError(`--broker "${text}" is not HOST:PORT: write it like 192.168.1.10:8883`);
  return { host: m[1], port };
}

function parseArgs(argv: string[], io: CliIo): { opts: MigrateOptions; embedded?: Embedded } | "help" {
  const { values, positionals } = parse(argv, {
    ...KEY_OPTIONS,
    "new-key": { type: "string" },
    "new-key-file": { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    certs: { type: "string" },
    listen: { type: "string" },
    broker: { type: "string" },
    mosquitto: { type: "string" },
    "user-id": { type: "string" },
    account: { type: "string" },
    "device-port": { type: "string" },
    concurrency: { type: "string" },
    timeout: { type: "string" },
    wait: { type: "string" },
  });
  if (values.help) return "help";
  if (positionals.length === 0) throw new UsageError("give a subnet such as 192.168.1.0/24, or device addresses");
  const accountKey = secretFrom(values, io, "key", "MEROSS_KEY");
  if (accountKey === undefined)
    throw new UsageError("the account key is missing: give --key-file (the file meross cloud --key-file wrote)");
  const userId = str(values, "user-id");
  if (userId !== undefined && !/^\d+$/.test(userId)) throw new UsageError(`--user-id "${userId}" is not valid: use a whole number`);
  const running = str(values, "broker");
  const mosquitto = str(values, "mosquitto");
  const account = str(values, "account");
  const waitS = intOption("wait", str(values, "wait"), 1, 3600);
  let broker: { host: string; port: number };
  let embedded: Embedded | undefined;
  if (running !== undefined) {
    const stray = (["host", "port", "certs", "listen", "wait"] as const).find((f) => values[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} only applies to the embedded broker, not with --broker HOST:PORT`);
    broker = hostPort(running);
  } else {
    if (mosquitto !== undefined) throw new UsageError("--mosquitto needs --broker HOST:PORT: the Mosquitto the devices move to");
    const host = str(values, "host");
    if (!host)
      throw new UsageError("--host is required: the address of this machine the devices will connect to (or give --broker HOST:PORT)");
    const certs = str(values, "certs");
    if (!certs)
      throw new UsageError("--certs DIR is required: where the embedded broker's certificate is kept (created there when missing)");
    broker = { host, port: intOption("port", str(values, "port"), 1, 65535) ?? DEFAULT_REBIND_PORT };
    embedded = { certs, listen: str(values, "listen") ?? "0.0.0.0" };
  }
  const opts: MigrateOptions = {
    addresses: parseTargets(positionals.join(",")),
    listSilent: !positionals.some((p) => p.includes("/")),
    devicePort: intOption("device-port", str(values, "device-port"), 1, 65535),
    accountKey,
    newKey: secretFrom(values, io, "new-key", "MEROSS_NEW_KEY") ?? "",
    broker: { ...broker, userId: userId ?? "0" },
    waitMs: waitS === undefined ? MIGRATE_WAIT_MS : waitS * 1000,
    concurrency: intOption("concurrency", str(values, "concurrency"), 1, 16),
    timeoutMs: timeoutMs(str(values, "timeout"), HTTP_TIMEOUT_MS / 1000),
    signal: io.signal,
    ...(account !== undefined ? { names: accountNames(account) } : {}),
    ...(mosquitto !== undefined ? { addLogin: (d) => addMosquittoLogin(mosquitto, d) } : {}),
  };
  return { opts, embedded };
}

/** `moved           127.0.0.11  <uuid>  "Patio plug" — why` */
export function formatLine(l: MigrateLine): string {
  const who = [l.address, l.uuid, l.name ? `"${l.name}"` : undefined].filter(Boolean).join("  ");
  return `${l.outcome.padEnd(15)} ${who} — ${l.why}\n`;
}

async function startEmbedded(io: CliIo, opts: MigrateOptions, plan: Embedded): Promise<MerossBroker> {
  try {
    const certs = loadOrCreateCertificates(plan.certs, opts.broker.host, { mosquittoPort: opts.broker.port });
    const broker = await MerossBroker.start({ port: opts.broker.port, host: plan.listen, certs, keys: [opts.newKey] });
    io.stderr.write(`meross migrate: broker listening on ${brokerUrl(broker, opts.broker.host)}\n`);
    return broker;
  } catch (err) {
    if (err instanceof MerossError) throw err;
    throw new MerossError(
      "BAD_INPUT",
      `The broker certificates in ${plan.certs} could not be prepared (${(err as Error).message}). Choose a directory you can write to with --certs.`,
    );
  }
}

export async function migrateCommand(argv: string[], io: CliIo): Promise<number> {
  let broker: MerossBroker | undefined;
  let watcher: ArrivalWatcher | undefined;
  try {
    const parsed = parseArgs(argv, io);
    if (parsed === "help") {
      io.stdout.write(MIGRATE_HELP);
      return EXIT_OK;
    }
    const { opts, embedded } = parsed;
    if (embedded) {
      broker = await startEmbedded(io, opts, embedded);
      // Recording before any device is touched: each reconnects right after its SETACK.
      watcher = new ArrivalWatcher(broker);
    }
    const lines = await migrate({ ...opts, watcher, onLine: (l) => io.stdout.write(formatLine(l)) });
    const done = lines.filter((l) => l.outcome === "moved" || l.outcome === "already moved").length;
    io.stderr.write(`meross migrate: ${done} of ${lines.length} device(s) on the broker\n`);
    return done === lines.length ? EXIT_OK : EXIT_FAILED;
  } catch (err) {
    return reportError(io, "migrate", err);
  } finally {
    watcher?.close();
    await broker?.stop();
  }
}
