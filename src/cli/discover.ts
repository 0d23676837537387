/**
 * `meross discover`: lists the Meross devices that answer on a subnet or at given addresses,
 * with whether the key fits and where each is bound now, as JSON. The scan is the core's
 * discover(); this file turns flags into its options.
 */
import { readFileSync } from "node:fs";
import { DISCOVER_CONCURRENCY, DISCOVER_TIMEOUT_MS, discover, parseTargets, type DiscoverOptions, isObject, isUuid } from "../core";
import {
  EXIT_OK,
  KEY_OPTIONS,
  UsageError,
  intOption,
  keyFrom,
  list,
  parse,
  printJson,
  reportError,
  str,
  timeoutMs,
  type CliIo,
} from "./io";

export const DISCOVER_HELP = `Usage: meross discover SUBNET|ADDRESS... [--key-file F] [options]

Lists the Meross devices that answer on a subnet (CIDR, at most a /22, e.g. 192.168.1.0/24)
or at the given addresses: address, uuid, model, firmware, name (with --account), whether
the key fits, and where the device is bound now: "meross-cloud", "this-broker" (one of
--broker), "other-broker", "none", or "unknown" when the key does not fit. Prints JSON
{scanned, found}. Each address gets one signed request; ${DISCOVER_CONCURRENCY} at a time, each within a short timeout.

Options:
  --key K / --key-file F  the key to try (default: $MEROSS_KEY); for devices set up by the
                          Meross app, the account key "meross cloud --key-file" wrote
  --account F             the JSON "meross cloud" printed: names the devices by uuid
  --broker H[:P]          a broker of yours (repeatable): devices bound to it show "this-broker"
  --port N                the devices' HTTP port (default 80)
  --concurrency N         addresses tried at once (default ${DISCOVER_CONCURRENCY}, at most 64)
  --timeout S             seconds to wait for each address (default ${DISCOVER_TIMEOUT_MS / 1000})
  -h, --help              show this help

Examples:
  meross discover 192.168.1.0/24 --key-file ~/.meross-account-key --account account.json --broker 192.168.1.10:8883
  meross discover 192.168.1.30,192.168.1.31 --key-file ~/.meross-key
`;

/** uuid → name from the output of `meross cloud` (or any JSON with devices[].uuid/name). */
function accountNames(file: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    const why = err instanceof SyntaxError ? "not JSON" : ((err as NodeJS.ErrnoException).code ?? "unreadable");
    throw new UsageError(`--account "${file}" could not be read (${why}): give the JSON file "meross cloud" printed`);
  }
  const devices = isObject(parsed) && Array.isArray(parsed.devices) ? parsed.devices : [];
  const names = new Map<string, string>();
  for (const d of devices) if (isObject(d) && isUuid(d.uuid) && typeof d.name === "string") names.set(d.uuid.toLowerCase(), d.name);
  return names;
}

function plan(argv: string[], io: CliIo): DiscoverOptions | "help" {
  const { values, positionals } = parse(argv, {
    ...KEY_OPTIONS,
    account: { type: "string" },
    broker: { type: "string", multiple: true },
    port: { type: "string" },
    concurrency: { type: "string" },
    timeout: { type: "string" },
  });
  if (values.help) return "help";
  if (positionals.length === 0) throw new UsageError("give a subnet such as 192.168.1.0/24, or device addresses");
  const account = str(values, "account");
  return {
    addresses: parseTargets(positionals.join(",")),
    key: keyFrom(values, io),
    port: intOption("port", str(values, "port"), 1, 65535),
    concurrency: intOption("concurrency", str(values, "concurrency"), 1, 64),
    timeoutMs: timeoutMs(str(values, "timeout"), DISCOVER_TIMEOUT_MS / 1000),
    ourBrokers: list(values, "broker"),
    ...(account !== undefined ? { names: accountNames(account) } : {}),
    signal: io.signal,
  };
}

export async function discoverCommand(argv: string[], io: CliIo): Promise<number> {
  try {
    const opts = plan(argv, io);
    if (opts === "help") {
      io.stdout.write(DISCOVER_HELP);
      return EXIT_OK;
    }
    const found = await discover(opts);
    printJson(io, { scanned: opts.addresses.length, found });
    return EXIT_OK;
  } catch (err) {
    return reportError(io, "discover", err);
  }
}
