import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

/** The icons each editor file names (not Node-RED's own font-awesome ones). */
function namedIcons(): string[] {
  const dir = path.join(ROOT, "nodes");
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".html"))
    .flatMap((f) => [...fs.readFileSync(path.join(dir, f), "utf8").matchAll(/icon:\s*"([^"/]+\.svg)"/g)].map((m) => m[1]));
}

describe("package layout", () => {
  it("keeps the node icons in the top-level icons/ folder, and the build puts them beside the nodes' .js where Node-RED finds them", () => {
    const icons = namedIcons();
    assert.ok(icons.length >= 5, `icons named by the editor files: ${icons.join(", ")}`);
    assert.equal(fs.existsSync(path.join(ROOT, "nodes", "icons")), false, "nodes/icons is back");
    for (const icon of icons) {
      assert.ok(fs.existsSync(path.join(ROOT, "icons", icon)), `icons/${icon} is missing`);
      if (fs.existsSync(path.join(ROOT, "dist", "nodes")))
        assert.ok(fs.existsSync(path.join(ROOT, "dist", "nodes", "icons", icon)), `npm run build did not copy ${icon} to dist/nodes/icons`);
    }
  });

  it("lists icons/ and dist/ (with dist/nodes/icons) in the package's files", () => {
    // `npm pack --dry-run` shows both folders; spawning npm here would run the prepare build, so the list is read instead.
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { files: string[] };
    assert.ok(pkg.files.includes("icons"), `files: ${pkg.files.join(", ")}`);
    assert.ok(pkg.files.includes("dist"), `files: ${pkg.files.join(", ")}`);
  });

  it("names only spec files that exist in the integration suite (a renamed one would silently join the fast suite)", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { INTEGRATION } = require(path.join(ROOT, "test", "suites.cjs")) as { INTEGRATION: string[] };
    for (const entry of INTEGRATION) {
      const dir = entry.includes("*") ? entry.slice(0, entry.indexOf("*")) : entry;
      assert.ok(fs.existsSync(path.join(ROOT, dir)), `test/suites.cjs names ${entry}, which does not exist`);
    }
  });
});
