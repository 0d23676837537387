/**
 * The core's public face: everything the Node-RED nodes (src/nodes) and the CLI (src/cli) use,
 * from one import path. eslint's `no-restricted-imports` keeps them from reaching past it into
 * core internals. Grouped by area: when a node or the CLI needs something new, add its module
 * (or the name) to its area here.
 */

// Errors, value rules, names, events
export * from "./errors";
export * from "./events";
export * from "./naming";
export * from "./net";
export * from "./rate-limit";
export * from "./protocol/rules";
export * from "./protocol/message";

// Device sessions and transports
export * from "./session/device";
export * from "./transport/types";
export * from "./transport/mqtt";
export * from "./coalescer";
export * from "./light/controller";

// Capabilities (codecs, commands, reducers) and their shared helpers
export * from "./capabilities";
export * from "./capabilities/util";
// Also declared by broker/cloud-responder.ts (same values): the capability modules' names are the ones exported.
export { NS_CONSUMPTION_CONFIG, NS_TIME } from "./capabilities";

// Devices on a broker
export * from "./fleet";
export * from "./link/device-link";
export * from "./link/transports";

// The broker side: embedded broker, certificates, Mosquitto logins
export * from "./broker";
export * from "./broker/dynsec";
export * from "./broker/files";
export * from "./broker/identity";
export * from "./broker/mosquitto";

// Onboarding, re-binding, discovery, migration, the Meross account
export * from "./onboarding";
export * from "./onboarding/rebind";
export * from "./onboarding/wifi";
export * from "./discovery";
export * from "./migrate";
export * from "./cloud";
