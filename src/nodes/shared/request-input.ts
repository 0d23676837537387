/**
 * meross-request's inputs: method, namespace and payload from the node's properties or
 * the message. The node stays a raw door to the protocol, so only the shape is checked;
 * the device (and its ability list) decides the rest.
 */
import { REQUEST_METHODS, type RequestMethod, describeValue, isObject, badInput as bad, isNamespace } from "../../core";
import { isBlank } from "./inputs";

export interface RawRequest {
  method: RequestMethod;
  namespace: string;
  payload: Record<string, unknown>;
}

export function resolveMethod(property: unknown, fromMsg: unknown): RequestMethod {
  const raw = !isBlank(property) ? property : !isBlank(fromMsg) ? fromMsg : "GET";
  const m = typeof raw === "string" ? raw.trim().toUpperCase() : "";
  if (!(REQUEST_METHODS as readonly string[]).includes(m)) {
    throw bad(`The method ${describeValue(raw)} is not valid: use GET (read), SET (change) or PUSH.`);
  }
  return m as RequestMethod;
}

export function resolveNamespace(property: unknown, msgNamespace: unknown, msgTopic: unknown): string {
  const raw = !isBlank(property) ? property : !isBlank(msgNamespace) ? msgNamespace : msgTopic;
  if (isBlank(raw)) {
    throw bad('No namespace given: set it in the node, or send msg.namespace (or msg.topic), e.g. "Appliance.System.All".');
  }
  if (typeof raw !== "string" || !isNamespace(raw.trim())) {
    throw bad(`${describeValue(raw)} is not a Meross namespace. Namespaces look like Appliance.Control.ToggleX.`);
  }
  return raw.trim();
}

/** msg.payload as the request payload: an object, a JSON object string, or empty for {}. */
export function resolvePayload(payload: unknown): Record<string, unknown> {
  if (payload === undefined || payload === null || payload === "") return {};
  if (isObject(payload)) return payload;
  if (typeof payload === "string") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      const example = `{"togglex": {"channel": 0, "onoff": 1}}`;
      throw bad(`msg.payload ${describeValue(payload)} is text but not JSON. Send an object such as ${example}, or leave it empty.`);
    }
    if (isObject(parsed)) return parsed;
  }
  const fix = "send an object (or a JSON object string), or leave it empty for {}";
  throw bad(`msg.payload ${describeValue(payload)} is not a request payload: ${fix}.`);
}

export function resolveRequest(
  props: { method?: unknown; namespace?: unknown },
  msg: { method?: unknown; namespace?: unknown; topic?: unknown; payload?: unknown },
): RawRequest {
  return {
    method: resolveMethod(props.method, msg.method),
    namespace: resolveNamespace(props.namespace, msg.namespace, msg.topic),
    payload: resolvePayload(msg.payload),
  };
}

/** "Appliance.Control.Electricity" → "electricity", "Appliance.System.All" → "system all": what a person calls it. */
export function namespaceLabel(namespace: string): string {
  const words = namespace
    .replace(/^Appliance\./, "")
    .replace(/^Control\./, "")
    .split(".");
  return words.join(" ").toLowerCase();
}

const DONE_VERB: Record<RequestMethod, string> = { GET: "read", SET: "set", PUSH: "pushed" };
const BUSY_VERB: Record<RequestMethod, string> = { GET: "reading", SET: "setting", PUSH: "pushing" };

/** Status texts for a raw request: "reading electricity…" while it runs, "electricity read" once answered. */
export function requestStatusText(method: RequestMethod, namespace: string, finished: boolean): string {
  const label = namespaceLabel(namespace);
  return finished ? `${label} ${DONE_VERB[method]}` : `${BUSY_VERB[method]} ${label}…`;
}
