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

  it("the Lambda bundle takes only the trace protobuf serializer and the SigV4 signer from their packages", async () => {
    const lambda = (await ensureBundles()).find((b) => b.name === "lambda/handler")!;
    const transformer = lambda.inputs.filter((f) => f.includes("node_modules/@opentelemetry/otlp-transformer/"));
    assert.ok(
      transformer.some((f) => f.endsWith("build/esm/trace/protobuf/trace-serializer.js")),
      "ProtobufTraceSerializer (ESM build) is bundled",
    );
    const extra = transformer.filter(
      (f) => !/build\/esm\/(trace\/protobuf|common\/protobuf|common\/hex-to-binary)/.test(f),
    );
    assert.deepEqual(extra, [], "no logs/metrics/JSON serializers or SDK adapters");
    assert.ok(lambda.inputs.some((f) => f.includes("node_modules/@smithy/signature-v4/dist-es/SignatureV4.js")));
    const unwanted = lambda.inputs.filter((f) =>
      /node_modules\/(protobufjs|@grpc|@aws-sdk|@opentelemetry\/(sdk-logs|sdk-metrics|api-logs))\//.test(f),
    );
    assert.deepEqual(unwanted, []);
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
