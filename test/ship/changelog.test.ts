// The components package is versioned with semver and every version is in its CHANGELOG, newest first, so an
// upgrade says what changed (and what breaks in the TypeScript API).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const PACKAGE = path.resolve(__dirname, "../../packages/traced-components");
const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE, "package.json"), "utf8")) as { version: string };
const changelog = fs.readFileSync(path.join(PACKAGE, "CHANGELOG.md"), "utf8");
const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;

describe("packages/traced-components CHANGELOG.md", () => {
  const versions = [...changelog.matchAll(/^## (\S+)$/gm)].map((m) => m[1]!);

  it("lists semver versions only, newest first, down to 0.1.0", () => {
    for (const version of versions) assert.match(version, SEMVER);
    const key = (v: string) => v.split(".").map(Number);
    const sorted = [...versions].sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      return y[0]! - x[0]! || y[1]! - x[1]! || y[2]! - x[2]!;
    });
    assert.deepEqual(versions, sorted);
    assert.equal(versions.at(-1), "0.1.0");
  });

  it("opens with the version package.json declares, and the root program depends on exactly it", () => {
    assert.equal(versions[0], manifest.version);
    const root = JSON.parse(fs.readFileSync(path.resolve(PACKAGE, "../../package.json"), "utf8"));
    assert.equal(root.dependencies["@traced-onboarding/components"], manifest.version);
  });
});
