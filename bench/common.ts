/** What several benchmark files share: small statistics, the embedded broker's flow entry and the port it bound. */
import type { EmbeddedRed } from "./nodered";

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function brokerFlow(port: number): Record<string, unknown> {
  return {
    id: "broker",
    type: "meross-broker",
    mode: "embedded",
    port: String(port),
    bindHost: "127.0.0.1",
    certHost: "127.0.0.1",
    allowAnonymous: true,
  };
}
/** A meross-config for `dev` on brokerFlow's broker, transport auto (HTTP until the device listens there). */
export function autoConfig(id: string, dev: { address: string; uuid: string }): Record<string, unknown> {
  return { id, type: "meross-config", host: dev.address, userId: "0", transport: "auto", broker: "broker", uuid: dev.uuid };
}

/**
 * The port the embedded broker `id` bound: benches give it port 0 and read the port back, so no
 * other server (a simulated device's) can take a port picked in advance and released.
 */
export async function brokerPort(red: EmbeddedRed, id = "broker"): Promise<number> {
  const broker = red.node(id) as unknown as { endpoint(): Promise<{ port: number }> };
  return (await broker.endpoint()).port;
}

export async function untilListening(red: EmbeddedRed, uuids: string[], timeoutMs = 60_000): Promise<void> {
  const broker = red.node("broker") as unknown as { isListening(uuid: string): boolean };
  const t0 = performance.now();
  while (!uuids.every((u) => broker.isListening(u))) {
    if (performance.now() - t0 > timeoutMs) throw new Error("the simulated devices did not all reach the broker");
    await sleep(50);
  }
}
