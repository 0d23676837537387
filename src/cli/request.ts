/**
 * `meross request`: one raw signed request, the reply envelope printed as JSON. It replaces
 * the old mCurl shell tool, so it never second-guesses the user: no ability check. With
 * --broker the same request goes over MQTT, for devices only reachable through their broker.
 */
import {
  isUuid,
  UUID_RULE,
  describeValue,
  MerossDevice,
  MerossError,
  REQUEST_METHODS,
  type RequestMethod,
  HTTP_TIMEOUT_MS,
  MqttConnection,
  MqttTransport,
  type MqttConnectOptions,
  checkBrokerUrl,
} from "../core";
import { readFileSync } from "node:fs";
import {
  EXIT_OK,
  KEY_OPTIONS,
  UsageError,
  keyFrom,
  parse,
  printJson,
  reportError,
  secretFrom,
  str,
  timeoutMs,
  type CliIo,
  type Parsed,
} from "./io";

export const REQUEST_HELP = `Usage: meross request <device[:port]> <GET|SET|PUSH> <Namespace> [payload-json] [options]
       meross request --broker mqtts://HOST:PORT --uuid UUID <GET|SET|PUSH> <Namespace> [payload-json] [options]

Sends one signed request to a device and prints the reply envelope as JSON: over HTTP
to the device's address, or with --broker through an MQTT broker the device is logged
in to (the embedded "meross broker" or Mosquitto). With --broker the device is picked
by --uuid, so the address is left out (or written as -).

Arguments:
  device[:port]   IP address or host name of the device, optionally with :port (default port 80)
  GET|SET|PUSH    request method
  Namespace       for example Appliance.System.All or Appliance.Control.ToggleX
  payload-json    the request payload as JSON (default {}). Most devices answer a GET
                  with {} ; some want {"<key>": {}}, e.g. {"togglex": {"channel": 0}}

Options:
  --key K         signing key (default: $MEROSS_KEY, else empty, which only unconfigured devices accept)
  --key-file F    read the signing key from file F instead (keeps it out of shell history)
  --timeout S     seconds to wait for the reply (and for the broker connection) (default ${HTTP_TIMEOUT_MS / 1000})
  -h, --help      show this help
MQTT (with --broker):
  --broker URL    the broker, mqtts://host:port (TLS, as devices use) or mqtt://host:port
  --uuid UUID     the device's 32-character uuid (hardware.uuid in Appliance.System.All)
  --ca FILE       CA certificate that signed the broker's certificate ("meross certs" writes ca.crt)
  --insecure      accept any broker certificate instead (devices do the same; you lose the check
                  that you reached your own broker)
  --username U    broker user name ("meross certs" creates nodered)
  --password P    broker password (default: $MEROSS_MQTT_PASSWORD)
  --password-file F  read the broker password from file F, such as the nodered.password
                  "meross certs" writes. The URL itself must not contain user:password@.

Exit status: 0 reply received; 1 the device answered with an error (wrong key, unsupported
namespace, rejected payload: the reply is still printed) or with an unusable reply;
2 bad arguments, timeout or device unreachable.

Example:
  meross request 192.168.1.148 SET Appliance.Control.ToggleX '{"togglex":{"onoff":0}}' --key mykey
  meross request --broker mqtts://192.168.1.10:8883 --ca certs/ca.crt --uuid 2308085712920951080748e1e9d58442 \\
    --username nodered --password-file certs/nodered.password GET Appliance.System.All --key-file ~/.meross-key
`;

const MQTT_ONLY = ["uuid", "ca", "insecure", "username", "password", "password-file"] as const;

/** The MQTT flags as connect options; a missing --ca fails on the certificate unless --insecure. */
function brokerOptions(values: Parsed["values"], io: CliIo, url: string, connectMs: number): MqttConnectOptions {
  try {
    checkBrokerUrl(url, "--username and --password-file (or $MEROSS_MQTT_PASSWORD)");
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const opts: MqttConnectOptions = { url, connectTimeoutMs: connectMs, reconnectPeriodMs: 0 };
  const ca = str(values, "ca");
  if (ca !== undefined && values.insecure === true) throw new UsageError("give either --ca FILE or --insecure, not both");
  if (ca !== undefined) {
    try {
      opts.ca = readFileSync(ca);
    } catch (err) {
      throw new UsageError(
        `--ca "${ca}" could not be read (${(err as NodeJS.ErrnoException).code ?? "unreadable"}): give the ca.crt file "meross certs" wrote`,
      );
    }
  }
  if (values.insecure === true) opts.rejectUnauthorized = false;
  const username = str(values, "username");
  const password = secretFrom(values, io, "password", "MEROSS_MQTT_PASSWORD");
  if (username !== undefined) opts.username = username;
  if (password !== undefined) opts.password = password;
  return opts;
}

/** Parses the payload argument; only a JSON object is a valid Meross payload. */
function parsePayload(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`the payload is not valid JSON. Put it in single quotes, for example '{"togglex":{"channel":0,"onoff":1}}'`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(
      `the payload must be a JSON object such as {} or {"togglex":{"onoff":1}}, not ${Array.isArray(value) ? "an array" : JSON.stringify(value)}`,
    );
  }
  return value as Record<string, unknown>;
}

