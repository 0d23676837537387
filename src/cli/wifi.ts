/**
 * `meross wifi`: the networks an unconfigured device can see. Its single-network output is
 * exactly what `meross onboard --from-json` reads, as with the old shell tools.
 */
import { MerossDevice, AP_ADDRESS, scanWifi, WIFI_SCAN_TIMEOUT_MS, type WifiNetwork } from "../core";
import { EXIT_FAILED, EXIT_OK, KEY_OPTIONS, UsageError, keyFrom, parse, printJson, reportError, str, timeoutMs, type CliIo } from "./io";

export const WIFI_HELP = `Usage: meross wifi [SSID] [options]

Asks a device in pairing (access-point) mode which Wi-Fi networks it can see and prints
them as a JSON array of {ssid, bssid, channel, signal, encryption, cipher}. With SSID,
prints only that network's object (feed it to "meross onboard --from-json").

Options:
  --device ADDR   device address, optionally with :port (default ${AP_ADDRESS}, the pairing-mode address)
  --key K         signing key (default: $MEROSS_KEY, else empty; unconfigured devices accept any)
  --key-file F    read the signing key from file F instead (keeps it out of shell history)
  --timeout S     seconds to wait for the scan (default ${WIFI_SCAN_TIMEOUT_MS / 1000}; the scan is live and takes a few seconds)
  -h, --help      show this help

Exit status: 0 ok; 1 SSID not among the networks seen, or the device answered with an error;
2 bad arguments, timeout or device unreachable.

Example:
  meross onboard --host 192.168.1.10 --password '...' --from-json "$(meross wifi MyHomeWifi)"
`;

/** Only the documented fields, in a fixed order, whatever else the codec carries. */
function pick(n: WifiNetwork): Pick<WifiNetwork, "ssid" | "bssid" | "channel" | "signal" | "encryption" | "cipher"> {
  return { ssid: n.ssid, bssid: n.bssid, channel: n.channel, signal: n.signal, encryption: n.encryption, cipher: n.cipher };
}

export async function wifiCommand(argv: string[], io: CliIo): Promise<number> {
  let device: MerossDevice | undefined;
  try {
    const { values, positionals } = parse(argv, { device: { type: "string" }, ...KEY_OPTIONS, timeout: { type: "string" } });
    if (values.help) {
      io.stdout.write(WIFI_HELP);
      return EXIT_OK;
    }
    if (positionals.length > 1) {
      throw new UsageError(`expected at most one SSID, got ${positionals.length} arguments (quote an SSID that contains spaces)`);
    }
    const ssid = positionals[0];
    const ms = timeoutMs(str(values, "timeout"), WIFI_SCAN_TIMEOUT_MS / 1000);
    device = new MerossDevice({ address: str(values, "device") ?? AP_ADDRESS, key: keyFrom(values, io), timeoutMs: ms });
    const networks = (await scanWifi(device, ms)).map(pick);
    if (ssid === undefined) {
      printJson(io, networks);
      return EXIT_OK;
    }
    const match = networks.find((n) => n.ssid === ssid);
    if (!match) {
      const seen = networks.map((n) => JSON.stringify(n.ssid));
      io.stderr.write(
        `meross wifi: network "${ssid}" not found. The device sees ${seen.length ? seen.join(", ") : "no networks"}; it only joins 2.4 GHz networks and SSIDs are case-sensitive.\n`,
      );
      return EXIT_FAILED;
    }
    printJson(io, match);
    return EXIT_OK;
  } catch (err) {
    return reportError(io, "wifi", err);
  } finally {
    await device?.close();
  }
}
