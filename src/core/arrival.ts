/** Moved to src/core/fleet/arrival.ts; kept so the CLI's import still resolves until it follows. */
export * from "./fleet/arrival";
