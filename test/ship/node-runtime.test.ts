// The tests run on the production runtime: Node 24, from the `node` package the lockfile pins (npm scripts put
// node_modules/.bin first on PATH), whatever Node the machine itself has. CI's log shows the version this prints.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
  allowScripts?: Record<string, boolean>;
};
const major = (version: string) => Number(/(\d+)/.exec(version)?.[1]);

describe("the Node.js runtime of the test run", () => {
  it("is Node 24, the version .nvmrc, engines, the pinned node package and the images use", () => {
    console.log(`      test run on Node ${process.version} (${process.execPath})`);
    const nvmrc = readFileSync(path.join(ROOT, ".nvmrc"), "utf8").trim();
    assert.equal(major(process.version), 24);
    assert.equal(major(nvmrc), 24);
    assert.equal(pkg.engines.node, ">=24");
    assert.equal(major(pkg.devDependencies.node), 24);
    for (const dockerfile of ["app/Dockerfile", "lambda/Dockerfile"]) {
      const bases = [...readFileSync(path.join(ROOT, dockerfile), "utf8").matchAll(/^FROM\s+(?:--\S+\s+)*(\S+)/gm)];
      for (const [, image] of bases) assert.match(image, /node(js)?:24\b/, `${dockerfile}: ${image}`);
    }
  });

  it("approves the node package's install script explicitly, so a stricter npm does not skip it", () => {
    assert.equal(pkg.allowScripts?.node, true);
  });
});
