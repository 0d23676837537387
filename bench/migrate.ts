/**
 * `bench migrate`: a handful of app-paired simulated devices (in their own process, as real
 * devices are other machines) moved to the embedded broker by the core's migrate(): discovery
 * with the account key, one re-bind per device (a few at a time) and each device's login.
 * The figure is the whole pass, from the first request to the last arrival.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { migrate } from "../dist/core/migrate";
import { MerossBroker } from "../dist/core/broker/broker";
import { loadOrCreateCertificates } from "../dist/core/broker/certs";
import { ArrivalWatcher } from "../dist/core/fleet/arrival";
import { RemoteFleet } from "./fleet-process";
import { round } from "./common";

const MODELS = ["mss310", "msl120", "mss110", "mss425", "msl100", "mss210"];

export async function migrateBench(): Promise<void> {
  const ACCOUNT_KEY = "bench-account-key";
  const NEW_KEY = "bench-new-key";
  const hosts = MODELS.map((_, i) => `127.0.0.${110 + i}`);
  // The first device binds port 0 and reports its port; the others (other addresses) take the same one.
  const spec = (i: number, port: number) => ({
    model: MODELS[i],
    key: ACCOUNT_KEY,
    host: hosts[i],
    port,
    appPaired: true,
    mqttReconnectMs: 200,
  });
  const first = await RemoteFleet.start([spec(0, 0)]);
  const port = Number(new URL(`http://${first.devices[0].address}`).port);
  const fleet = await RemoteFleet.start(MODELS.slice(1).map((_, i) => spec(i + 1, port)));
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-migrate-"));
  const certs = loadOrCreateCertificates(dir, "127.0.0.1");
  // The broker binds port 0 and reports its port.
  const broker = await MerossBroker.start({ port: 0, host: "127.0.0.1", certs, keys: [NEW_KEY] });
  const brokerPort = broker.port;
  const watcher = new ArrivalWatcher(broker);
  try {
    const t = performance.now();
    const lines = await migrate({
      addresses: hosts,
      listSilent: true,
      devicePort: port,
      accountKey: ACCOUNT_KEY,
      newKey: NEW_KEY,
      broker: { host: "127.0.0.1", port: brokerPort },
      watcher,
      waitMs: 30_000,
    });
    const ms = performance.now() - t;
    const moved = lines.filter((l) => l.outcome === "moved").length;
    console.log(`bench migrate devices=${hosts.length} moved=${moved} ms=${round(ms, 0)} (all ${hosts.length} moved and logged in)`);
  } finally {
    watcher.close();
    await broker.stop();
    await fleet.stop();
    await first.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
