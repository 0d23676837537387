/**
 * `meross simulate`: one simulated device in the foreground, so the other commands, the
 * nodes and scripts can be tried without hardware. It prints a single ready line that
 * scripts wait for, and stops cleanly when its signal fires (SIGINT/SIGTERM in main).
 */
import { isUuid, UUID_RULE, describeValue } from "../core";
import { listModels, MODELS } from "../simulator/models";
import { DEMO_ACCOUNT } from "../simulator/cloud";
import { FLEET_MAX, startFleet } from "./simulate-fleet";
import { EXIT_OK, UsageError, intOption, keyFrom, parse, reportError, str, type CliIo } from "./io";

export const SIMULATE_HELP = `Usage: meross simulate [options]

Runs one simulated Meross device on 127.0.0.1 until interrupted (Ctrl-C or SIGTERM).
When it is ready it prints one line:
  simulating <model> uuid=<uuid> url=http://127.0.0.1:<port>/config [status=<url>] [cloud=<url> account=<e-mail>] [(unconfigured)]

Options:
  --port P          port to listen on (default 0: any free port, shown in the ready line)
  --model NAME      model to impersonate (default msl120; see --list-models)
  --unconfigured    start in pairing (access-point) mode, ready for "meross wifi" and "meross onboard"
  --key K           key the device expects requests to be signed with (default: $MEROSS_KEY, else empty)
  --uuid U          device uuid (default: a random one)
  --gateway H:P     a configured device connects to this MQTT broker over TLS at start, as if it had
                    been onboarded with it (e.g. "meross broker"); onboarding sets it otherwise
  --user-id U       userId for the broker login password (default 0)
  --status-port P   also serve the simulator's live status page on this port (0: any free port);
                    its address is added to the ready line as status=<url>
  --cloud-port P    also serve a simulated Meross account service on this port (0: any free port) for
                    "meross cloud --api <url>": account demo@example.com, password demo-password, whose
                    device list holds this device; without --key the device signs with that account's key
                    (demo-account-key), as a device set up by the Meross app does
  --fleet N         run N configured devices of --model (1-5000) on --gateway instead of one, each with a
                    uuid fixed by its index and, on a broker on this machine, its own 127.0.x.y address;
                    ready line: simulating fleet devices=<N> model=<model> first=<uuid> last=<uuid>
  --list-models     list the models and what they can do, then exit
  -h, --help        show this help
`;

const DEFAULT_MODEL = "msl120";

/** One model a line, name first, so `meross simulate --list-models | cut -d' ' -f1` gives names. */
export function formatModels(): string {
  const models = listModels();
  const width = Math.max(...models.map((m) => m.name.length));
  return models.map((m) => `${m.name.padEnd(width)}  ${m.features.join(", ") || "on/off"} — ${m.description}\n`).join("");
}

/** The simulated account service with one account: the demo's, holding this one device and its key. */
async function startCloud(device: { uuid: string; model: { name: string; firmwareVersion: string } }, key: string, port: number) {
  const { SimulatedCloud } = await import("../simulator/cloud");
  const account = {
    ...DEMO_ACCOUNT,
    key,
    devices: [{ uuid: device.uuid, name: device.model.name, model: device.model.name, firmware: device.model.firmwareVersion }],
  };
  return SimulatedCloud.start([account], port);
}

