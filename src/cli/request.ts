/**
 * `meross request`: one raw signed request, the reply envelope printed as JSON. It replaces
 * the old mCurl shell tool, so it never second-guesses the user: no ability check.
 */
import { MerossDevice } from "../core/device";
import { MerossError } from "../core/errors";
import { REQUEST_METHODS, type RequestMethod } from "../core/protocol/message";
import { HTTP_TIMEOUT_MS } from "../core/transport/types";
import { EXIT_OK, UsageError, keyFrom, parse, printJson, reportError, str, timeoutMs, type CliIo } from "./io";

export const REQUEST_HELP = `Usage: meross request <device[:port]> <GET|SET|PUSH> <Namespace> [payload-json] [options]

Sends one signed request to a device over HTTP and prints the reply envelope as JSON.

Arguments:
  device[:port]   IP address or host name of the device, optionally with :port (default port 80)
  GET|SET|PUSH    request method
  Namespace       for example Appliance.System.All or Appliance.Control.ToggleX
  payload-json    the request payload as JSON (default {}). Most devices answer a GET
                  with {} ; some want {"<key>": {}}, e.g. {"togglex": {"channel": 0}}

Options:
  --key K         signing key (default: $MEROSS_KEY, else empty, which only unconfigured devices accept)
  --timeout S     seconds to wait for the reply (default ${HTTP_TIMEOUT_MS / 1000})
  -h, --help      show this help

Exit status: 0 reply received; 1 the device answered with an error (wrong key, unsupported
namespace, rejected payload: the reply is still printed) or with an unusable reply;
2 bad arguments, timeout or device unreachable.

Example:
  meross request 192.168.1.148 SET Appliance.Control.ToggleX '{"togglex":{"onoff":0}}' --key mykey
`;

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
    throw new UsageError(`the payload must be a JSON object such as {} or {"togglex":{"onoff":1}}, not ${Array.isArray(value) ? "an array" : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

export async function requestCommand(argv: string[], io: CliIo): Promise<number> {
  let device: MerossDevice | undefined;
  try {
    const { values, positionals } = parse(argv, { key: { type: "string" }, timeout: { type: "string" } });
    if (values.help) {
      io.stdout.write(REQUEST_HELP);
      return EXIT_OK;
    }
    if (positionals.length < 3) {
      throw new UsageError(`expected a device, a method and a namespace, got ${positionals.length} argument${positionals.length === 1 ? "" : "s"}`);
    }
    if (positionals.length > 4) {
      throw new UsageError(`too many arguments: the payload must be a single argument, so quote it ('{"a": 1}')`);
    }
    const [address, methodArg, namespace, payloadText] = positionals;
    const method = methodArg.toUpperCase();
    if (!(REQUEST_METHODS as readonly string[]).includes(method)) {
      throw new UsageError(`"${methodArg}" is not a request method: use GET, SET or PUSH`);
    }
    const payload = parsePayload(payloadText);
    const ms = timeoutMs(str(values, "timeout"), HTTP_TIMEOUT_MS / 1000);
    device = new MerossDevice({ address, key: keyFrom(values, io), timeoutMs: ms });
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
    await device?.close();
  }
}
