/**
 * A private CA and a server certificate for the local MQTT broker (ours or Mosquitto).
 * Devices never check the certificate (docs/protocol.md §5.3), but Node-RED, mosquitto_sub and
 * the CLI do, so the chain must pass `openssl verify -purpose sslserver`.
 */
import fs from "node:fs";
import path from "node:path";
import net from "node:net";
import forge from "node-forge";
import { MerossError } from "../errors";
import { SECURITY_FILE, findDynsecPlugin } from "./mosquitto";
import { PACKET_LIMIT } from "./limits";
import { writeFileReplacing } from "./files";

export interface Certificates {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

export interface CertificateOptions {
  /** IP address or DNS name devices and clients use to reach the broker. */
  host: string;
  /** Validity of both certificates; 10 years by default so a running install never expires unnoticed. */
  days?: number;
}

export interface CertificateFiles {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  mosquittoConf: string;
  /** Logins and access rules Mosquitto reads through its dynamic-security plugin (see mosquitto.ts). */
  securityFile: string;
}

/** How the written mosquitto.conf lets clients in. */
export interface MosquittoSecurity {
  /** The classic open config: anyone on the LAN may read and publish any topic. Off by default. */
  anonymous?: boolean;
  /** Path of mosquitto_dynamic_security.so; found on this machine when omitted. */
  plugin?: string;
}

export const CERT_DEFAULT_DAYS = 3650;
/** The CA CN must differ from the server CN, or OpenSSL treats the leaf as self-signed. */
export const CA_COMMON_NAME = "Meross Local CA";
export const MQTT_TLS_PORT = 8883;

const FILE_NAMES = {
  caCert: "ca.crt",
  caKey: "ca.key",
  serverCert: "server.crt",
  serverKey: "server.key",
  mosquittoConf: "mosquitto.conf",
  securityFile: SECURITY_FILE,
} as const;

function checkHost(host: unknown): string {
  const h = typeof host === "string" ? host.trim() : "";
  if (!h || /[\s/\\?#@,]/.test(h) || h.length > 253) {
    throw new MerossError(
      "BAD_INPUT",
      `"${String(host)}" is not a usable broker address for the certificate. ` +
        `Give the IP address or host name that devices will connect to (for example 192.168.1.10 or broker.lan).`,
    );
  }
  return h.replace(/^\[(.*)\]$/, "$1");
}

function checkDays(days: unknown): number {
  const d = days === undefined ? CERT_DEFAULT_DAYS : days;
  if (typeof d !== "number" || !Number.isInteger(d) || d < 1 || d > 36500) {
    throw new MerossError("BAD_INPUT", `The certificate validity "${String(days)}" must be a whole number of days between 1 and 36500.`);
  }
  return d;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

type AltName = { type: 2; value: string } | { type: 7; ip: string };

/** SANs: what the user typed, plus both loopback spellings when they chose loopback. */
function altNamesFor(host: string): AltName[] {
  const names: AltName[] = [net.isIP(host) ? { type: 7, ip: host } : { type: 2, value: host }];
  if (isLoopback(host)) {
    if (host !== "127.0.0.1") names.push({ type: 7, ip: "127.0.0.1" });
    if (host !== "localhost") names.push({ type: 2, value: "localhost" });
  }
  return names;
}

/** A positive serial: DER integers with the high bit set would read as negative. */
function serialNumber(): string {
  return "01" + forge.util.bytesToHex(forge.random.getBytesSync(15));
}

function validity(cert: forge.pki.Certificate, days: number): void {
  const now = Date.now();
  // Back-dated a little: a device or client whose clock is slightly behind must not see "not yet valid".
  cert.validity.notBefore = new Date(now - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(now + days * 24 * 3600 * 1000);
}

/** RSA 2048 / SHA-256: the widest-supported choice for old device TLS stacks and Mosquitto. */
export function generateCertificates(opts: CertificateOptions): Certificates {
  const host = checkHost(opts?.host);
  const days = checkDays(opts?.days);
  const pki = forge.pki;

  const caKeys = pki.rsa.generateKeyPair({ bits: 2048 });
  const ca = pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serialNumber();
  validity(ca, days);
  const caAttrs = [
    { name: "commonName", value: CA_COMMON_NAME },
    { name: "organizationName", value: "node-red-contrib-meross-local" },
  ];
  ca.setSubject(caAttrs);
  ca.setIssuer(caAttrs);
  ca.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const serverKeys = pki.rsa.generateKeyPair({ bits: 2048 });
  const server = pki.createCertificate();
  server.publicKey = serverKeys.publicKey;
  server.serialNumber = serialNumber();
  validity(server, days);
  server.setSubject([{ name: "commonName", value: host }]);
  server.setIssuer(caAttrs);
  server.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: altNamesFor(host) },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  server.sign(caKeys.privateKey, forge.md.sha256.create());

  return {
    caCert: pki.certificateToPem(ca),
    caKey: pki.privateKeyToPem(caKeys.privateKey),
    serverCert: pki.certificateToPem(server),
    serverKey: pki.privateKeyToPem(serverKeys.privateKey),
  };
}

/**
 * What one client, logged in or not, may cost Mosquitto. A Meross message is at most 64 KiB
 * (PAYLOAD_LIMIT); without `max_packet_size` Mosquitto buffers a 256 MB CONNECT before it
 * checks the login. Meross keeps nothing retained (a retained push is not live state) and
 * speaks QoS 0/1, so a client may hold few messages in flight and a small queue.
 */
export const MOSQUITTO_BOUNDS: readonly string[] = [
  "# Bounds: no packet over 64 KiB plus topic and header, not even a CONNECT before login.",
  `max_packet_size ${PACKET_LIMIT + 4096}`,
  "# No retained messages: a retained device message is not live state, and the store has no bound.",
  "retain_available false",
  "# Per client: messages in flight and waiting to be sent to it.",
  "max_inflight_messages 20",
  "max_inflight_bytes 1048576",
  "max_queued_messages 200",
  "max_queued_bytes 2097152",
  // No memory_limit: with it, Mosquitto 2.0.11 miscounts the memory its dynamic-security plugin
  // frees, and after a few control-topic commands (logins added live, dynsec.ts) it refuses every
  // allocation, even with a 16 GB limit: "disconnected due to out of memory", then no new client.
];

/**
 * TLS (devices need it but do not check the certificate, docs/protocol.md §5.3) and, unless
 * `anonymous`, no client without a login: every login and what it may read or write is in
 * the dynamic-security file.
 */
export function mosquittoConfig(
  files: Pick<CertificateFiles, "caCert" | "serverCert" | "serverKey"> & Partial<Pick<CertificateFiles, "securityFile">>,
  port = MQTT_TLS_PORT,
  security: MosquittoSecurity = {},
): string {
  const access = security.anonymous
    ? ["# WARNING: anyone who can reach this port may read every device's messages and send them commands.", "allow_anonymous true"]
    : [
        "allow_anonymous false",
        `plugin ${security.plugin ?? findDynsecPlugin().path}`,
        `plugin_opt_config_file ${files.securityFile ?? path.join(path.dirname(files.serverKey), SECURITY_FILE)}`,
      ];
  return [
    "# Generated by node-red-contrib-meross-local. Meross devices need TLS but do not check the certificate.",
    "per_listener_settings false",
    "persistence false",
    ...MOSQUITTO_BOUNDS,
    `listener ${port}`,
    ...access,
    "require_certificate false",
    `cafile ${files.caCert}`,
    `certfile ${files.serverCert}`,
    `keyfile ${files.serverKey}`,
    "",
  ].join("\n");
}

/** Where each file lives in a certificate folder. */
function filesIn(abs: string): CertificateFiles {
  return {
    dir: abs,
    caCert: path.join(abs, FILE_NAMES.caCert),
    caKey: path.join(abs, FILE_NAMES.caKey),
    serverCert: path.join(abs, FILE_NAMES.serverCert),
    serverKey: path.join(abs, FILE_NAMES.serverKey),
    mosquittoConf: path.join(abs, FILE_NAMES.mosquittoConf),
    securityFile: path.join(abs, FILE_NAMES.securityFile),
  };
}

/**
 * Writes the PEM files and a mosquitto.conf with absolute paths. Both private keys are 0600:
 * Mosquitto started as root reads server.key as user `mosquitto` only after it is given the
 * file (mosquitto.ts readableAdvice says how).
 */
export function writeCertificates(
  dir: string,
  certs: Certificates,
  opts: { mosquittoPort?: number } & MosquittoSecurity = {},
): CertificateFiles {
  const abs = path.resolve(dir);
  fs.mkdirSync(abs, { recursive: true });
  const files = filesIn(abs);
  // A new file renamed into place: never through a link planted in the folder, and the mode is exact.
  const write = writeFileReplacing;
  write(files.caCert, certs.caCert, 0o644);
  write(files.caKey, certs.caKey, 0o600);
  write(files.serverCert, certs.serverCert, 0o644);
  write(files.serverKey, certs.serverKey, 0o600);
  write(files.mosquittoConf, mosquittoConfig(files, opts.mosquittoPort ?? MQTT_TLS_PORT, opts), 0o644);
  return files;
}

function readIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** True when the stored pair still fits: parses, chains, names `host`, and is valid for another day. */
function stillUsable(certs: Certificates, host: string): boolean {
  try {
    const ca = forge.pki.certificateFromPem(certs.caCert);
    const server = forge.pki.certificateFromPem(certs.serverCert);
    const key = forge.pki.privateKeyFromPem(certs.serverKey) as forge.pki.rsa.PrivateKey;
    forge.pki.privateKeyFromPem(certs.caKey);
    if (!ca.verify(server)) return false;
    const pub = server.publicKey as forge.pki.rsa.PublicKey;
    if (pub.n.compareTo(key.n) !== 0) return false;
    if (server.validity.notAfter.getTime() < Date.now() + 24 * 3600 * 1000) return false;
    const cn = server.subject.getField("CN");
    return cn !== null && cn.value === host;
  } catch {
    return false;
  }
}

/**
 * Reuses the certificates in `dir` across restarts (clients keep trusting the same CA) and
 * regenerates them when missing, damaged, expiring, or issued for another host.
 */
export function loadOrCreateCertificates(
  dir: string,
  host: string,
  opts: { days?: number; mosquittoPort?: number } = {},
): Certificates & { files: CertificateFiles; created: boolean } {
  const h = checkHost(host);
  const abs = path.resolve(dir);
  const stored = {
    caCert: readIfPresent(path.join(abs, FILE_NAMES.caCert)),
    caKey: readIfPresent(path.join(abs, FILE_NAMES.caKey)),
    serverCert: readIfPresent(path.join(abs, FILE_NAMES.serverCert)),
    serverKey: readIfPresent(path.join(abs, FILE_NAMES.serverKey)),
  };
  if (stored.caCert && stored.caKey && stored.serverCert && stored.serverKey) {
    const certs: Certificates = { caCert: stored.caCert, caKey: stored.caKey, serverCert: stored.serverCert, serverKey: stored.serverKey };
    if (stillUsable(certs, h)) {
      const files = writeConfOnly(abs, opts.mosquittoPort);
      return { ...certs, files, created: false };
    }
  }
  const certs = generateCertificates({ host: h, days: opts.days });
  const files = writeCertificates(abs, certs, { mosquittoPort: opts.mosquittoPort });
  return { ...certs, files, created: true };
}

/** Keeps an explicit `meross certs --anonymous` choice; anything else gets the locked-down config. */
function writeConfOnly(abs: string, port: number | undefined): CertificateFiles {
  const files = filesIn(abs);
  const anonymous = /^allow_anonymous true$/m.test(readIfPresent(files.mosquittoConf) ?? "");
  writeFileReplacing(files.mosquittoConf, mosquittoConfig(files, port ?? MQTT_TLS_PORT, { anonymous }), 0o644);
  return files;
}
