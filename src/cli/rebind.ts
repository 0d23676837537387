/**
 * `meross rebind`: moves a device that is already on the network (set up by the Meross app or
 * another broker) to the user's broker with a new key, keeping its Wi-Fi. The protocol work is
 * the core's rebind(); this file turns flags into its options and its log into JSON, and with
 * --broker confirms the arrival the way `meross onboard --broker` does.
 */
import {
  DEFAULT_REBIND_PORT,
  RebindError,
  rebind,
  type RebindOptions,
  type RebindResult,
  type StepLogEntry,
  HTTP_TIMEOUT_MS,
  ARRIVAL_TIMEOUT_MS,
  ArrivalWatcher,
  MerossBroker,
  loadOrCreateCertificates,
  MerossError,
  addMosquittoLogin,
} from "../core";
import { brokerUrl } from "./broker";
import { printStep as printOneStep, reportArrival } from "./arrival";
import {
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  KEY_OPTIONS,
  UsageError,
  intOption,
  parse,
  printJson,
  reportError,
  secretFrom,
  str,
  timeoutMs,
  type CliIo,
} from "./io";

export const REBIND_HELP = `Usage: meross rebind DEVICE --key CURRENT --new-key NEW --host BROKER [--port ${DEFAULT_REBIND_PORT}] [options]

Moves a device that is already on your network (set up by the Meross app, or bound to
another broker) to your MQTT broker: signed with its current key, it sends only
Appliance.Config.Key with the new key, broker and user id. The device keeps its Wi-Fi, signs
its answer with the new key and then connects to the new broker. Prints the step log as JSON:
{steps, device, mqtt}. Keys are never printed.

With --broker it runs the embedded MQTT broker on --port for the duration, with the new key,
and waits for the device to log in to it; the log then ends with a step "device arrived".

With --mosquitto DIR (a folder made by "meross certs") the device's broker login and its
access rules are added after "read device" and before "set key" (step "add broker login"):
live through the control topic of the Mosquitto of DIR running on this machine, as
"meross-admin" (password in DIR/meross-admin.password), with no restart; when it is not
running, into DIR/dynamic-security.json, and the command says to restart Mosquitto.

Device:
  DEVICE              the device's address on your network, optionally with :port
  --key K             the key it signs with now (default: $MEROSS_KEY); for a device set up by
                      the Meross app, the key of your Meross account
  --key-file F        read the current key from file F instead
  --new-key K         the key it will sign with from now on (default: $MEROSS_NEW_KEY, else empty)
  --new-key-file F    read the new key from file F instead
  --user-id U         user id stored on the device (default 0)
  --timeout S         seconds to wait for each reply (default ${HTTP_TIMEOUT_MS / 1000})
Broker:
  --host H            MQTT broker host the device will connect to (required)
  --port N            MQTT broker port (default ${DEFAULT_REBIND_PORT})
  --second-host H     fallback broker host     --second-port N   fallback broker port
  --broker            run the embedded broker on --port while re-binding and wait for the device
  --certs DIR         with --broker: certificate directory (created there for --host when missing)
  --listen ADDR       with --broker: address to listen on (default 0.0.0.0, every interface)
  --wait S            with --broker: seconds to wait for the device to log in (default ${ARRIVAL_TIMEOUT_MS / 1000})
  --mosquitto DIR     add the device's login to the Mosquitto set-up "meross certs --out DIR" wrote
  -h, --help          show this help

Exit status: 0 re-bound (and, with --broker, arrived); 1 the device refused (wrong current key:
the partial step log is printed); 2 bad arguments, timeout (including a device that never
arrived) or device unreachable.

Examples:
  meross rebind 192.168.1.30 --key-file ~/.meross-account-key --new-key-file ~/.meross-key --host 192.168.1.10 --port 8883
  meross rebind 192.168.1.30 --key ACCOUNTKEY --new-key mykey --host 192.168.1.10 --broker --certs ./certs
  meross rebind 192.168.1.30 --key-file ~/.meross-account-key --new-key-file ~/.meross-key --host 192.168.1.10 --mosquitto ./certs
`;

interface BrokerPlan {
  certs: string;
  listen: string;
  waitMs: number;
}

const printStep = (io: CliIo, s: StepLogEntry): void => printOneStep(io, "rebind", s);

