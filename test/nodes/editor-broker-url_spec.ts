/**
 * The meross-broker dialog moves "user:password@" out of the URL field into the User name and
 * Password fields before saving, so the password never stays in flows.json or an export. The
 * shared editor script runs here with just enough of jQuery and RED to load.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";

interface Field {
  val(v?: string): string | Field;
}
interface Editor {
  splitBrokerUrl(url: string): { url: string; username: string; password: string };
  moveBrokerUrlCredentials($url: Field, $user: Field, $password: Field): void;
}

const ROOT = path.join(__dirname, "..", "..");

function field(initial: string): Field & { value: string } {
  const f = {
    value: initial,
    val(v?: string) {
      if (v === undefined) return f.value;
      f.value = v;
      return f;
    },
  };
  return f;
}

function loadEditor(): Editor {
  const chain: Record<string, unknown> = {};
  for (const m of ["attr", "appendTo", "on", "text", "append", "empty"]) chain[m] = () => chain;
  const window: Record<string, unknown> = {};
  const jQuery = Object.assign(() => chain, { ajax: () => chain, getJSON: () => chain });
  vm.runInNewContext(fs.readFileSync(path.join(ROOT, "resources", "meross-editor.js"), "utf8"), {
    window,
    jQuery,
    RED: { settings: {} },
  });
  return window.MerossEditor as Editor;
}

describe("meross-broker dialog: a password typed in the broker URL", () => {
  it("splits user:password@ off the URL, decoding both, and leaves a URL without one alone", () => {
    const e = loadEditor();
    assert.deepEqual(
      { ...e.splitBrokerUrl("mqtts://nodered:pw%40home-77@192.168.1.10:8883") },
      {
        url: "mqtts://192.168.1.10:8883",
        username: "nodered",
        password: "pw@home-77",
      },
    );
    assert.deepEqual({ ...e.splitBrokerUrl("mqtt://solo@broker.lan") }, { url: "mqtt://broker.lan", username: "solo", password: "" });
    assert.deepEqual({ ...e.splitBrokerUrl("mqtts://broker.lan:8883") }, { url: "mqtts://broker.lan:8883", username: "", password: "" });
  });

  it("moves them into the User name (when empty) and Password fields, and the dialog does so on change and on save", () => {
    const e = loadEditor();
    const url = field("mqtts://nodered:pw-in-url-77@127.0.0.1:8883");
    const user = field("");
    const password = field("__PWRD__");
    e.moveBrokerUrlCredentials(url, user, password);
    assert.deepEqual([url.value, user.value, password.value], ["mqtts://127.0.0.1:8883", "nodered", "pw-in-url-77"]);
    const kept = field("already-set");
    e.moveBrokerUrlCredentials(field("mqtts://other:pw2-long@h:1"), kept, field(""));
    assert.equal(kept.value, "already-set", "a user name the person typed is kept");

    const html = fs.readFileSync(path.join(ROOT, "nodes", "meross-broker.html"), "utf8");
    assert.match(html, /oneditsave: function \(\) \{\s*MerossEditor\.moveBrokerUrlCredentials\(/);
    assert.match(html, /\$\("#node-config-input-url"\)\.on\("change blur", moveCredentials\)/);
  });
});
