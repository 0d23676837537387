/**
 * Light benchmarks that count device round trips rather than time them: counts do not depend on
 * how busy the machine is, so the simulator runs in this process.
 */
import { MerossDevice } from "../src/core/session/device";
import { SimulatedDevice } from "../src/simulator/device";

/**
 * One "on at 60 %" to a light that is off and known to be off: the light settings and the
 * switch-on must cost one request (one Control.Multiple), on the strip that does not light
 * up on a Light SET alone.
 */
export async function lightOnLevel(): Promise<void> {
  const key = "bench-key";
  const sim = await SimulatedDevice.start({ model: "msl320cpr", key });
  const device = new MerossDevice({ address: sim.address, key });
  try {
    await device.ready();
    await device.setToggle(0, false);
    const before = sim.requestCount;
    await device.setLight({ luminance: 60 });
    const requests = sim.requestCount - before;
    const ok = sim.state.channels[0].on && sim.state.light?.luminance === 60;
    console.log(`bench light-on-level requests=${requests} final_ok=${ok} (target 1)`);
  } finally {
    await device.close();
    await sim.stop();
  }
}