function parseArgs(argv: string[], io: CliIo): { opts: RebindOptions; plan?: BrokerPlan } | "help" {
  const { values, positionals } = parse(argv, {
    ...KEY_OPTIONS,
    "new-key": { type: "string" },
    "new-key-file": { type: "string" },
    "user-id": { type: "string" },
    timeout: { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    "second-host": { type: "string" },
    "second-port": { type: "string" },
    broker: { type: "boolean" },
    certs: { type: "string" },
    listen: { type: "string" },
    wait: { type: "string" },
    mosquitto: { type: "string" },
  });
  if (values.help) return "help";
  if (positionals.length !== 1)
    throw new UsageError("give the device's address once, for example: meross rebind 192.168.1.30 --key K --new-key N --host H");
  const host = str(values, "host");
  if (!host) throw new UsageError("--host is required: the IP address or host name of the MQTT broker the device should use");
  const userId = str(values, "user-id");
  if (userId !== undefined && !/^\d+$/.test(userId))
    throw new UsageError(`--user-id "${userId}" is not valid: use a whole number (devices store it as a number)`);
  const currentKey = secretFrom(values, io, "key", "MEROSS_KEY");
  if (currentKey === undefined)
    throw new UsageError(
      "the current key is missing: give --key, " + "--key-file or set MEROSS_KEY (for an app-paired device, your Meross account key)",
    );
  const opts: RebindOptions = {
    address: positionals[0],
    currentKey,
    newKey: secretFrom(values, io, "new-key", "MEROSS_NEW_KEY") ?? "",
    broker: { host, port: intOption("port", str(values, "port"), 1, 65535) ?? DEFAULT_REBIND_PORT, userId: userId ?? "0" },
    timeoutMs: timeoutMs(str(values, "timeout"), HTTP_TIMEOUT_MS / 1000),
    onStep: (s) => printStep(io, s),
  };
  const secondHost = str(values, "second-host");
  const secondPort = intOption("second-port", str(values, "second-port"), 1, 65535);
  if (secondHost !== undefined) opts.broker.secondHost = secondHost;
  if (secondPort !== undefined) opts.broker.secondPort = secondPort;
  const mosquitto = str(values, "mosquitto");
  if (mosquitto !== undefined) {
    if (values.broker === true)
      throw new UsageError("--mosquitto and --broker exclude each other: the device uses either Mosquitto or the embedded broker");
    opts.addLogin = (device) => addMosquittoLogin(mosquitto, device);
  }
  if (values.broker !== true) {
    const stray = (["certs", "listen", "wait"] as const).find((f) => values[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} only applies with --broker (running the embedded broker while re-binding)`);
    return { opts };
  }
  const certs = str(values, "certs");
  if (!certs) throw new UsageError("--broker needs --certs DIR: where the broker certificate is kept (created there when missing)");
  const waitS = intOption("wait", str(values, "wait"), 1, 3600);
  return {
    opts,
    plan: { certs, listen: str(values, "listen") ?? "0.0.0.0", waitMs: waitS === undefined ? ARRIVAL_TIMEOUT_MS : waitS * 1000 },
  };
}

function failed(io: CliIo, err: unknown): number {
  if (err instanceof RebindError) {
    printJson(io, { steps: err.steps, error: err.toJSON() });
    reportError(io, "rebind", err);
    return err.code === "TIMEOUT" || err.code === "UNREACHABLE" ? EXIT_USAGE : EXIT_FAILED;
  }
  return reportError(io, "rebind", err);
}

export async function rebindCommand(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv, io);
  } catch (err) {
    return reportError(io, "rebind", err);
  }
  if (parsed === "help") {
    io.stdout.write(REBIND_HELP);
    return EXIT_OK;
  }
  const { opts, plan } = parsed;
  if (!plan) {
    try {
      const result = await rebind(opts);
      printJson(io, result);
      if (result.mosquitto?.reload) io.stderr.write(`meross rebind: ${result.mosquitto.reload}\n`);
      return EXIT_OK;
    } catch (err) {
      return failed(io, err);
    }
  }
  let broker: MerossBroker;
  let watcher: ArrivalWatcher;
  try {
    const port = opts.broker.port ?? DEFAULT_REBIND_PORT;
    try {
      const certs = loadOrCreateCertificates(plan.certs, opts.broker.host, { mosquittoPort: port });
      broker = await MerossBroker.start({ port, host: plan.listen, certs, keys: [opts.newKey] });
    } catch (err) {
      if (err instanceof MerossError) throw err;
      throw new MerossError(
        "BAD_INPUT",
        `The broker certificates in ${plan.certs} could not be prepared (${(err as Error).message}). ` +
          `Choose a directory you can write to with --certs.`,
      );
    }
    io.stderr.write(`meross rebind: ok   broker listening on ${brokerUrl(broker, opts.broker.host)}\n`);
    // Recording before the device is touched: it reconnects right after its SETACK.
    watcher = new ArrivalWatcher(broker);
  } catch (err) {
    return reportError(io, "rebind", err);
  }
  try {
    let result: RebindResult;
    try {
      result = await rebind(opts);
    } catch (err) {
      return failed(io, err);
    }
    return await reportArrival(io, "rebind", watcher, result, plan.waitMs);
  } finally {
    watcher.close();
    await broker.stop();
  }
}
