/**
 * What the firmware does with one HTTP request (docs/protocol.md §2): injected faults first, then
 * decryption or the plaintext rule of encrypted models, the firmware itself, and the reply cut
 * to the firmware's buffer, damaged by a fault if one is set, and sealed when the request was.
 */
import type { SimFirmware } from "./firmware";
import { damageReply, type FaultInjector } from "./faults";
import type { HttpExchange } from "./server";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function serveHttp(fw: SimFirmware, faults: FaultInjector, ex: HttpExchange): Promise<void> {
  if (fw.stopped || ex.gone) return;
  const { request: req } = ex;
  if (req.path.split("?")[0] !== "/config" || req.method !== "POST") return ex.send(404, "Not Found", "", "text/plain");
  let fault = faults.take();
  if (fault?.kind === "delay") {
    await sleep(fault.ms);
    fault = null;
    if (fw.stopped || ex.gone) return;
  }
  if (fault?.kind === "drop") return ex.drop();
  if (fault?.kind === "http500") return ex.send(500, "Internal Server Error", "", "text/plain");
  const read = fw.crypto.read(req.body.toString("utf8"));
  if (read.kind === "malformed") return ex.send(400, "Bad Request", "", "text/plain");
  if (read.kind === "unreadable") {
    // ⚠ What firmware does with ciphertext it cannot read is not documented. A configured
    // device answers 5001 encrypted with its own key (the client cannot read it: wrong key);
    // in pairing mode there is no key to answer with, so the connection is closed.
    if (fw.setup.mode !== "normal") return ex.drop();
    const id = { messageId: "", namespace: "Appliance.System.All", method: "ERROR", timestamp: 0, sign: "" };
    const error = fw.envelope(id, "ERROR", { error: { code: 5001, detail: "sign error" } });
    return ex.send(200, "OK", fw.crypto.seal(JSON.stringify(error), fw.crypto.staticKey()), "text/plain");
  }
  const replyKey = read.kind === "encrypted" ? read.key : undefined;
  if (read.kind === "plain" && fw.crypto.refusesPlaintext(read.envelope)) {
    const h = read.envelope.header;
    const answer = fw.plaintextRefusal;
    fw.emit("dropped", { method: String(h.method), namespace: h.namespace, via: "http", ...(answer === "drop" ? {} : { answer }) });
    if (answer === "http500") return ex.send(500, "Internal Server Error", "", "text/plain");
    // ⚠ Synthetic (the issue names the ERROR answer, not its code): 5000, signed with the device key.
    if (answer === "error") return ex.send(200, "OK", JSON.stringify(fw.envelope(h, "ERROR", { error: { code: 5000 } })));
    return ex.drop();
  }
  const handled = await fw.handle(read.envelope, "http", replyKey !== undefined);
  if (!handled) return;
  const { info, reply, outcome } = handled;
  if (outcome.drop) {
    ex.drop();
    outcome.after?.();
    return;
  }
  let text = JSON.stringify(reply);
  if (outcome.replyLimit && Buffer.byteLength(text) > outcome.replyLimit) {
    // Real firmware cuts a long reply at its buffer size (docs/protocol.md §2.2).
    text = Buffer.from(text, "utf8").subarray(0, outcome.replyLimit).toString("utf8");
  }
  text = damageReply(text, fault, info.messageId);
  if (replyKey) text = fw.crypto.seal(text, replyKey);
  ex.send(200, "OK", text, replyKey ? "text/plain" : undefined);
  fw.emit("reply", { ...info, replyMethod: outcome.method });
  outcome.after?.();
}
