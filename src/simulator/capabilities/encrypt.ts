/**
 * LAN encryption handshake (docs/protocol.md §4): Encrypt.Suite and Encrypt.ECDHE. The session
 * key lives in the device's SimCrypto, which reads and seals messages for both transports.
 */
import { isObject } from "../../core/protocol/rules";
import { getAck, unsupported, type Capability, type CapabilitySpec, type Outcome, type SimContext, type SimRequest } from "./types";

export class EncryptCapability implements Capability {
  constructor(
    private readonly ctx: SimContext,
    /** False: the firmware lists Encrypt.ECDHE but answers the exchange with ERROR 5000. */
    private readonly exchanges = true,
  ) {}

  handle(req: SimRequest): Outcome | undefined {
    switch (`${req.method} ${req.namespace}`) {
      case "SET Appliance.Encrypt.ECDHE":
        if (!this.exchanges) return unsupported("no key exchange");
        return req.inner ? undefined : this.exchange(req.payload);
      case "GET Appliance.Encrypt.ECDHE":
        // The mss110 7.3.37 trace ends this GET with "Server disconnected" (docs/protocol.md §1.3).
        return { method: "ERROR", payload: {}, drop: true };
      case "GET Appliance.Encrypt.Suite":
        return getAck({ suite: { ka: "ecdhe256", se: "mrskey", ds: "" } });
      default:
        return undefined;
    }
  }

  /** Device side of docs/protocol.md §4.3 (b): answers its public key; later requests use md5hex(shared x). */
  private exchange(payload: Record<string, unknown>): Outcome {
    const e = isObject(payload.ecdhe) ? payload.ecdhe : {};
    const pubkey = typeof e.pubkey === "string" ? this.ctx.crypto.exchange(e.pubkey) : undefined;
    if (!pubkey) return unsupported("bad pubkey");
    this.ctx.emit("ecdhe", { mode: this.ctx.setup.mode });
    // ⚠ step 2 in the reply comes from one unnamed client source (docs/protocol.md §4.3 b, step 3).
    return { method: "SETACK", payload: { ecdhe: { step: 2, pubkey } } };
  }
}

/** `ecdhe: false`: firmware without the exchange (ERROR to SET Encrypt.ECDHE). */
export function encrypt(settings: { ecdhe?: boolean } = {}): CapabilitySpec {
  return {
    name: "encrypt",
    namespaces: ["Appliance.Encrypt.ECDHE", "Appliance.Encrypt.Suite"],
    create: (ctx) => new EncryptCapability(ctx, settings.ecdhe !== false),
  };
}
