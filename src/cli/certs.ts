/**
 * `meross certs`: the private CA and broker certificate a Meross setup needs, since devices
 * only speak MQTT over TLS (protocol.md §5.3), plus a ready mosquitto.conf for people who
 * prefer Mosquitto to the embedded broker.
 */
import fs from "node:fs";
import path from "node:path";
import { CERT_DEFAULT_DAYS, MQTT_TLS_PORT, generateCertificates, writeCertificates } from "../core/broker/certs";
import { EXIT_OK, UsageError, intOption, parse, reportError, str, type CliIo } from "./io";

export const CERTS_HELP = `Usage: meross certs --host H --out DIR [options]

Creates a private certificate authority and a broker certificate for H, and writes
  DIR/ca.crt  DIR/ca.key  DIR/server.crt  DIR/server.key  DIR/mosquitto.conf
then prints their paths. Devices do not check the certificate, but Node-RED,
"meross request --broker" and mosquitto_sub do: give them DIR/ca.crt.
ca.key is readable only by you; server.key stays readable by others because
Mosquitto reads it after dropping root.

Options:
  --host H       IP address or host name devices and clients use to reach the broker,
                 for example 192.168.1.10 (required; it is written into the certificate)
  --out DIR      directory to write to; created when missing (required)
  --port N       listener port written into mosquitto.conf (default ${MQTT_TLS_PORT})
  --days N       validity of both certificates in days (default ${CERT_DEFAULT_DAYS})
  --force        replace certificates already in DIR (clients must then get the new ca.crt)
  -h, --help     show this help

Exit status: 0 written; 1 the files could not be written; 2 bad arguments.

Example:
  meross certs --host 192.168.1.10 --out ./certs && mosquitto -c ./certs/mosquitto.conf
`;

const CERT_FILES = ["ca.crt", "ca.key", "server.crt", "server.key"];

export async function certsCommand(argv: string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parse(argv, {
      host: { type: "string" },
      out: { type: "string" },
      port: { type: "string" },
      days: { type: "string" },
      force: { type: "boolean" },
    });
    if (values.help) {
      io.stdout.write(CERTS_HELP);
      return EXIT_OK;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}": every setting is a --flag`);
    const host = str(values, "host");
    if (!host) throw new UsageError("--host is required: the IP address or host name devices will use to reach the broker, for example --host 192.168.1.10");
    const out = str(values, "out");
    if (!out) throw new UsageError("--out is required: the directory to write the certificates to, for example --out ./certs");
    const port = intOption("port", str(values, "port"), 1, 65535) ?? MQTT_TLS_PORT;
    const days = intOption("days", str(values, "days"), 1, 36500);
    const dir = path.resolve(out);
    const existing = CERT_FILES.filter((f) => fs.existsSync(path.join(dir, f)));
    if (existing.length > 0 && values.force !== true) {
      throw new UsageError(
        `${dir} already holds certificates (${existing.join(", ")}). Replacing them means every client that trusts the old ca.crt needs the new one: add --force to replace them, or choose another --out`,
      );
    }
    const certs = generateCertificates({ host, days });
    let files;
    try {
      files = writeCertificates(dir, certs, { mosquittoPort: port });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(`Could not write the certificates to ${dir} (${code ?? (err as Error).message}). Choose a directory you can write to with --out.`);
    }
    const rows: Array<[string, string]> = [
      [files.caCert, "CA certificate: give it to MQTT clients that check the broker"],
      [files.caKey, "CA private key: keep it private"],
      [files.serverCert, `broker certificate for ${host}`],
      [files.serverKey, "broker private key"],
      [files.mosquittoConf, `Mosquitto configuration, listener on port ${port}`],
    ];
    const width = Math.max(...rows.map(([f]) => f.length));
    io.stdout.write(rows.map(([f, what]) => `${f.padEnd(width)}  ${what}\n`).join(""));
    io.stdout.write(`\nStart a broker with one of:\n  mosquitto -c ${files.mosquittoConf}\n  meross broker --certs ${files.dir} --cert-host ${host} --port ${port}\n`);
    return EXIT_OK;
  } catch (err) {
    return reportError(io, "certs", err);
  }
}
