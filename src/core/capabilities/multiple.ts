/**
 * Appliance.Control.Multiple (docs/protocol.md §6.8): several requests in one SET. Inner
 * headers need only messageId/method/namespace ([ML]); the device caps the count
 * at the ability's maxCmdNum.
 */
import type { Envelope, Header } from "../protocol/message";
import { checkReply, newMessageId } from "../protocol/message";
import type { Capability, DeviceSession } from "./types";
import { badInput, badReply, describeValue, isObject } from "./util";

export const NS_MULTIPLE = "Appliance.Control.Multiple";

/** One inner request; signing happens only on the outer envelope. */
export interface MultipleItem {
  method: "GET" | "SET" | "PUSH" | string;
  namespace: string;
  payload: Record<string, unknown>;
}

export type MultiplePayload = {
  multiple: Array<{ header: { messageId: string; method: string; namespace: string }; payload: Record<string, unknown> }>;
};

const METHODS = new Set(["GET", "SET", "PUSH"]);

/** Each inner request gets a fresh messageId: replies are matched by it and firmware refuses reused ids. */
export function buildMultiplePayload(items: MultipleItem[], maxCmdNum?: number): MultiplePayload {
  if (!Array.isArray(items) || items.length === 0) {
    throw badInput("Appliance.Control.Multiple needs a non-empty list of {method, namespace, payload} requests.");
  }
  if (maxCmdNum !== undefined && Number.isFinite(maxCmdNum) && items.length > maxCmdNum) {
    throw badInput(
      `This device accepts at most ${maxCmdNum} requests in one Multiple (maxCmdNum), but ${items.length} were given. Split them into smaller batches.`,
    );
  }
  return {
    multiple: items.map((it, i) => {
      if (!isObject(it))
        throw badInput(`Request ${i + 1} of the Multiple is ${describeValue(it)}: it must be {method, namespace, payload}.`);
      if (typeof it.method !== "string" || !METHODS.has(it.method)) {
        throw badInput(`Request ${i + 1} of the Multiple has method ${describeValue(it.method)}: use GET, SET or PUSH.`);
      }
      if (typeof it.namespace !== "string" || !it.namespace.startsWith("Appliance.") || it.namespace === "Appliance.Control.Multiple") {
        throw badInput(
          `Request ${i + 1} of the Multiple has namespace ${describeValue(it.namespace)}: use a device namespace such as "Appliance.Control.ToggleX".`,
        );
      }
      const payload = it.payload === undefined ? {} : it.payload;
      if (!isObject(payload)) throw badInput(`Request ${i + 1} of the Multiple has a payload that is not an object.`);
      return { header: { messageId: newMessageId(), method: it.method, namespace: it.namespace }, payload };
    }),
  };
}

/**
 * The SETACK lists one signed envelope per request, each possibly an ERROR. A reply
 * truncated by the device's small buffer (§2.2) fails to parse before reaching here.
 */
export function parseMultipleReply(payload: unknown): Envelope[] {
  const list = isObject(payload) ? payload.multiple : undefined;
  if (!Array.isArray(list)) throw badReply("Control.Multiple", 'it has no "multiple" list', payload);
  return list.map((e) => {
    if (!isObject(e) || !isObject(e.header)) throw badReply("Control.Multiple", "an entry has no header", payload);
    const h = e.header;
    if (typeof h.messageId !== "string" || typeof h.method !== "string" || typeof h.namespace !== "string") {
      throw badReply("Control.Multiple", "an entry header lacks messageId, method or namespace", payload);
    }
    const p = e.payload === undefined ? {} : e.payload;
    if (!isObject(p)) throw badReply("Control.Multiple", "an entry payload is not an object", payload);
    return { header: h as unknown as Header, payload: p };
  });
}

export const multipleCapability: Capability = {
  name: "multiple",
  namespaces: [NS_MULTIPLE],
};

/** Sends several requests in one SET, within the device's maxCmdNum; one reply envelope per request. */
export async function requestMultiple(s: DeviceSession, items: MultipleItem[]): Promise<Envelope[]> {
  await s.ready();
  const max = s.state.abilities?.[NS_MULTIPLE]?.maxCmdNum;
  const payload = buildMultiplePayload(items, typeof max === "number" ? max : undefined);
  return parseMultipleReply((await s.request("SET", NS_MULTIPLE, payload)).payload);
}

/** How many requests one Multiple may carry on this device; 0 when it has no Control.Multiple. */
export function multipleCapacity(s: Pick<DeviceSession, "state" | "has">): number {
  if (!s.has(NS_MULTIPLE)) return 0;
  const max = s.state.abilities?.[NS_MULTIPLE]?.maxCmdNum;
  // The ability list of every traced device gives maxCmdNum (3 or 5, docs/protocol.md §6.8); without it, 2 is the safe guess.
  return typeof max === "number" && Number.isInteger(max) && max > 0 ? max : 2;
}

/**
 * Several SETs as one round trip, each checked as if it had come alone: an inner ERROR becomes
 * the same MerossError a lone request would give, and a missing answer is BAD_RESPONSE.
 */
export async function requestAll(s: DeviceSession, items: MultipleItem[]): Promise<Envelope[]> {
  await s.ready();
  const payload = buildMultiplePayload(items, multipleCapacity(s) || undefined);
  const replies = parseMultipleReply((await s.request("SET", NS_MULTIPLE, payload)).payload);
  return payload.multiple.map((req) => {
    const reply = replies.find((r) => r.header.messageId === req.header.messageId);
    if (!reply) throw badReply("Control.Multiple", `it does not answer ${req.header.namespace}`, undefined);
    return checkReply(req as unknown as Envelope, reply, s.address);
  });
}

/** Sends SETs in one round trip when they fit one Control.Multiple (§6.8), else one after another. */
export async function sendSets(s: DeviceSession, items: MultipleItem[]): Promise<void> {
  if (items.length > 1 && multipleCapacity(s) >= items.length) {
    await requestAll(s, items);
    return;
  }
  for (const it of items) await s.request("SET", it.namespace, it.payload);
}
