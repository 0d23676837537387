/** Every capability module: codecs, commands and reducers, one import for tools and tests. */
export * from "./types";
export * from "./registry";
export * from "./system";
export * from "./toggle";
export * from "./light";
export * from "./electricity";
export * from "./consumption";
export * from "./energy-counter";
export * from "./energy";
export * from "./care";
export * from "./multiple";
export * from "./thermostat";
export * from "./hub";
export * from "./diffuser";
