/**
 * `meross certs`: the private CA and broker certificate a Meross setup needs, since devices
 * only speak MQTT over TLS (docs/protocol.md §5.3), plus a ready mosquitto.conf for people who
 * prefer Mosquitto to the embedded broker.
 */
import fs from "node:fs";
import path from "node:path";
import { writeFileReplacing } from "../core/broker/files";
import { CERT_DEFAULT_DAYS, MQTT_TLS_PORT, generateCertificates, writeCertificates, type CertificateFiles } from "../core/broker/certs";
import {
  DEFAULT_CLIENT_USER,
  findDynsecPlugin,
  newClientPassword,
  newSecurityConfig,
  readableAdvice,
  writeSecurityFile,
} from "../core/broker/mosquitto";
import { EXIT_OK, UsageError, intOption, parse, reportError, str, type CliIo } from "./io";

export const CERTS_HELP = `Usage: meross certs --host H --out DIR [options]

Creates a private certificate authority and a broker certificate for H, and a Mosquitto
configuration that lets no one in without a login:
  DIR/ca.crt  DIR/ca.key  DIR/server.crt  DIR/server.key  DIR/mosquitto.conf
  DIR/dynamic-security.json   logins and what each may read and write (Mosquitto's
                              dynamic-security plugin; passwords stored hashed)
  DIR/<user>.password         the random password of the Node-RED login, for Node-RED and
                              "meross request --broker --password-file"
then prints their paths. Devices do not check the certificate, but Node-RED,
"meross request --broker" and mosquitto_sub do: give them DIR/ca.crt.

The Node-RED login may read every device's messages and send them requests. Each device
gets its own login when it is onboarded with "meross onboard --mosquitto DIR": it may
publish only its own messages and read only its own commands. ca.key, server.key, the
password and the logins are readable only by you; Mosquitto started as root (a system
service) reads them as user mosquitto, so the command prints the chown to run.
Running it again with --force replaces the certificates but keeps the logins.

Options:
  --host H       IP address or host name devices and clients use to reach the broker,
                 for example 192.168.1.10 (required; it is written into the certificate)
  --out DIR      directory to write to; created when missing (required)
  --port N       listener port written into mosquitto.conf (default ${MQTT_TLS_PORT})
  --days N       validity of both certificates in days (default ${CERT_DEFAULT_DAYS})
  --user NAME    user name of the Node-RED login (default ${DEFAULT_CLIENT_USER})
  --plugin PATH  where mosquitto_dynamic_security.so is (default: found on this machine)
  --anonymous    the classic open configuration instead: anyone who can reach the port may
                 read every device's messages and send any device commands (no logins)
  --force        replace certificates already in DIR (clients must then get the new ca.crt)
  -h, --help     show this help

Exit status: 0 written; 1 the files could not be written; 2 bad arguments.

Example:
  meross certs --host 192.168.1.10 --out ./certs && mosquitto -c ./certs/mosquitto.conf
`;

const CERT_FILES = ["ca.crt", "ca.key", "server.crt", "server.key"];

interface Login {
  user: string;
  passwordFile: string;
  created: boolean;
}

/** The Node-RED login; an existing logins file (devices onboarded earlier) is kept as it is. */
function prepareLogin(files: CertificateFiles, user: string): Login {
  const passwordFile = path.join(files.dir, `${user}.password`);
  if (fs.existsSync(files.securityFile)) return { user, passwordFile, created: false };
  const password = newClientPassword();
  writeFileReplacing(passwordFile, `${password}\n`, 0o600);
  writeSecurityFile(files.securityFile, newSecurityConfig({ username: user, password }));
  return { user, passwordFile, created: true };
}

