/**
 * `bench discover`: a scan of the 254 addresses of 127.0.0.0/24 with a few simulated devices
 * (in their own process, as real devices are other machines): two with the key, one with
 * another key; every other address refuses the connection. Target: within 5 s.
 */
import { discover, parseTargets } from "../dist/core/discovery";
import { RemoteFleet } from "./fleet-process";
import { round } from "./common";

export async function discoverBench(): Promise<void> {
  const KEY = "bench-key";
  // The first device binds port 0 and reports its port; the others (other addresses) take the same one.
  const first = await RemoteFleet.start([{ model: "mss310", key: KEY, host: "127.0.0.20", port: 0, appPaired: true }]);
  const port = Number(new URL(`http://${first.devices[0].address}`).port);
  const fleet = await RemoteFleet.start([
    { model: "msl120", key: KEY, host: "127.0.0.40", port },
    { model: "mss210", key: "another-key", host: "127.0.0.60", port },
    { model: "mss110", key: KEY, host: "127.0.0.80", port },
  ]);
  try {
    const addresses = parseTargets("127.0.0.0/24");
    const t = performance.now();
    const found = await discover({ addresses, key: KEY, port });
    const ms = performance.now() - t;
    console.log(`bench discover addresses=${addresses.length} devices=${found.length} ms=${round(ms, 0)} (target <= 5000 ms)`);
  } finally {
    await fleet.stop();
    await first.stop();
  }
}
