// Which spec files run in which suite; read by .mocharc.cjs (`npm run test:unit`, also plain
// `npx mocha`) and .mocharc.integration.cjs (`npm run test:integration`). `npm test` runs both.
"use strict";

const ALL = ["test/**/*_spec.ts"];

// Specs that start programs (the compiled `meross` executable, Node-RED in its own process,
// headless Chromium or a real Mosquitto) or load the machine (the hostile-client flood). Everything else (core, simulator, nodes inside
// node-red-node-test-helper, the CLI commands called in-process) is the fast unit suite.
const INTEGRATION = [
  "test/e2e/**/*_spec.ts", // real Node-RED, Chromium, Mosquitto
  "test/cli/binary_spec.ts", // the compiled meross executable, spawned
  "test/cli/mqtt_spec.ts", // `meross certs` starts a real Mosquitto from the config it wrote
  "test/nodes/meross-onboard-mosquitto_spec.ts", // a real Mosquitto
  "test/scripts/demo_spec.ts", // `npm start`'s script, spawned
  "test/core/broker/hostile_spec.ts", // hundreds of hostile sockets and a flood against the broker: a load test (half a minute)
];

const COMMON = { import: "tsx", timeout: 20000, exit: true };

module.exports = { ALL, INTEGRATION, COMMON };
