// The integration suite (`npm run test:integration`): the CLI executable, Node-RED, Chromium, Mosquitto.
"use strict";
const { INTEGRATION, COMMON } = require("./test/suites.cjs");

module.exports = { ...COMMON, spec: INTEGRATION };
