// The fast unit suite (`npm run test:unit`, plain `npx mocha`): every spec but the integration ones.
"use strict";
const { ALL, INTEGRATION, COMMON } = require("./test/suites.cjs");

module.exports = { ...COMMON, spec: ALL, ignore: INTEGRATION };
