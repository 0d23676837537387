/** Devices on a broker: presence, identities, the cloud-like session, arrivals, followers and polling. */
export * from "./types";
export * from "./arrival";
export * from "./base";
export * from "./embedded";
export * from "./existing";
export * from "./followers";
export * from "./handover";
export * from "./keys";
export * from "./polling";
export * from "./presence";
export * from "./pacing";
