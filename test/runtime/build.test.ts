import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { builtinModules } from "node:module";
import path from "node:path";
import { contextSources, only, stagesOf } from "./dockerfile";
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
        ["lambda/otlp-proto", "lambda/node_modules/@opentelemetry/exporter-trace-otlp-proto/index.js"],
      ],
    );
  });

  it("the Lambda bundle stays within 700 KB and leaves the base image's AWS SDK external", async () => {
    const lambda = (await ensureBundles()).find((b) => b.name === "lambda/handler")!;
    assert.ok(lambda.bytes <= 700_000, `lambda bundle is ${lambda.bytes} bytes`);
    const source = readFileSync(lambda.outfile, "utf8");
    assert.match(source, /require\("@aws-sdk\/client-secrets-manager"\)/);
    // The store signs its DynamoDB calls itself (lambda/src/aws-json.ts): the SDK client cost ≈ 105 ms of cold init.
    assert.doesNotMatch(source, /@aws-sdk\/client-dynamodb/);
    // OpenTelemetry is bundled, except the OTLP/HTTP exporter: its own bundle beside the handler (scripts/build.ts).
    const otelRequires = [...source.matchAll(/require\("(@opentelemetry\/[^"]+)"\)/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(otelRequires)], ["@opentelemetry/exporter-trace-otlp-proto"]);
    const proto = (await ensureBundles()).find((b) => b.name === "lambda/otlp-proto")!;
    const protoRequires = [...readFileSync(proto.outfile, "utf8").matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    assert.deepEqual(
      protoRequires.filter((r) => !r.startsWith("node:") && !isBuiltin(r)),
      [],
      "the exporter's bundle is self-contained",
    );
  });

  it("the Lambda bundle takes only the trace protobuf serializer and the SigV4 signer from their packages", async () => {
    const lambda = (await ensureBundles()).find((b) => b.name === "lambda/handler")!;
    const transformer = lambda.inputs.filter((f) => f.includes("node_modules/@opentelemetry/otlp-transformer/"));
    assert.ok(
      transformer.some((f) => f.endsWith("dist/trace/protobuf/trace-serializer.mjs")),
      "ProtobufTraceSerializer (ESM build) is bundled",
    );
    const extra = transformer.filter(
      (f) => !/dist\/(trace\/protobuf|common\/protobuf|common\/hex-to-binary|platform\/node\/utf8)/.test(f),
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

describe("runtime: container images (lambda/Dockerfile, app/Dockerfile)", function () {
  this.timeout(60_000);

  it("both images bundle from source in a node:24 build stage with the lockfile and scripts/build.ts", () => {
    for (const [file, name] of [
      ["lambda/Dockerfile", "lambda"],
      ["app/Dockerfile", "app"],
    ] as const) {
      const stages = stagesOf(file);
      assert.equal(stages.length, 2, `${file}: a build stage and the image`);
      const build = stages[0]!;
      assert.match(build.image, /^node:24([.-]|$)/, `${file} build stage`);
      assert.equal(build.name, "build");
      const runs = only(build.instructions, "RUN").map((r) => r.args.join(" "));
      const ci = runs.findIndex((r) => /^npm ci\b/.test(r));
      assert.ok(ci >= 0, `${file}: npm ci (installs exactly the lockfile)`);
      assert.ok(runs.indexOf(`npm run build -- ${name}`) > ci, `${file}: npm run build -- ${name} after npm ci`);
      assert.ok(contextSources(file).includes("package-lock.json"), `${file} copies the lockfile`);
    }
  });

  it("Lambda: AWS Lambda Node 24 base image for arm64, copies only the bundle, CMD names the exported handler", async () => {
    const image = stagesOf("lambda/Dockerfile").at(-1)!;
    assert.deepEqual(image.from.flags, { platform: "linux/arm64" });
    assert.match(image.image, /^public\.ecr\.aws\/lambda\/nodejs:24([.-]|$)/);
    assert.equal(image.from.args.length, 1);

    assert.deepEqual(only(image.instructions, "ADD"), [], "no ADD (COPY only)");
    const copies = only(image.instructions, "COPY");
    assert.deepEqual(
      copies.map((c) => [c.flags.from, ...c.args]),
      [
        ["build", "/src/dist/lambda/handler.js", "${LAMBDA_TASK_ROOT}/"],
        ["build", "/src/dist/lambda/node_modules/", "${LAMBDA_TASK_ROOT}/node_modules/"],
      ],
      "only the bundles are copied from the build stage, into the task root",
    );

    const cmd = only(image.instructions, "CMD");
    assert.equal(cmd.length, 1);
    assert.equal(cmd[0]!.exec, true, "exec form");
    assert.deepEqual(cmd[0]!.args, ["handler.handler"]);
    // "<module>.<export>": the module is the copied file, and the built bundle exports that function.
    const [moduleName, exportName] = cmd[0]!.args[0]!.split(".");
    assert.equal(path.basename(copies[0]!.args[0]!), `${moduleName}.js`);
    await ensureBundles();
    const exported = execFileSync(
      process.execPath,
      [
        "-e",
        `process.stdout.write(typeof require(process.argv[1])[process.argv[2]])`,
        path.join(DIST, "lambda/handler.js"),
        exportName!,
      ],
      { env: { PATH: process.env.PATH, OTEL_SDK_DISABLED: "true", AWS_REGION: "us-east-1" }, encoding: "utf8" },
    );
    assert.equal(exported, "function", `dist/lambda/handler.js exports ${exportName}()`);
  });

  it("API: node:24-slim image, copies only the app bundles, runs as a non-root USER, CMD preloads tracing before the server", () => {
    const image = stagesOf("app/Dockerfile").at(-1)!;
    const app = image.instructions;
    assert.match(image.image, /^node:24-slim([.-]|$)/);

    assert.deepEqual(only(app, "ADD"), [], "no ADD (COPY only)");
    assert.deepEqual(
      only(app, "COPY").map((c) => [c.flags.from, c.args[0]]),
      [["build", "/src/dist/app/"]],
      "only the app bundles are copied, from the build stage",
    );

    const users = app.map((i, index) => ({ ...i, index })).filter((i) => i.keyword === "USER");
    const cmdIndex = app.findIndex((i) => i.keyword === "CMD");
    assert.ok(users.length > 0, "a USER instruction");
    const user = users[users.length - 1]!;
    assert.ok(user.index < cmdIndex, "USER comes before CMD");
    const [name, group] = user.args[0]!.split(":");
    assert.ok(!["root", "0"].includes(name!) && !["root", "0"].includes(group ?? ""), `USER ${user.args[0]} is root`);

    const cmd = only(app, "CMD");
    assert.equal(cmd.length, 1);
    assert.equal(cmd[0]!.exec, true, "exec form (node is PID 1 and receives SIGTERM)");
    const argv = cmd[0]!.args;
    assert.equal(argv[0], "node");
    const preload = argv.indexOf("--require");
    assert.ok(preload > 0, `CMD ${JSON.stringify(argv)} has --require`);
    assert.equal(argv[preload + 1], "./tracing.js");
    const server = argv.indexOf("./server.js");
    assert.ok(server > preload + 1, `tracing is preloaded before ./server.js: ${JSON.stringify(argv)}`);
    assert.equal(server, argv.length - 1, "./server.js is the entry script");
  });

  it("API: /tmp, where the task mounts its ECS volume, is a VOLUME the non-root user can write (1777)", () => {
    // Fargate makes a bind-mount volume root:root 0755 unless the image declares the same path as a VOLUME; then ECS
    // copies the image's directory, permissions included (AWS ECS developer guide, "Use bind mounts with Amazon ECS").
    // test/infra/stack.test.ts checks that every volume the task mounts in the app container is such a VOLUME.
    const app = stagesOf("app/Dockerfile").at(-1)!.instructions;
    const volume = app.findIndex((i) => i.keyword === "VOLUME");
    assert.ok(volume >= 0, "a VOLUME instruction");
    assert.deepEqual(app[volume]!.args, ["/tmp"]);
    assert.equal(app[volume]!.exec, true, "exec form: exactly the path /tmp");
    const chmod = app.findIndex((i) => i.keyword === "RUN" && /chmod 1777 \/tmp(\s|$)/.test(i.args.join(" ")));
    assert.ok(chmod >= 0 && chmod < volume, "/tmp is made 1777 before the VOLUME (later changes would be discarded)");
    assert.ok(chmod < app.findIndex((i) => i.keyword === "USER"), "as root, before USER");
  });
});
