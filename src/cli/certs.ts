/**
 * `meross certs`: the private CA and broker certificate a Meross setup needs, since devices
 * only speak MQTT over TLS (docs/protocol.md §5.3), plus a ready mosquitto.conf for people who
 * prefer Mosquitto to the embedded broker.
 */
import fs from "node:fs";
import path from "node:path";
import {
  writeFileReplacing,
  CERT_DEFAULT_DAYS,
  MQTT_TLS_PORT,
  generateCertificates,
  writeCertificates,
  type CertificateFiles,
  ADMIN_USER,
  DEFAULT_CLIENT_USER,
  findDynsecPlugin,
  hasAdmin,
  newClientPassword,
  newSecurityConfig,
  readSecurityFile,
  readableAdvice,
  withAdmin,
  writeSecurityFile,
  ADMIN_PASSWORD_FILE,
} from "../core";
import { EXIT_OK, UsageError, intOption, parse, reportError, str, type CliIo } from "./io";

export const CERTS_HELP = `Usage: meross certs --host H --out DIR [options]

Creates a private certificate authority and a broker certificate for H, and a Mosquitto
configuration that lets no one in without a login:
  DIR/ca.crt  DIR/ca.key  DIR/server.crt  DIR/server.key  DIR/mosquitto.conf
  DIR/dynamic-security.json   logins and what each may read and write (Mosquitto's
                              dynamic-security plugin; passwords stored hashed)
  DIR/<user>.password         the random password of the Node-RED login, for Node-RED and
                              "meross request --broker --password-file"
  DIR/meross-admin.password   the random password of the admin login "meross-admin", which
                              may only use the plugin's control topic: "meross onboard" and
                              "meross rebind" (--mosquitto DIR) and Node-RED add device
                              logins through it while Mosquitto runs
then prints their paths. Devices do not check the certificate, but Node-RED,
"meross request --broker" and mosquitto_sub do: give them DIR/ca.crt.

The Node-RED login may read every device's messages and send them requests. Each device
gets its own login when it is onboarded or re-bound with --mosquitto DIR: it may
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
  /** The admin login's password file, when this run created the login. */
  adminFile?: string;
}

/** A random password in a file only the user can read; it is never printed. */
function newPasswordFile(file: string): string {
  const password = newClientPassword();
  writeFileReplacing(file, `${password}\n`, 0o600);
  return password;
}

/**
 * The Node-RED login and the admin login that adds device logins live; an existing logins
 * file (devices onboarded earlier) is kept as it is, and only gains the admin login when it
 * was written before that login existed.
 */
function prepareLogin(files: CertificateFiles, user: string): Login {
  const passwordFile = path.join(files.dir, `${user}.password`);
  const adminFile = path.join(files.dir, ADMIN_PASSWORD_FILE);
  // A link planted in the folder is not a logins file of ours: a new one replaces it (never read or written through).
  if (fs.lstatSync(files.securityFile, { throwIfNoEntry: false })?.isFile()) {
    const config = readSecurityFile(files.securityFile);
    if (hasAdmin(config)) return { user, passwordFile, created: false };
    writeSecurityFile(files.securityFile, withAdmin(config, newPasswordFile(adminFile)));
    return { user, passwordFile, created: false, adminFile };
  }
  const password = newPasswordFile(passwordFile);
  writeSecurityFile(files.securityFile, newSecurityConfig({ username: user, password }, newPasswordFile(adminFile)));
  return { user, passwordFile, created: true, adminFile };
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
    if (user === ADMIN_USER) throw new UsageError(`--user "${user}" is the admin login's name: choose another, for example nodered`);
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
      if (login.adminFile) rows.push([login.adminFile, `password of "${ADMIN_USER}", which adds device logins (readable only by you)`]);
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
    w(
      `(the folder ${files.dir} must be readable by it too; after the chown, "--mosquitto ${files.dir}" needs sudo only while Mosquitto is stopped)\n`,
    );
  }
  if (!o.anonymous && !fs.existsSync(o.plugin)) {
    w(`\nNote: ${o.plugin} was not found on this machine. Mosquitto 2.0 ships it; `);
    w(`correct the "plugin" line in ${files.mosquittoConf} or run again with --plugin PATH.\n`);
  }
  if (o.login?.adminFile && !o.login.created) {
    w(`\nThe "${ADMIN_USER}" login was added to ${files.securityFile}: restart Mosquitto once so it reads it.\n`);
  }
  w(`\nStart a broker with one of:\n  mosquitto -c ${files.mosquittoConf}\n`);
  w(`  meross broker --certs ${files.dir} --cert-host ${o.host} --port ${o.port}\n`);
  if (o.login) {
    w(
      `\nOnboard or re-bind devices with "meross onboard ... --mosquitto ${files.dir}" or "meross rebind ... --mosquitto ${files.dir}": ` +
        `each gets its login, added through the "${ADMIN_USER}" login while Mosquitto runs (no restart).\n` +
        `In Node-RED, a meross-broker "existing broker" adds them too once its Admin user is ${ADMIN_USER} ` +
        `and its Admin password the text in ${path.join(files.dir, ADMIN_PASSWORD_FILE)}.\n` +
        `Node-RED (meross-broker "existing broker") and "meross request" log in as ${o.login.user} ` +
        `with the password in ${o.login.passwordFile}:\n` +
        `  meross request --broker mqtts://${o.host}:${o.port} --ca ${files.caCert} ` +
        `--username ${o.login.user} --password-file ${o.login.passwordFile} --uuid UUID GET Appliance.System.All\n`,
    );
  }
}
