/** One import for everything that turns payloads into values and back. */
export * from "./light";
export * from "./toggle";
export * from "./wifi";
export * from "./config";
export * from "./system";
export * from "./electricity";
export * from "./multiple";
export { CSS_COLOURS } from "./css-colours";
export * from "../crypto/aes";
