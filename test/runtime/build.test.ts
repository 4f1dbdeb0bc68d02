import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { DIST, ensureBundles } from "./helpers";

describe("runtime: bundles (scripts/build.ts)", function () {
  this.timeout(60_000);

  it("builds the three CJS bundles of the contract", async () => {
    const bundles = await ensureBundles();
    assert.deepEqual(
      bundles.map((b) => [b.name, path.relative(DIST, b.outfile)]),
      [
        ["app/tracing", "app/tracing.js"],
        ["app/server", "app/server.js"],
        ["lambda/handler", "lambda/handler.js"],
      ],
    );
  });

  it("the Lambda bundle stays within 700 KB and leaves the base image's AWS SDK external", async () => {
    const lambda = (await ensureBundles()).find((b) => b.name === "lambda/handler")!;
    assert.ok(lambda.bytes <= 700_000, `lambda bundle is ${lambda.bytes} bytes`);
    const source = readFileSync(lambda.outfile, "utf8");
    assert.match(source, /require\("@aws-sdk\/client-secrets-manager"\)/);
    assert.doesNotMatch(source, /require\("@opentelemetry\//, "OpenTelemetry is bundled, not required at runtime");
  });

  it("the API bundles are self-contained (no require of node_modules packages)", async () => {
    const bundles = await ensureBundles();
    for (const b of bundles.filter((x) => x.name.startsWith("app/"))) {
      const source = readFileSync(b.outfile, "utf8");
      const requires = [...source.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
      // signature-v4-crt is an optional SigV4a add-on the SDK requires inside try/catch; SQS never needs it.
      const external = requires.filter(
        (r) => !r.startsWith("node:") && !isBuiltin(r) && r !== "@aws-sdk/signature-v4-crt",
      );
      assert.deepEqual(external, [], `${b.name} requires ${external.join(", ")}`);
    }
  });
});

function isBuiltin(name: string): boolean {
  return builtinModules.includes(name.split("/")[0]);
}
