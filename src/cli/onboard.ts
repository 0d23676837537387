/**
 * `meross onboard`: takes a device in pairing mode onto the user's Wi-Fi and MQTT broker,
 * replacing the old onboard shell tool (same --from-json convention). All protocol work
 * is the core's onboard(); this file only turns flags into its options and its log into JSON.
 */
import * as path from "node:path";
import {
  AP_ADDRESS,
  DEFAULT_MQTT_PORT,
  OnboardingError,
  onboard,
  type OnboardOptions,
  type OnboardResult,
  type OnboardWifi,
  type StepLogEntry,
  HTTP_TIMEOUT_MS,
  ARRIVAL_TIMEOUT_MS,
  ArrivalWatcher,
  MerossBroker,
  loadOrCreateCertificates,
  IDENTITY_FILE,
  IdentityBook,
  MerossError,
  addMosquittoLogin,
} from "../core";
import { brokerUrl } from "./broker";
import { printStep as printOneStep, reportArrival } from "./arrival";
import {
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  KEY_OPTIONS,
  UsageError,
  intOption,
  keyFrom,
  parse,
  printJson,
  reportError,
  secretFrom,
  str,
  timeoutMs,
  type CliIo,
} from "./io";

export const ONBOARD_HELP = `Usage: meross onboard --host MQTT_HOST --ssid SSID --password P [options]

Configures a device in pairing (access-point) mode: reads it, scans Wi-Fi (unless the
network is fully described), sets its key and MQTT broker, sets its clock, then sends the
Wi-Fi settings, after which the device reboots and joins your network. Prints the step log
as JSON: {steps, device, mqtt, wifi} (mqtt holds the broker user name the device will use;
its password is derived from the key and not printed). Progress goes to stderr. The Wi-Fi
password, the key and the broker password are never printed.

With --mosquitto DIR (a folder made by "meross certs") the device's own broker login (user
= its MAC, password derived from the key, stored hashed) and its access rules (it may
publish only its own messages and read only its own commands) are added before the device
is told about the broker (step "add broker login"): while the Mosquitto of DIR runs on this
machine, live through its control topic as "meross-admin" (password in
DIR/meross-admin.password), with no restart; when it is not running, into
DIR/dynamic-security.json, and the command says to restart Mosquitto (it does not reread
that file on SIGHUP).

With --broker it also runs the embedded MQTT broker on --port for the duration, with the
new key, and after the Wi-Fi step waits for the device to log in to it (a device only
settles if its first broker connection succeeds). The log then ends with a step
{"name": "device arrived", "ok": true, "ms": ..., "detail": "<uuid> at <ip>"} and an
"arrival" object {uuid, mac, ip, model, firmware, ms}. If it does not arrive in time the
step fails with the likely cause: the broker refused its key, it is still in
access-point mode (wrong Wi-Fi password, or a 5 GHz network), or it never reached the
broker (wrong host or port, firewall). Keep a broker running for the device afterwards
("meross broker" or Mosquitto with "meross certs"). The onboarding is the proof that the key
is the device's own: it is kept in DIR/device-identities.json, so "meross broker --certs DIR"
lets no other key use the device's uuid.

A device that could not join Wi-Fi comes back in access-point mode holding the key it
was given: run the same command again (same --key) with the right password. A device in
access-point mode that signs with another key was set up elsewhere: factory-reset it (hold
its button about 5 s) or onboard with that key.

Broker:
  --host H            MQTT broker host the device will connect to (required): this machine's
                      LAN address when the broker runs here
  --port N            MQTT broker port (default ${DEFAULT_MQTT_PORT})
  --second-host H     fallback broker host     --second-port N   fallback broker port
  --broker            run the embedded broker on --port while onboarding and wait for the device
  --certs DIR         with --broker: certificate directory (created there for --host when missing)
  --listen ADDR       with --broker: address to listen on (default 0.0.0.0, every interface)
  --wait S            with --broker: seconds to wait for the device to log in (default ${ARRIVAL_TIMEOUT_MS / 1000})
  --mosquitto DIR     add the device's login to the Mosquitto set-up "meross certs --out DIR" wrote
Wi-Fi:
  --ssid S            network name (or from --from-json)
  --password P        network password (default: $MEROSS_WIFI_PASSWORD; may be omitted for open networks)
  --password-file F   read the network password from file F (keeps it out of shell history)
  --bssid B --channel N --encryption N --cipher N
                      the network's details, as "meross wifi" prints them; when all four are
                      known the scan step is skipped
  --from-json JSON    a network object from "meross wifi SSID"; fills ssid, bssid, channel,
                      encryption and cipher. Explicit flags win.
Device:
  --device ADDR       device address, optionally with :port (default ${AP_ADDRESS})
  --key K             the key the device will sign with from now on (default: $MEROSS_KEY, else empty)
  --key-file F        read that key from file F instead
  --user-id U         user id stored on the device (default 0)
  --time-zone TZ      IANA time zone for the device clock (default: this machine's)
  --timeout S         seconds to wait for each reply (default ${HTTP_TIMEOUT_MS / 1000}; the scan allows 30)
  -h, --help          show this help

Exit status: 0 onboarded (and, with --broker, arrived); 1 a step failed (the partial step
log is printed); 2 bad arguments, timeout (including a device that never arrived), device
unreachable or the broker port could not be opened.

Examples:
  meross onboard --host 192.168.1.10 --port 8883 --key mykey --password 'wifi pass' \\
    --from-json "$(meross wifi MyHomeWifi)"
  meross onboard --host 192.168.1.10 --mosquitto ./certs --key-file ~/.meross-key --password-file ~/.wifi \\
    --from-json "$(meross wifi MyHomeWifi)"
  meross onboard --host 192.168.1.10 --broker --certs ./certs --key mykey --ssid MyHomeWifi
`;

