/**
 * `meross cloud`: signs in to the Meross account once, prints the user id and the device list
 * as JSON, writes the account key to a 0600 file (or prints it on request), and signs out.
 * The password comes from a file, the environment or a prompt without echo, never from a flag
 * (a flag shows in the process list); it is not written anywhere.
 */
import { chmodSync, writeFileSync } from "node:fs";
import {
  CLOUD_TIMEOUT_MS,
  DEFAULT_CLOUD_API,
  checkServiceUrl,
  fetchCloudAccount,
  type CloudAccount,
  type CloudSignIn,
  MerossError,
  explainCloud,
  isEmail,
} from "../core";
import { EXIT_OK, UsageError, parse, printJson, readSecretFile, reportError, str, timeoutMs, type CliIo } from "./io";

export const CLOUD_HELP = `Usage: meross cloud --email ADDRESS [--key-file FILE | --show-key] [options]

Signs in to your Meross account once with its e-mail address and password, prints the
account's user id and its devices (uuid, name, model, firmware, online, hub sub-devices) as
JSON, and signs out again. The account key is what devices set up by the Meross app sign
with: "meross rebind" needs it as their current key. It is written to --key-file (created
with mode 0600) and printed only with --show-key.

The password is read from --password-file, else $MEROSS_ACCOUNT_PASSWORD, else asked on the
terminal without echo. It is used for this sign-in only and never stored or printed. When the
account has two-factor sign-in, the code is asked for (or give --mfa-code).

Options:
  --email ADDRESS       the e-mail address of the Meross account (default: $MEROSS_ACCOUNT_EMAIL)
  --password-file F     read the account password from file F
  --mfa-code C          the current code of the account's two-factor sign-in, when it has one
  --key-file F          write the account key to file F (mode 0600)
  --show-key            print the account key in the JSON output
  --api URL             the account service (default ${DEFAULT_CLOUD_API}; it sends you on to
                        your region); http:// only for 127.0.0.1 (the simulated service of
                        "meross simulate --cloud-port")
  --timeout S           seconds to wait for each answer (default ${CLOUD_TIMEOUT_MS / 1000})
  -h, --help            show this help

Exit status: 0 signed in; 1 the service refused (wrong password or code, too many sign-ins);
2 bad arguments, timeout or service unreachable.

Examples:
  meross cloud --email me@example.com --key-file ~/.meross-account-key
  meross simulate --cloud-port 8002 &   meross cloud --api http://127.0.0.1:8002 --email demo@example.com --show-key
`;

interface Plan {
  signIn: CloudSignIn;
  keyFile?: string;
  showKey: boolean;
}

async function plan(argv: string[], io: CliIo): Promise<Plan | "help"> {
  const { values, positionals } = parse(argv, {
    email: { type: "string" },
    password: { type: "string" },
    "password-file": { type: "string" },
    "mfa-code": { type: "string" },
    "key-file": { type: "string" },
    "show-key": { type: "boolean" },
    api: { type: "string" },
    timeout: { type: "string" },
  });
  if (values.help) return "help";
  if (values.password !== undefined) {
    throw new UsageError(
      "the password is not taken as a flag (it would show in the process list): use --password-file F, set MEROSS_ACCOUNT_PASSWORD, or type it when asked",
    );
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}": every setting is a --flag`);
  const keyFile = str(values, "key-file");
  if (keyFile === "") throw new UsageError("--key-file needs a file name");
  const timeout = timeoutMs(str(values, "timeout"), CLOUD_TIMEOUT_MS / 1000);
  const email = (str(values, "email") ?? io.env.MEROSS_ACCOUNT_EMAIL ?? (await io.prompt?.("Meross account e-mail: ", false)) ?? "").trim();
  // Checked before a password is asked for: nothing is sent with a bad address or service URL.
  if (!isEmail(email)) throw new MerossError("BAD_INPUT", explainCloud.badEmail());
  const apiUrl = checkServiceUrl(str(values, "api") ?? DEFAULT_CLOUD_API);
  const file = str(values, "password-file");
  let password = file !== undefined ? readSecretFile(file, "password-file") : io.env.MEROSS_ACCOUNT_PASSWORD;
  if (password === undefined) password = await io.prompt?.("Meross account password (not shown): ", true);
  if (password === undefined) {
    throw new UsageError("the account password is missing: give --password-file F or set MEROSS_ACCOUNT_PASSWORD (no terminal to ask on)");
  }
  const mfa = str(values, "mfa-code");
  const signIn: CloudSignIn = {
    email,
    password,
    apiUrl,
    timeoutMs: timeout,
    // Asked only when the service wants a code; without a terminal the service's "code required" is reported.
    mfaCode: mfa ?? (io.prompt ? async () => (await io.prompt?.("Two-factor code from your authenticator app: ", false)) ?? "" : undefined),
  };
  return { signIn, keyFile, showKey: values["show-key"] === true };
}

function writeKey(file: string, key: string): void {
  try {
    writeFileSync(file, `${key}\n`, { mode: 0o600 });
    // An existing file keeps its mode on write: tighten it too.
    chmodSync(file, 0o600);
  } catch (err) {
    throw new UsageError(
      `--key-file "${file}" could not be written (${(err as NodeJS.ErrnoException).code ?? "error"}): give a file path you can write to`,
    );
  }
}

function output(a: CloudAccount, p: Plan): Record<string, unknown> {
  const out: Record<string, unknown> = { userId: a.userId, email: a.email, domain: a.domain };
  if (p.showKey) out.key = a.key;
  else if (p.keyFile) out.keyFile = p.keyFile;
  out.devices = a.devices;
  out.signedOut = a.signedOut;
  return out;
}

export async function cloudCommand(argv: string[], io: CliIo): Promise<number> {
  try {
    const p = await plan(argv, io);
    if (p === "help") {
      io.stdout.write(CLOUD_HELP);
      return EXIT_OK;
    }
    const account = await fetchCloudAccount(p.signIn);
    if (p.keyFile) writeKey(p.keyFile, account.key);
    printJson(io, output(account, p));
    if (!p.keyFile && !p.showKey)
      io.stderr.write("meross cloud: the account key was not printed: give --key-file F to save it, or --show-key\n");
    if (!account.signedOut) io.stderr.write("meross cloud: the service did not confirm the sign-out; the sign-in expires by itself\n");
    return EXIT_OK;
  } catch (err) {
    return reportError(io, "cloud", err);
  }
}
