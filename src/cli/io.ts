/**
 * What every `meross` command shares: the injected I/O (so tests run commands in-process),
 * argument parsing that fails with one line, and the mapping from error codes to exit codes.
 */
import { readFileSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { MerossError, type MerossErrorCode } from "../core";

/** Where a command writes and what it reads from the environment; `signal` ends long-running commands. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** Asks a person at a terminal (`hidden`: typed without echo); undefined when nobody can answer. */
  prompt?: (question: string, hidden: boolean) => Promise<string | undefined>;
}

/** A command: argv after the command name in, exit code out. */
export type Command = (argv: string[], io: CliIo) => Promise<number>;

/** Exit codes: 0 ok, 1 the device said no or answered nonsense, 2 bad arguments or no answer at all. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A mistake in the command line itself; reported as one line with exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** parseArgs with the Node error text cut to its first sentence (Node appends a multi-line hint). */
export function parse(argv: string[], options: Options): Parsed {
  try {
    const r = parseArgs({
      args: joinNegativeValues(argv, options),
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    return { values: r.values as Parsed["values"], positionals: r.positionals };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new UsageError(msg.split("\n")[0].replace(/\. To specify a positional argument.*$/, "."));
  }
}

/**
 * `--lon -0.13` as `--lon=-0.13`: a value option followed by a negative number takes it
 * (parseArgs would call it ambiguous, and no option of ours looks like "-0").
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = /^--([a-z-]+)$/.exec(argv[i])?.[1];
    const next = argv[i + 1];
    if (name && options[name]?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

export function str(values: Parsed["values"], name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

/** A repeatable flag (`multiple: true`): every value given, in order. */
export function list(values: Parsed["values"], name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
}

/** Timeout flags are in seconds, like the old shell tools; the core wants milliseconds. */
export function timeoutMs(value: string | undefined, defaultSeconds: number): number {
  if (value === undefined) return defaultSeconds * 1000;
  const s = Number(value);
  if (!Number.isFinite(s) || s <= 0 || s > 3600) {
    throw new UsageError(`--timeout "${value}" is not valid: give the number of seconds to wait, for example --timeout 10.`);
  }
  return Math.round(s * 1000);
}

/** A whole number flag within bounds, with a sentence naming the flag when it is not one. */
export function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} "${value}" is not valid: use a whole number from ${min} to ${max}.`);
  }
  return n;
}

const NO_ANSWER: readonly MerossErrorCode[] = ["TIMEOUT", "UNREACHABLE", "BAD_INPUT"];

/** TIMEOUT/UNREACHABLE (nothing answered) and BAD_INPUT (our mistake) exit 2; a device that answered "no" exits 1. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT_USAGE;
  if (err instanceof MerossError && NO_ANSWER.includes(err.code)) return EXIT_USAGE;
  return EXIT_FAILED;
}

/** Writes the one-line reason for a failure; never a stack trace. */
export function reportError(io: CliIo, command: string, err: unknown): number {
  const msg = err instanceof Error ? err.message : String(err);
  const hint = err instanceof UsageError ? ` (see "meross ${command} --help")` : "";
  io.stderr.write(`meross ${command}: ${msg.replace(/\s*\n\s*/g, " ")}${hint}\n`);
  return exitCodeFor(err);
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The contents of a secret file, without the newline editors and `echo` add at its end. */
export function readSecretFile(file: string, flag: string): string {
  try {
    return readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch (err) {
    throw new UsageError(
      `--${flag} "${file}" could not be read (${(err as NodeJS.ErrnoException).code ?? "unreadable"}): give a file you can read that holds only the secret`,
    );
  }
}

/**
 * A secret from --NAME, else --NAME-file, else the environment variable. The file and the
 * variable keep it out of shell history and `ps` listings, where a flag value shows up.
 */
export function secretFrom(values: Parsed["values"], io: CliIo, name: string, envName: string): string | undefined {
  const direct = str(values, name);
  const file = str(values, `${name}-file`);
  if (direct !== undefined && file !== undefined) throw new UsageError(`give either --${name} or --${name}-file, not both`);
  if (file !== undefined) return readSecretFile(file, `${name}-file`);
  return direct ?? io.env[envName];
}

/** The signing key: --key, then --key-file, then MEROSS_KEY, then "" (what unconfigured devices accept). */
export function keyFrom(values: Parsed["values"], io: CliIo): string {
  return secretFrom(values, io, "key", "MEROSS_KEY") ?? "";
}

/** The parse options every command with a signing key shares. */
export const KEY_OPTIONS = { key: { type: "string" }, "key-file": { type: "string" } } as const;
