/** Devices on a broker: presence, identities (the book is broker/identity.ts), arrivals, followers, polling, device links and the fleet handover. */
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
