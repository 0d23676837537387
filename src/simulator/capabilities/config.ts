/**
 * Onboarding and configuration (docs/protocol.md §3): Config.Key sets key, user and broker;
 * Config.Wifi / WifiX join a network with a reboot; WifiList scans; Trace reports the last join.
 * It owns the passwords a test expects and the last join result.
 */
import { isObject, toInt, type Json } from "../../core/protocol/rules";
import { decryptWifiXPassword } from "../identity";
import type { WifiConfigEvent } from "../types";
import { getAck, setAck, type Capability, type CapabilitySpec, type Outcome, type SimContext, type SimRequest } from "./types";

const NAMESPACES = [
  "Appliance.Config.Key",
  "Appliance.Config.Wifi",
  "Appliance.Config.WifiX",
  "Appliance.Config.WifiList",
  "Appliance.Config.Trace",
  "Appliance.Config.Info",
  "Appliance.Config.OverTemp",
  "Appliance.Config.StandbyKiller",
] as const;

const JOIN_OK = { ssid: "", bssid: "", rssi: "", code: 0, info: "no error" };

function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

function fromB64(text: unknown): string | undefined {
  return typeof text === "string" ? Buffer.from(text, "base64").toString("utf8") : undefined;
}

export class ConfigCapability implements Capability {
  private readonly expectedPasswords = new Map<string, string>();
  private lastJoin = { ...JOIN_OK };

  constructor(private readonly ctx: SimContext) {}

  /** A join of `ssid` with any other password fails like a real join with a wrong password. */
  expectWifiPassword(ssid: string, password: string): void {
    this.expectedPasswords.set(ssid, password);
  }

  handle(req: SimRequest): Outcome | undefined {
    switch (`${req.method} ${req.namespace}`) {
      case "GET Appliance.Config.WifiList":
        return getAck({ wifiList: this.wifiList() });
      case "GET Appliance.Config.Trace":
        return getAck({ trace: { ...this.lastJoin } });
      case "GET Appliance.Config.Info":
        return getAck({ info: { homekit: {} } });
      case "GET Appliance.Config.OverTemp":
        return getAck({ overTemp: { enable: 1, type: 1 } });
      case "GET Appliance.Config.StandbyKiller":
        return getAck({ config: [] });
      case "SET Appliance.Config.Key":
        return this.setKey(req.payload);
      case "SET Appliance.Config.Wifi":
      case "SET Appliance.Config.WifiX":
        return this.setWifi(req.namespace, req.payload);
      default:
        return undefined;
    }
  }

  private wifiList(): Json[] {
    return [...this.ctx.setup.networks]
      .sort((a, b) => b.signal - a.signal)
      .map((n) => ({ ...n, ssid: b64(n.ssid) }))
      .map(({ ssid, bssid, channel, signal, encryption, cipher }) => ({ ssid, bssid, channel, signal, encryption, cipher }));
  }

  /** The SETACK is signed with the key set here: the firmware core signs after the handler ran (§1.2). */
  private setKey(payload: Json): Outcome {
    const setup = this.ctx.setup;
    const k = isObject(payload.key) ? payload.key : {};
    if (typeof k.key === "string") setup.key = k.key;
    if (k.userId !== undefined && k.userId !== null) setup.userId = String(k.userId);
    if (isObject(k.gateway)) {
      const g = k.gateway;
      setup.gateway = {
        host: typeof g.host === "string" ? g.host : "",
        port: toInt(g.port) ?? 0,
        secondHost: typeof g.secondHost === "string" ? g.secondHost : "",
        secondPort: toInt(g.secondPort) ?? 0,
      };
    }
    // A bound device re-keyed in place must log in again with the new password.
    return setAck(setup.mode === "normal" ? () => this.ctx.connectBroker() : undefined);
  }

  private setWifi(ns: string, payload: Json): Outcome {
    const ctx = this.ctx;
    const w = isObject(payload.wifi) ? payload.wifi : {};
    const ssid = fromB64(w.ssid) ?? "";
    let password: string | undefined;
    if (ns === "Appliance.Config.WifiX") {
      password = typeof w.password === "string" ? decryptWifiXPassword(w.password, ctx.model.type, ctx.uuid, ctx.mac) : undefined;
    } else {
      password = fromB64(w.password) ?? "";
    }
    const event: WifiConfigEvent = {
      namespace: ns as WifiConfigEvent["namespace"],
      ssid,
      password,
      bssid: typeof w.bssid === "string" ? w.bssid : undefined,
      channel: toInt(w.channel),
      encryption: toInt(w.encryption),
      cipher: toInt(w.cipher),
    };
    const expected = this.expectedPasswords.get(ssid);
    const ok = ssid !== "" && password !== undefined && (expected === undefined || expected === password);
    const network = ctx.setup.networks.find((n) => n.ssid === ssid) ?? {
      ssid,
      bssid: event.bssid ?? "",
      channel: event.channel ?? 1,
      signal: 70,
      encryption: event.encryption ?? 6,
      cipher: event.cipher ?? 3,
    };
    const rejoin = (): void => {
      if (ok) {
        ctx.setup.joined = network;
        ctx.setup.mode = "normal";
        ctx.clock.markSynced();
        this.lastJoin = { ...JOIN_OK };
      } else {
        // Trace code/info values for a failed join are not documented; these are ours.
        this.lastJoin = { ssid, bssid: network.bssid, rssi: String(network.signal - 100), code: 1, info: "connect failed" };
      }
      ctx.emit("reboot", { mode: ctx.setup.mode, reason: ok ? "wifi-joined" : "wifi-failed" });
      ctx.changed();
      // Joined: the firmware now dials the gateway Config.Key gave it (docs/protocol.md §3.9).
      if (ok) ctx.connectBroker();
    };
    return setAck(() => {
      ctx.emit("wifi", event);
      ctx.reboot(rejoin);
    });
  }
}

/** Config namespaces; which of Wifi / WifiX the device takes follows its ability list. */
export function config(): CapabilitySpec {
  return { name: "config", namespaces: NAMESPACES, create: (ctx) => new ConfigCapability(ctx) };
}