/** Devices push their Clock right after the Bind (docs/protocol.md §5.4); keep answering that long before stopping. */
export { ARRIVAL_LINGER_MS } from "./arrival";

interface BrokerPlan {
  certs: string;
  listen: string;
  waitMs: number;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

const printStep = (io: CliIo, s: StepLogEntry): void => printOneStep(io, "onboard", s);

type WifiDetails = Omit<OnboardWifi, "password">;

/** Reads the network object "meross wifi SSID" printed; a one-element array is accepted too. */
function fromJson(text: string): Partial<WifiDetails> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(
      `--from-json is not valid JSON: pass the output of "meross wifi SSID", for example --from-json "$(meross wifi MyHomeWifi)"`,
    );
  }
  if (Array.isArray(value) && value.length === 1) value = value[0];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(
      `--from-json must be one network object as "meross wifi SSID" prints it, not ${Array.isArray(value) ? `a list of ${value.length}` : JSON.stringify(value)}`,
    );
  }
  const o = value as Record<string, unknown>;
  const out: Partial<WifiDetails> = {};
  if (o.ssid !== undefined) {
    if (typeof o.ssid !== "string") throw new UsageError(`--from-json: "ssid" must be text`);
    out.ssid = o.ssid;
  }
  if (o.bssid !== undefined) {
    if (typeof o.bssid !== "string") throw new UsageError(`--from-json: "bssid" must be text such as "aa:bb:cc:dd:ee:ff"`);
    out.bssid = o.bssid;
  }
  for (const f of ["channel", "encryption", "cipher"] as const) {
    if (o[f] === undefined) continue;
    const n = typeof o[f] === "number" ? o[f] : Number(o[f]);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--from-json: "${f}" must be a whole number, got ${JSON.stringify(o[f])}`);
    out[f] = n;
  }
  return out;
}

/** Checked before anything is sent: a bad zone found at "set time" would leave the device half-configured. */
function checkTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
  } catch {
    throw new UsageError(`--time-zone "${tz}" is not a known time zone: use an IANA name such as Europe/Berlin or America/New_York`);
  }
}

export async function onboardCommand(argv: string[], io: CliIo): Promise<number> {
  let opts: OnboardOptions;
  let plan: BrokerPlan | undefined;
  try {
    const { values, positionals } = parse(argv, {
      host: { type: "string" },
      port: { type: "string" },
      "second-host": { type: "string" },
      "second-port": { type: "string" },
      ssid: { type: "string" },
      password: { type: "string" },
      "password-file": { type: "string" },
      bssid: { type: "string" },
      channel: { type: "string" },
      encryption: { type: "string" },
      cipher: { type: "string" },
      "from-json": { type: "string" },
      device: { type: "string" },
      ...KEY_OPTIONS,
      "user-id": { type: "string" },
      "time-zone": { type: "string" },
      timeout: { type: "string" },
      broker: { type: "boolean" },
      certs: { type: "string" },
      listen: { type: "string" },
      wait: { type: "string" },
      mosquitto: { type: "string" },
    });
    if (values.help) {
      io.stdout.write(ONBOARD_HELP);
      return EXIT_OK;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}": every setting is a --flag`);
    const host = str(values, "host");
    if (!host) throw new UsageError("--host is required: the IP address or host name of the MQTT broker the device should use");
    const json = str(values, "from-json");
    const base: Partial<WifiDetails> = json === undefined ? {} : fromJson(json);
    const wifiDetails: Partial<WifiDetails> = {
      ssid: str(values, "ssid") ?? base.ssid,
      bssid: str(values, "bssid") ?? base.bssid,
      channel: intOption("channel", str(values, "channel"), 1, 14) ?? base.channel,
      encryption: intOption("encryption", str(values, "encryption"), 0, 8) ?? base.encryption,
      cipher: intOption("cipher", str(values, "cipher"), 0, 4) ?? base.cipher,
    };
    if (!wifiDetails.ssid) throw new UsageError('the Wi-Fi network is missing: give --ssid or --from-json "$(meross wifi SSID)"');
    const password = secretFrom(values, io, "password", "MEROSS_WIFI_PASSWORD");
    if (password === undefined && wifiDetails.encryption !== 0) {
      throw new UsageError("the Wi-Fi password is missing: give --password, --password-file or set MEROSS_WIFI_PASSWORD");
    }
    const wifi: OnboardWifi = { ssid: wifiDetails.ssid, password: password ?? "" };
    if (wifiDetails.bssid !== undefined) wifi.bssid = wifiDetails.bssid;
    if (wifiDetails.channel !== undefined) wifi.channel = wifiDetails.channel;
    if (wifiDetails.encryption !== undefined) wifi.encryption = wifiDetails.encryption;
    if (wifiDetails.cipher !== undefined) wifi.cipher = wifiDetails.cipher;
    const secondHost = str(values, "second-host");
    const secondPort = intOption("second-port", str(values, "second-port"), 1, 65535);
    const userId = str(values, "user-id");
    if (userId !== undefined && !/^\d+$/.test(userId))
      throw new UsageError(`--user-id "${userId}" is not valid: use a whole number (devices store it as a number)`);
    const timeZone = str(values, "time-zone");
    if (timeZone !== undefined) checkTimeZone(timeZone);
    opts = {
      address: str(values, "device") ?? AP_ADDRESS,
      mqttHost: host,
      mqttPort: intOption("port", str(values, "port"), 1, 65535) ?? DEFAULT_MQTT_PORT,
      key: keyFrom(values, io),
      wifi,
      // The user just ran "meross wifi" when every detail is known: a second live scan only costs time.
      skipScan: wifi.bssid !== undefined && wifi.channel !== undefined && wifi.encryption !== undefined && wifi.cipher !== undefined,
      timeoutMs: timeoutMs(str(values, "timeout"), HTTP_TIMEOUT_MS / 1000),
      onStep: (s) => printStep(io, s),
    };
    if (secondHost !== undefined) opts.secondHost = secondHost;
    if (secondPort !== undefined) opts.secondPort = secondPort;
    if (userId !== undefined) opts.userId = userId;
    if (timeZone !== undefined) opts.timeZone = timeZone;
    const mosquitto = str(values, "mosquitto");
    if (mosquitto !== undefined) {
      if (values.broker === true)
        throw new UsageError("--mosquitto and --broker exclude each other: the device uses either Mosquitto or the embedded broker");
      opts.addLogin = (device) => addMosquittoLogin(mosquitto, device);
    }
    if (values.broker === true) {
      const certs = str(values, "certs");
      if (!certs) throw new UsageError("--broker needs --certs DIR: where the broker certificate is kept (created there when missing)");
      const waitS = intOption("wait", str(values, "wait"), 1, 3600);
      plan = { certs, listen: str(values, "listen") ?? "0.0.0.0", waitMs: waitS === undefined ? ARRIVAL_TIMEOUT_MS : waitS * 1000 };
    } else {
      const stray = (["certs", "listen", "wait"] as const).find((f) => values[f] !== undefined);
      if (stray) throw new UsageError(`--${stray} only applies with --broker (running the embedded broker while onboarding)`);
    }
  } catch (err) {
    return reportError(io, "onboard", err);
  }
  if (plan) return onboardWithBroker(opts, plan, io);

  try {
    const result = await onboard(opts);
    printJson(io, result);
    if (result.mosquitto?.reload) io.stderr.write(`meross onboard: ${result.mosquitto.reload}\n`);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof OnboardingError) {
      printJson(io, { steps: err.steps, error: err.toJSON() });
      reportError(io, "onboard", err);
      return err.code === "TIMEOUT" || err.code === "UNREACHABLE" ? EXIT_USAGE : EXIT_FAILED;
    }
    // Only the core's validation fails before the first step: a BAD_INPUT, so exit 2.
    return reportError(io, "onboard", err);
  }
}

