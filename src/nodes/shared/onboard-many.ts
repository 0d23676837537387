/**
 * meross-onboard's re-bind mode with several devices in one message ("Move all found
 * devices"): msg.payload as a list of devices ({host, uuid, name}, an address text, or what
 * "Find devices" lists), or a subnet / list of addresses in the node's Address field. The move
 * itself is the core's migrate() (core/migrate.ts), the same as `meross migrate`: each device
 * whose current key fits is re-bound, its login added to the broker, its arrival awaited, and
 * the payload is one line per device (moved, already moved, wrong key, unreachable, did not
 * arrive, failed, with why).
 */
import { MerossError, parseTargets, migrate, type MigrateLine, ArrivalWatcher, isObject, isUuid } from "../../core";
import * as input from "./onboard-input";
import { brokerLogins, brokerTarget, type OnboardRun } from "./onboard-modes";

/** Most devices one message may name. */
export const MAX_DEVICE_LIST = 256;

const bad = (text: string): MerossError => new MerossError("BAD_INPUT", text);

/** Several devices: a list in msg.payload, or a subnet or several addresses in the Address field. */
export function isDeviceList(payload: unknown, address: unknown): boolean {
  return Array.isArray(payload) || (typeof address === "string" && /[/,\s]/.test(address.trim()));
}

interface DeviceList {
  addresses: string[];
  names: Map<string, string>;
  /** Addresses named one by one: silence there is a line of its own. */
  listSilent: boolean;
}

function addressOfItem(item: unknown, i: number): string {
  const a = typeof item === "string" ? item : isObject(item) ? (item.host ?? item.address ?? item.ip) : undefined;
  if (typeof a === "string" && a.trim() !== "") return a.trim();
  throw bad(
    `Device ${i + 1} of the list in msg.payload has no address: give each device as {"host": "192.168.1.50", "uuid": "…"} ` +
      "or as an address text, as Find devices lists them. Nothing was sent.",
  );
}

export function deviceList(payload: unknown, address: unknown): DeviceList {
  if (!Array.isArray(payload)) {
    const text = typeof address === "string" ? address : "";
    return { addresses: parseTargets(text), names: new Map(), listSilent: !text.includes("/") };
  }
  if (payload.length === 0) {
    throw bad(
      "The list of devices to move in msg.payload is empty: run Find devices (or meross discover) and send its list. Nothing was sent.",
    );
  }
  if (payload.length > MAX_DEVICE_LIST) {
    throw bad(
      `The list in msg.payload names ${payload.length} devices; at most ${MAX_DEVICE_LIST} are moved in one message. Nothing was sent.`,
    );
  }
  const addresses = parseTargets(payload.map(addressOfItem).join(","));
  const names = new Map<string, string>();
  for (const d of payload) {
    if (isObject(d) && isUuid(d.uuid) && typeof d.name === "string" && d.name) names.set(d.uuid.toLowerCase(), d.name.slice(0, 80));
  }
  return { addresses, names, listSilent: true };
}

/** Moves every listed device to the node's broker; resolves with one line per device. */
export async function moveDevices(r: OnboardRun, payload: unknown): Promise<MigrateLine[]> {
  const { addresses, names, listSilent } = deviceList(payload, r.def.address);
  const waitMs = input.arrivalTimeoutMs(r.def.timeout);
  const { mqttHost, mqttPort, userId } = await brokerTarget(r);
  const logins = brokerLogins(r.broker);
  if (logins.warning) r.warn(logins.warning);
  // Recording before any device is touched: each reconnects right after its SETACK.
  const watcher = r.broker ? new ArrivalWatcher(r.broker.fleet) : undefined;
  let done = 0;
  r.status({ fill: "blue", shape: "dot", text: `looking at ${addresses.length} address${addresses.length === 1 ? "" : "es"}…` });
  try {
    const lines = await migrate({
      addresses,
      listSilent,
      accountKey: r.currentKey,
      newKey: r.key,
      broker: { host: mqttHost, port: mqttPort, userId: userId ?? "0" },
      watcher,
      waitMs,
      addLogin: logins.addLogin,
      names,
      signal: r.signal,
      onLine: () => r.status({ fill: "blue", shape: "ring", text: `${++done} device${done === 1 ? "" : "s"} done…` }),
    });
    for (const l of lines) if (l.outcome === "moved" && l.uuid && r.key) r.broker?.prove(l.uuid, undefined, r.key);
    const ok = lines.filter((l) => l.outcome === "moved" || l.outcome === "already moved").length;
    const fill = lines.length > 0 && ok === lines.length ? "green" : "yellow";
    r.status({ fill, shape: "dot", text: `${ok} of ${lines.length} on the broker` });
    return lines;
  } finally {
    watcher?.close();
  }
}