export async function certsCommand(argv: string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parse(argv, {
      host: { type: "string" },
      out: { type: "string" },
      port: { type: "string" },
      days: { type: "string" },
      user: { type: "string" },
      plugin: { type: "string" },
      anonymous: { type: "boolean" },
      force: { type: "boolean" },
    });
    if (values.help) {
      io.stdout.write(CERTS_HELP);
      return EXIT_OK;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}": every setting is a --flag`);
    const host = str(values, "host");
    if (!host)
      throw new UsageError(
        "--host is required: the IP address or host name devices will use to reach the broker, for example --host 192.168.1.10",
      );
    const out = str(values, "out");
    if (!out) throw new UsageError("--out is required: the directory to write the certificates to, for example --out ./certs");
    const port = intOption("port", str(values, "port"), 1, 65535) ?? MQTT_TLS_PORT;
    const days = intOption("days", str(values, "days"), 1, 36500);
    const anonymous = values.anonymous === true;
    const user = str(values, "user") ?? DEFAULT_CLIENT_USER;
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(user)) {
      throw new UsageError(`--user "${user}" is not valid: use letters, digits, dots, dashes or underscores`);
    }
    if (anonymous && (values.user !== undefined || values.plugin !== undefined)) {
      throw new UsageError("--user and --plugin set up logins, which --anonymous turns off: give one or the other");
    }
    const plugin = str(values, "plugin") ?? findDynsecPlugin().path;
    const dir = path.resolve(out);
    const existing = CERT_FILES.filter((f) => fs.existsSync(path.join(dir, f)));
    if (existing.length > 0 && values.force !== true) {
      throw new UsageError(
        `${dir} already holds certificates (${existing.join(", ")}). Replacing them means every client that trusts the old ca.crt needs the new one: add --force to replace them, or choose another --out`,
      );
    }
    const certs = generateCertificates({ host, days });
    let files: CertificateFiles;
    let login: Login | undefined;
    try {
      files = writeCertificates(dir, certs, { mosquittoPort: port, anonymous, plugin });
      if (!anonymous) login = prepareLogin(files, user);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(
        `Could not write the certificates to ${dir} (${code ?? (err as Error).message}). Choose a directory you can write to with --out.`,
        { cause: err },
      );
    }
    const rows: Array<[string, string]> = [
      [files.caCert, "CA certificate: give it to MQTT clients that check the broker"],
      [files.caKey, "CA private key: keep it private"],
      [files.serverCert, `broker certificate for ${host}`],
      [files.serverKey, "broker private key"],
      [files.mosquittoConf, `Mosquitto configuration, listener on port ${port}, ${anonymous ? "ANONYMOUS ACCESS" : "logins required"}`],
    ];
    if (login) {
      const what = login.created ? `logins: "${user}" for Node-RED, devices are added when onboarded` : "logins: kept as they were";
      rows.push([files.securityFile, what]);
      if (login.created) rows.push([login.passwordFile, `password of "${user}" (readable only by you)`]);
    }
    const width = Math.max(...rows.map(([f]) => f.length));
    io.stdout.write(rows.map(([f, what]) => `${f.padEnd(width)}  ${what}\n`).join(""));
    report(io, files, { host, port, anonymous, plugin, login });
    return EXIT_OK;
  } catch (err) {
    return reportError(io, "certs", err);
  }
}

function report(
  io: CliIo,
  files: CertificateFiles,
  o: { host: string; port: number; anonymous: boolean; plugin: string; login?: Login },
): void {
  const w = (text: string): unknown => io.stdout.write(text);
  if (o.anonymous) {
    io.stderr.write(
      `meross certs: WARNING: --anonymous wrote a mosquitto.conf that lets anyone who can reach port ${o.port} read every device's messages ` +
        `and send commands to every device, without a password. Use it only on a network you fully trust; without --anonymous, logins are required.\n`,
    );
  }
  const privateFiles = o.anonymous ? [files.serverKey] : [files.serverKey, files.securityFile];
  const chown = readableAdvice(privateFiles);
  if (chown) {
    w(
      `\nMosquitto started as root or as a system service reads its files as user mosquitto, which cannot read them yet. Run:\n  ${chown}\n`,
    );
    w(`(the folder ${files.dir} must be readable by it too; after the chown, run "meross onboard --mosquitto" with sudo)\n`);
  }
  if (!o.anonymous && !fs.existsSync(o.plugin)) {
    w(`\nNote: ${o.plugin} was not found on this machine. Mosquitto 2.0 ships it; `);
    w(`correct the "plugin" line in ${files.mosquittoConf} or run again with --plugin PATH.\n`);
  }
  w(`\nStart a broker with one of:\n  mosquitto -c ${files.mosquittoConf}\n`);
  w(`  meross broker --certs ${files.dir} --cert-host ${o.host} --port ${o.port}\n`);
  if (o.login) {
    w(
      `\nOnboard devices with "meross onboard ... --mosquitto ${files.dir}" so each gets its login, then restart Mosquitto.\n` +
        `Node-RED (meross-broker "existing broker") and "meross request" log in as ${o.login.user} ` +
        `with the password in ${o.login.passwordFile}:\n` +
        `  meross request --broker mqtts://${o.host}:${o.port} --ca ${files.caCert} ` +
        `--username ${o.login.user} --password-file ${o.login.passwordFile} --uuid UUID GET Appliance.System.All\n`,
    );
  }
}