/**
 * Onboarding with our own broker: it is listening (with the new key) and recording logins
 * before the device is touched, so a device that rejoins quickly is not missed.
 */
async function onboardWithBroker(opts: OnboardOptions, plan: BrokerPlan, io: CliIo): Promise<number> {
  let broker: MerossBroker | undefined;
  let watcher: ArrivalWatcher | undefined;
  let book: IdentityBook | undefined;
  try {
    const port = opts.mqttPort ?? DEFAULT_MQTT_PORT;
    try {
      const certs = loadOrCreateCertificates(plan.certs, opts.mqttHost, { mosquittoPort: port });
      // The same book "meross broker --certs" reads: this onboarding is the proof that the key is the device's own.
      book = new IdentityBook(path.join(certs.files.dir, IDENTITY_FILE));
      // Onboarding without a key is the user's explicit choice: this short-lived broker must see that device arrive.
      const trust = { acceptEmptyKey: opts.key === "" };
      broker = await MerossBroker.start({
        port,
        host: plan.listen,
        certs,
        keys: [opts.key],
        identities: book,
        ...trust,
        ...(opts.timeZone ? { timeZone: opts.timeZone } : {}),
      });
    } catch (err) {
      if (err instanceof MerossError) throw err;
      throw new MerossError(
        "BAD_INPUT",
        `The broker certificates in ${plan.certs} could not be prepared (${(err as Error).message}). Choose a directory you can write to with --certs.`,
      );
    }
    io.stderr.write(`meross onboard: ok   broker listening on ${brokerUrl(broker, opts.mqttHost)}\n`);
    const address = opts.address ?? AP_ADDRESS;
    if (isLoopback(opts.mqttHost) && !isLoopback(address.replace(/:\d+$/, ""))) {
      io.stderr.write(
        `meross onboard: note: --host ${opts.mqttHost} is this machine only; a real device needs this machine's LAN address\n`,
      );
    }
    watcher = new ArrivalWatcher(broker);
  } catch (err) {
    await broker?.stop();
    return reportError(io, "onboard", err);
  }

  let result: OnboardResult;
  try {
    result = await onboard(opts);
  } catch (err) {
    watcher.close();
    await broker.stop();
    if (err instanceof OnboardingError) {
      printJson(io, { steps: err.steps, error: err.toJSON() });
      reportError(io, "onboard", err);
      return err.code === "TIMEOUT" || err.code === "UNREACHABLE" ? EXIT_USAGE : EXIT_FAILED;
    }
    return reportError(io, "onboard", err);
  }

  if (opts.key) book?.learn(result.device.uuid, result.device.mac, opts.key, "onboarding");
  io.stderr.write(
    `meross onboard: waiting up to ${Math.round(plan.waitMs / 1000)} s for the device to join Wi-Fi and log in to the broker\n`,
  );
  try {
    return await reportArrival(io, "onboard", watcher, result, plan.waitMs, opts.address ?? AP_ADDRESS);
  } finally {
    watcher.close();
    await broker.stop();
  }
}