function isMethod(s: string | undefined): boolean {
  return s !== undefined && (REQUEST_METHODS as readonly string[]).includes(s.toUpperCase());
}

export async function requestCommand(argv: string[], io: CliIo): Promise<number> {
  let device: MerossDevice | undefined;
  let connection: MqttConnection | undefined;
  let transport: MqttTransport | undefined;
  try {
    const { values, positionals } = parse(argv, {
      ...KEY_OPTIONS,
      timeout: { type: "string" },
      broker: { type: "string" },
      uuid: { type: "string" },
      ca: { type: "string" },
      insecure: { type: "boolean" },
      username: { type: "string" },
      password: { type: "string" },
      "password-file": { type: "string" },
    });
    if (values.help) {
      io.stdout.write(REQUEST_HELP);
      return EXIT_OK;
    }
    const broker = str(values, "broker");
    let args = positionals;
    if (broker === undefined) {
      const stray = MQTT_ONLY.find((f) => values[f] !== undefined);
      if (stray)
        throw new UsageError(`--${stray} only applies with --broker mqtts://host:port (requests to a device address go over HTTP)`);
      if (args.length < 3) {
        throw new UsageError(`expected a device, a method and a namespace, got ${args.length} argument${args.length === 1 ? "" : "s"}`);
      }
    } else {
      if (args[0] === "-") args = args.slice(1);
      else if (args.length >= 3 && !isMethod(args[0]) && isMethod(args[1])) {
        throw new UsageError(`with --broker the device is picked by --uuid: leave the address "${args[0]}" out, or write - in its place`);
      }
      if (!str(values, "uuid"))
        throw new UsageError("--uuid is required with --broker: the device's 32-character uuid (hardware.uuid in Appliance.System.All)");
      if (args.length < 2) {
        throw new UsageError(
          `expected a method and a namespace after the options, got ${args.length} argument${args.length === 1 ? "" : "s"}`,
        );
      }
      args = ["-", ...args];
    }
    if (args.length > 4) {
      throw new UsageError(`too many arguments: the payload must be a single argument, so quote it ('{"a": 1}')`);
    }
    const [address, methodArg, namespace, payloadText] = args;
    const method = methodArg.toUpperCase();
    if (!isMethod(method)) {
      throw new UsageError(`"${methodArg}" is not a request method: use GET, SET or PUSH`);
    }
    const payload = parsePayload(payloadText);
    const ms = timeoutMs(str(values, "timeout"), HTTP_TIMEOUT_MS / 1000);
    if (broker === undefined) {
      device = new MerossDevice({ address, key: keyFrom(values, io), timeoutMs: ms });
    } else {
      const opts = brokerOptions(values, io, broker, ms);
      // Validated before connecting, so a typo in the uuid is not reported as a broker problem.
      const uuid = str(values, "uuid") as string;
      if (!isUuid(uuid)) throw new UsageError(`--uuid ${describeValue(uuid)} is not valid: ${UUID_RULE}`);
      connection = await MqttConnection.connect(opts);
      transport = new MqttTransport({ uuid, client: connection, timeoutMs: ms });
      device = new MerossDevice({ transport, key: keyFrom(values, io), timeoutMs: ms });
    }
    try {
      const reply = await device.request(method as RequestMethod, namespace, payload, { checkAbility: false, timeoutMs: ms });
      printJson(io, reply);
      return EXIT_OK;
    } catch (err) {
      // An ERROR reply is still the answer the user asked for: print it, then say what it means.
      if (err instanceof MerossError && err.details.reply !== undefined) printJson(io, err.details.reply);
      return reportError(io, "request", err);
    }
  } catch (err) {
    return reportError(io, "request", err);
  } finally {
    // The creator closes: the session never closes a transport it was given, the transport never its connection.
    await device?.close();
    await transport?.close();
    await connection?.close();
  }
}
