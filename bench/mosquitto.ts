/**
 * `bench mosquitto-hostile`: Mosquitto started on the configuration `meross certs` writes, and
 * its peak RSS above idle while four clients send a CONNECT claiming 256 MB before logging in,
 * a logged-in client sends a PUBLISH claiming 256 MB, and four logged-in clients send 250 QoS 2
 * publishes of 60 KB each without ever sending PUBREL.
 */
import fs from "node:fs";
import path from "node:path";
import { round, sleep } from "./common";
import { MOSQUITTO, mosquittoDir, startMosquittoOnFreePort, writeSecureConfig } from "../test/e2e/mosquitto-harness";
import { hugeConnect, hugePublish, qos2Flood, rssOf } from "../test/e2e/mosquitto-attacks";

const TARGET_MB = 50;
const TOPIC = "/appliance/2308085712920951080748e1e9d58442/subscribe";

export async function mosquittoHostile(): Promise<void> {
  if (!fs.existsSync(MOSQUITTO)) {
    console.log(
      `bench mosquitto-hostile not run: Mosquitto not found at ${MOSQUITTO} (apt-get install mosquitto, or set MOSQUITTO_PATH) (target <= ${TARGET_MB} MB above idle)`,
    );
    return;
  }
  const dir = mosquittoDir("meross-bench-mosq-");
  await writeSecureConfig(dir);
  const password = fs.readFileSync(path.join(dir, "nodered.password"), "utf8").trim();
  const mosquitto = await startMosquittoOnFreePort(dir);
  const port = mosquitto.port;
  const pid = mosquitto.proc.pid as number;
  const mb = (x: number): number => round(x / 2 ** 20, 1);
  try {
    await sleep(500);
    const idle = rssOf(pid);
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 10);
    const phases: string[] = [];
    const phase = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      const before = peak;
      peak = rssOf(pid);
      const result = await run();
      phases.push(`${name}_mb=${mb(Math.max(peak, rssOf(pid)) - idle)}`);
      peak = Math.max(peak, before);
      return result;
    };
    const login = { port, username: "nodered", password };
    const pre = await phase("preauth", () => Promise.all(Array.from({ length: 4 }, () => hugeConnect(port, 16 * 2 ** 20))));
    const post = await phase("postauth", () => hugePublish(login, TOPIC, 16 * 2 ** 20));
    const qos2 = await phase("qos2", () => Promise.all(Array.from({ length: 4 }, () => qos2Flood(login, TOPIC, 250))));
    clearInterval(sampler);
    const top = mb(Math.max(peak, rssOf(pid)) - idle);
    const size = [...pre, post];
    console.log(
      `bench mosquitto-hostile peak_rss_mb=${top} idle_rss_mb=${mb(idle)} ${phases.join(" ")} ` +
        `size_attacks_dropped=${size.filter((r) => r.dropped).length}/${size.length} qos2_publishes=${qos2.reduce((n, r) => n + r.sent, 0)} ` +
        `(target <= ${TARGET_MB} MB above idle) met=${top <= TARGET_MB}`,
    );
  } finally {
    await mosquitto.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
