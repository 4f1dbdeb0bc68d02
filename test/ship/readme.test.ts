// The README must stay true: every npm script it mentions exists, every repository path it names exists, every
// workflow and component it lists is real, and the sections the lead fills in keep their markers.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const README = readFileSync(path.join(ROOT, "README.md"), "utf8");
const SCRIPTS = (
  JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }
).scripts;

describe("README.md", () => {
  it("shows the two Quickstart commands", () => {
    assert.match(README, /^## Quickstart$/m);
    assert.match(README, /^npm ci && npm start\b/m);
    assert.match(README, /^npm test\b/m);
  });

  it("keeps the sections and markers other steps fill in", () => {
    for (const marker of [
      "<!-- sample output -->",
      "## Performance",
      "<!-- bench table -->",
      "<!-- config-table:start -->",
      "<!-- config-table:end -->",
    ]) {
      assert.ok(README.includes(marker), marker);
    }
    for (const heading of ["Architecture", "Deploying to AWS", "Configuration", "Troubleshooting", "Cost notes"]) {
      assert.match(README, new RegExp(`^## ${heading}$`, "m"));
    }
    assert.match(README, /```mermaid\nflowchart /);
  });

  it("mentions only npm scripts that exist", () => {
    const used = new Set([...README.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]));
    assert.ok(used.size >= 5);
    for (const name of used) assert.ok(SCRIPTS[name], `README uses "npm run ${name}", package.json has no such script`);
    for (const name of ["start", "test"]) assert.ok(SCRIPTS[name]);
  });

  it("names only repository files that exist", () => {
    const paths = new Set(
      [...README.matchAll(/`((?:app|lambda|telemetry|infra|local|policy|scripts|bench|test|\.github)\/[\w./-]*)`/g)]
        .map((m) => m[1])
        .concat(["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"]),
    );
    assert.ok(paths.size >= 10);
    for (const p of paths) assert.ok(existsSync(path.join(ROOT, p)), `README names ${p}, which does not exist`);
  });

  it("lists components that the files really export", () => {
    const rows = [...README.matchAll(/^\| `(\w+)` +\| `(infra\/components\/[\w-]+\.ts)` +\|/gm)];
    assert.ok(rows.length >= 5, "component table");
    for (const [, name, file] of rows) {
      assert.match(
        readFileSync(path.join(ROOT, file), "utf8"),
        new RegExp(`export class ${name} `),
        `${name} in ${file}`,
      );
    }
  });

  it("shows the reuse example that test/ship/fixtures/reuse-components.ts typechecks (npm run typecheck)", () => {
    const section = README.slice(README.indexOf("## Reusing the components"));
    const snippet = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(snippet, "a ```ts block under ## Reusing the components");
    const fixture = readFileSync(path.join(__dirname, "fixtures/reuse-components.ts"), "utf8");
    assert.equal(snippet.replaceAll('"./traced-onboarding/', '"../../../'), fixture);
  });

  it("documents the stack outputs the program exports", () => {
    const index = readFileSync(path.join(ROOT, "infra/index.ts"), "utf8");
    const outputs = [...index.matchAll(/^export const (\w+)/gm)].map((m) => m[1]);
    assert.ok(outputs.includes("apiUrl"));
    for (const output of outputs) assert.ok(README.includes(`\`${output}\``), `README lacks output ${output}`);
  });
});
