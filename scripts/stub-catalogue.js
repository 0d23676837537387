// Preloaded into node-red-dev: answers its flows-catalogue download with an empty
// catalogue (this network reaches only the package registries), leaves every other
// request alone.
"use strict";
const Module = require("node:module");
const load = Module._load;
Module._load = function (request) {
  const mod = load.apply(this, arguments);
  if (request === "axios" && mod && !mod.__merossStub) {
    const get = mod.get;
    mod.get = function (url, ...rest) {
      if (String(url).endsWith("/catalogue.json")) return Promise.resolve({ data: { modules: [] } });
      return get.call(this, url, ...rest);
    };
    mod.__merossStub = true;
  }
  return mod;
};
