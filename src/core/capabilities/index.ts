/** Every capability module: codecs, commands and reducers, one import for tools and tests. */
export * from "./types";
export * from "./registry";
export * from "./system";
export * from "./toggle";
export * from "./light";
export * from "./electricity";
export * from "./multiple";
export * from "./cover";
export * from "./cover-command";
export * from "./garage";
export * from "./roller";
