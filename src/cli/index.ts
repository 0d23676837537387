#!/usr/bin/env node
/**
 * The `meross` command: request, wifi, onboard, simulate, certs, broker. Each command is a function of
 * (argv, io) returning an exit code so tests run it in-process; only main() touches process.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { EXIT_OK, EXIT_USAGE, type CliIo, type Command } from "./io";
import { REQUEST_HELP, requestCommand } from "./request";
import { WIFI_HELP, wifiCommand } from "./wifi";
import { ONBOARD_HELP, onboardCommand } from "./onboard";
import { SIMULATE_HELP, simulateCommand } from "./simulate";
import { CERTS_HELP, certsCommand } from "./certs";
import { BROKER_HELP, brokerCommand } from "./broker";
import { SCHEDULE_HELP, scheduleCommand } from "./schedule";
import { REBIND_HELP, rebindCommand } from "./rebind";
import { CLOUD_HELP, cloudCommand } from "./cloud";
import { DISCOVER_HELP, discoverCommand } from "./discover";
import { MIGRATE_HELP, migrateCommand } from "./migrate";
import { terminalPrompt } from "./prompt";

export type { CliIo, Command } from "./io";

export const COMMANDS: Record<string, { run: Command; help: string; summary: string }> = {
  request: { run: requestCommand, help: REQUEST_HELP, summary: "send one signed request to a device and print the reply (replaces mCurl)" },
  wifi: { run: wifiCommand, help: WIFI_HELP, summary: "list the Wi-Fi networks a device in pairing mode can see" },
  onboard: { run: onboardCommand, help: ONBOARD_HELP, summary: "put a device in pairing mode on your Wi-Fi and MQTT broker" },
  simulate: { run: simulateCommand, help: SIMULATE_HELP, summary: "run a simulated device on 127.0.0.1" },
  certs: { run: certsCommand, help: CERTS_HELP, summary: "create the TLS certificates (and a mosquitto.conf) for a local MQTT broker" },
  schedule: {
    run: scheduleCommand,
    help: SCHEDULE_HELP,
    summary: "list, add or delete the timers and auto-off rules a device runs itself",
  },
  broker: { run: brokerCommand, help: BROKER_HELP, summary: "run an MQTT broker that Meross devices can log in to" },
  rebind: {
    run: rebindCommand,
    help: REBIND_HELP,
    summary: "move a device already on your network (Meross app, other broker) to your broker",
  },
  cloud: {
    run: cloudCommand,
    help: CLOUD_HELP,
    summary: "sign in to your Meross account once: user id, account key and device list, then sign out",
  },
  discover: {
    run: discoverCommand,
    help: DISCOVER_HELP,
    summary: "list the Meross devices answering on a subnet: uuid, model, key fits, where bound",
  },
  migrate: {
    run: migrateCommand,
    help: MIGRATE_HELP,
    summary: "move every device found on a subnet to your broker with a new key, one line per device",
  },
};

export const MAIN_HELP = `Usage: meross <command> [arguments] [options]

Local control of Meross bulbs and plugs, no cloud.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`)
  .join("\n")}
  help      show this help, or "meross help <command>" for one command

Options:
  -h, --help     show this help        -v, --version  show the version

Environment: MEROSS_KEY (device key), MEROSS_NEW_KEY (for rebind, migrate), MEROSS_WIFI_PASSWORD (for onboard),
MEROSS_MQTT_PASSWORD (broker password for request --broker), MEROSS_BROKER_USER
(NAME:PASS login accepted by "meross broker"), MEROSS_ACCOUNT_PASSWORD (for cloud). Each secret can also be read from a file
(--key-file, --password-file, --user-file), which keeps it out of shell history.
Exit status: 0 ok, 1 the device answered with an error, 2 bad arguments, timeout or unreachable.
`;

/** The package version; package.json sits two levels up from both src/cli and dist/cli. */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

/** Dispatches argv (without node and the script) to a command and returns its exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(MAIN_HELP);
    return EXIT_USAGE;
  }
  if (name === "--help" || name === "-h") {
    io.stdout.write(MAIN_HELP);
    return EXIT_OK;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    io.stdout.write(`${version()}\n`);
    return EXIT_OK;
  }
  if (name === "help") {
    const topic = rest[0];
    if (topic === undefined) {
      io.stdout.write(MAIN_HELP);
      return EXIT_OK;
    }
    if (!Object.prototype.hasOwnProperty.call(COMMANDS, topic)) {
      io.stderr.write(`meross: unknown command "${topic}"; commands are ${Object.keys(COMMANDS).join(", ")}\n`);
      return EXIT_USAGE;
    }
    io.stdout.write(COMMANDS[topic].help);
    return EXIT_OK;
  }
  if (!Object.prototype.hasOwnProperty.call(COMMANDS, name)) {
    io.stderr.write(`meross: unknown command "${name}"; commands are ${Object.keys(COMMANDS).join(", ")} (see "meross --help")\n`);
    return EXIT_USAGE;
  }
  return COMMANDS[name].run(rest, io);
}

/** The foreground servers stop cleanly on a signal (exit 0); the one-shot commands just exit. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<never> {
  const stop = new AbortController();
  const longRunning = argv[0] === "simulate" || argv[0] === "broker";
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!longRunning || stop.signal.aborted) process.exit(sig === "SIGINT" ? 130 : 143);
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const prompt = terminalPrompt(process.stdin, process.stderr);
  const code = await run(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: stop.signal, prompt });
  // Let piped stdout drain before exiting, or `meross wifi | jq` could lose the end of the output.
  await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  process.exit(code);
}

if (require.main === module) {
  void main();
}
