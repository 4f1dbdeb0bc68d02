/**
 * The harness loads a program where the Pulumi Node language host would (harness/language-host.ts mirrors
 * pulumi/pulumi pkg/engine/project.go `getPwdMain` and sdk/nodejs/cmd/run/run.js), so a program that only works
 * from another directory fails in tests as it would under `pulumi up`.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { locateProgram } from "../../harness/language-host";
import { PROJECT_ROOT, runStackProgram, STACK_RUN_TEST_TIMEOUT_MS } from "../../harness/run-program";

/** A throwaway project: Pulumi.yaml, package.json and the given files. */
function project(pulumiYaml: string, files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "host-"));
  const runtime = pulumiYaml.includes("runtime:") ? "" : "runtime: nodejs\n";
  fs.writeFileSync(path.join(root, "Pulumi.yaml"), `name: p\n${runtime}${pulumiYaml}`);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), content);
  }
  return root;
}

describe("where the language host runs a program", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);
  it("this project: from the root, entry package.json's main, compiled with the root tsconfig.json", () => {
    assert.deepEqual(locateProgram(PROJECT_ROOT), {
      projectRoot: PROJECT_ROOT,
      pwd: PROJECT_ROOT,
      entry: path.join(PROJECT_ROOT, "infra/index.ts"),
      tsconfig: path.join(PROJECT_ROOT, "tsconfig.json"),
    });
  });

  it("a directory main becomes the working directory; the entry still comes from package.json", () => {
    const root = project("main: infra/\n", {
      "package.json": JSON.stringify({ main: "infra/index.ts" }),
      "infra/index.ts": "",
      "tsconfig.json": "{}",
    });
    const where = locateProgram(root);
    assert.equal(where.pwd, path.join(root, "infra"));
    assert.equal(where.entry, path.join(root, "infra/index.ts"));
    // tsconfig.json is looked up in the working directory only: the root one is not used.
    assert.equal(where.tsconfig, undefined);
  });

  it("a file main runs from its directory; runtime.options.tsconfig is relative to that directory", () => {
    const root = project(
      "main: src/program.ts\nruntime:\n  name: nodejs\n  options:\n    tsconfig: ../tsconfig.json\n",
      {
        "src/program.ts": "",
        "tsconfig.json": "{}",
      },
    );
    assert.deepEqual(locateProgram(root), {
      projectRoot: root,
      pwd: path.join(root, "src"),
      entry: path.join(root, "src/program.ts"),
      tsconfig: path.join(root, "tsconfig.json"),
    });
  });

  it("no main and no package.json entry: the project directory itself", () => {
    const root = project("", { "package.json": "{}" });
    assert.equal(locateProgram(root).entry, root);
  });

  it("a main that does not exist is the engine's error", () => {
    const root = project("main: nowhere/\n", {});
    assert.throws(() => locateProgram(root), /project 'main' could not be read/);
  });
});

describe("the harness runs a program in that directory", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);

  it("so a path relative to the working directory resolves from main's directory, as under pulumi up", async () => {
    const fixture = path.join(__dirname, "fixtures/cwd-probe");
    const run = await runStackProgram({ preview: true, projectRoot: fixture });
    assert.equal(run.outputs.cwd, path.join(fixture, "sub"));
    assert.equal(run.outputs.relativeRead, "found from sub/");
    assert.equal(run.location.pwd, path.join(fixture, "sub"));
  });
});