export async function simulateCommand(argv: string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parse(argv, {
      port: { type: "string" },
      model: { type: "string" },
      unconfigured: { type: "boolean" },
      key: { type: "string" },
      uuid: { type: "string" },
      "list-models": { type: "boolean" },
      "status-port": { type: "string" },
      gateway: { type: "string" },
      "user-id": { type: "string" },
      "cloud-port": { type: "string" },
      fleet: { type: "string" },
    });
    if (values.help) {
      io.stdout.write(SIMULATE_HELP);
      return EXIT_OK;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}": every setting is a --flag`);
    if (values["list-models"]) {
      io.stdout.write(formatModels());
      return EXIT_OK;
    }
    const model = str(values, "model") ?? DEFAULT_MODEL;
    if (!Object.prototype.hasOwnProperty.call(MODELS, model)) {
      throw new UsageError(
        `unknown model "${model}": choose one of ${listModels()
          .map((m) => m.name)
          .join(", ")}`,
      );
    }
    const uuid = str(values, "uuid");
    if (uuid !== undefined && !isUuid(uuid)) throw new UsageError(`--uuid ${describeValue(uuid)} is not valid: ${UUID_RULE}`);
    const port = intOption("port", str(values, "port"), 0, 65535) ?? 0;
    const gatewayText = str(values, "gateway");
    let gateway: { host: string; port: number } | undefined;
    if (gatewayText !== undefined) {
      const m = /^(.+):(\d+)$/.exec(gatewayText);
      if (!m) throw new UsageError(`--gateway "${gatewayText}" is not host:port (for example 127.0.0.1:8883)`);
      if (values.unconfigured)
        throw new UsageError("--gateway is for a configured device; an --unconfigured one gets its broker when it is onboarded");
      gateway = { host: m[1], port: intOption("gateway", m[2], 1, 65535) ?? 8883 };
    }
    const userId = str(values, "user-id");
    if (userId !== undefined && !/^\d+$/.test(userId)) throw new UsageError(`--user-id "${userId}" must be digits`);
    const statusPort = intOption("status-port", str(values, "status-port"), 0, 65535);
    const cloudPort = intOption("cloud-port", str(values, "cloud-port"), 0, 65535);
    if (cloudPort !== undefined && values.unconfigured)
      throw new UsageError("--cloud-port lists a configured device in an account; an --unconfigured one is in no account yet");
    const fleetSize = intOption("fleet", str(values, "fleet"), 1, FLEET_MAX);
    if (fleetSize !== undefined) {
      if (!gateway) throw new UsageError("--fleet needs --gateway host:port: a fleet is configured devices on one broker");
      if (uuid !== undefined || cloudPort !== undefined)
        throw new UsageError("--fleet chooses each device's uuid and has no account: drop --uuid and --cloud-port");
      if (io.signal?.aborted) return EXIT_OK;
      const fleet = await startFleet(fleetSize, { model, key: keyFrom(values, io), gateway, userId: userId ?? "0" }, statusPort);
      const ends = `first=${fleet.devices[0].uuid} last=${fleet.devices[fleet.devices.length - 1].uuid}`;
      return runUntilStopped(
        io,
        `simulating fleet devices=${fleetSize} model=${model} ${ends}${fleet.statusUrl ? ` status=${fleet.statusUrl}` : ""}\n`,
        () => fleet.stop(),
      );
    }
    if (io.signal?.aborted) return EXIT_OK;

    const spec = {
      model,
      host: "127.0.0.1",
      port,
      key: cloudPort !== undefined && keyFrom(values, io) === "" ? DEMO_ACCOUNT.key : keyFrom(values, io),
      unconfigured: values.unconfigured === true,
      ...(uuid !== undefined ? { uuid } : {}),
      ...(gateway ? { gateway, userId: userId ?? "0" } : {}),
    };
    // Loaded only here: the simulator is not needed by the commands that talk to real devices.
    let device: { uuid: string; url: string; model: { name: string; firmwareVersion: string } };
    let status = "";
    let stop: () => Promise<void>;
    if (statusPort === undefined) {
      const { SimulatedDevice } = await import("../simulator/device");
      const one = await SimulatedDevice.start(spec);
      device = one;
      stop = () => one.stop();
    } else {
      const { Fleet } = await import("../simulator/fleet");
      const fleet = await Fleet.start([spec], { statusPort });
      device = fleet.devices[0];
      status = ` status=${fleet.statusUrl}`;
      stop = () => fleet.stop();
    }
    let cloudText = "";
    if (cloudPort !== undefined) {
      try {
        const cloud = await startCloud(device, spec.key, cloudPort);
        cloudText = ` cloud=${cloud.url} account=${DEMO_ACCOUNT.email}`;
        const stopDevice = stop;
        stop = async () => {
          await cloud.stop();
          await stopDevice();
        };
      } catch (err) {
        await stop();
        throw new UsageError(`--cloud-port ${cloudPort} could not be used (${(err as Error).message}): pick another port or 0`);
      }
    }
    const ready = `simulating ${device.model.name} uuid=${device.uuid} url=${device.url}${status}${cloudText}${values.unconfigured ? " (unconfigured)" : ""}\n`;
    return runUntilStopped(io, ready, stop);
  } catch (err) {
    return reportError(io, "simulate", err);
  }
}

/** Prints the ready line and runs until the signal fires (Ctrl-C, SIGTERM), then stops. */
async function runUntilStopped(io: CliIo, ready: string, stop: () => Promise<void>): Promise<number> {
  try {
    io.stdout.write(ready);
    await new Promise<void>((resolve) => {
      if (!io.signal) return;
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener("abort", () => resolve(), { once: true });
    });
  } finally {
    await stop();
  }
  return EXIT_OK;
}
