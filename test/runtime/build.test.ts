import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { builtinModules } from "node:module";
import path from "node:path";
import { DIST, REPO_ROOT, ensureBundles } from "./helpers";

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

interface DockerInstruction {
  readonly keyword: string;
  /** `--name=value` flags before the arguments (FROM --platform, COPY --chown, …). */
  readonly flags: Record<string, string>;
  /** The rest of the instruction: for exec form (`["a","b"]`) the parsed array, otherwise split on whitespace. */
  readonly args: string[];
  /** True when the arguments were a JSON array (exec form). */
  readonly exec: boolean;
}

/** Parses a Dockerfile into instructions: comment lines dropped, backslash line continuations joined. */
function parseDockerfile(file: string): DockerInstruction[] {
  const logical: string[] = [];
  let current = "";
  for (const raw of readFileSync(path.join(REPO_ROOT, file), "utf8").split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#") || (current === "" && line === "")) continue;
    if (line.endsWith("\\")) {
      current += line.slice(0, -1) + " ";
      continue;
    }
    logical.push(current + line);
    current = "";
  }
  if (current.trim() !== "") logical.push(current);
  return logical.map((text) => {
    const [, keyword = "", rest = ""] = /^(\S+)\s*(.*)$/.exec(text) ?? [];
    const flags: Record<string, string> = {};
    let remaining = rest;
    for (let flag = /^--([a-z-]+)=(\S+)\s*/.exec(remaining); flag; flag = /^--([a-z-]+)=(\S+)\s*/.exec(remaining)) {
      flags[flag[1]!] = flag[2]!;
      remaining = remaining.slice(flag[0].length);
    }
    if (remaining.startsWith("[")) {
      return { keyword: keyword.toUpperCase(), flags, args: JSON.parse(remaining) as string[], exec: true };
    }
    return { keyword: keyword.toUpperCase(), flags, args: remaining.split(/\s+/).filter(Boolean), exec: false };
  });
}

const only = (instructions: DockerInstruction[], keyword: string) => instructions.filter((i) => i.keyword === keyword);

describe("runtime: container images (lambda/Dockerfile, app/Dockerfile)", function () {
  this.timeout(60_000);

  it("Lambda: AWS Lambda Node 22 base image for arm64, copies only the bundle, CMD names the exported handler", async () => {
    const lambda = parseDockerfile("lambda/Dockerfile");
    const from = only(lambda, "FROM");
    assert.equal(from.length, 1, "one stage");
    assert.deepEqual(from[0]!.flags, { platform: "linux/arm64" });
    assert.match(from[0]!.args[0]!, /^public\.ecr\.aws\/lambda\/nodejs:22([.-]|$)/);
    assert.equal(from[0]!.args.length, 1);

    assert.deepEqual(only(lambda, "ADD"), [], "no ADD (COPY only)");
    const copies = only(lambda, "COPY");
    assert.deepEqual(
      copies.map((c) => c.args),
      [["dist/lambda/handler.js", "${LAMBDA_TASK_ROOT}/"]],
      "only the bundle is copied, into the task root",
    );

    const cmd = only(lambda, "CMD");
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

  it("API: node:22 image, copies only the app bundles, runs as a non-root USER, CMD preloads tracing before the server", () => {
    const app = parseDockerfile("app/Dockerfile");
    const from = only(app, "FROM");
    assert.equal(from.length, 1, "one stage");
    assert.match(from[0]!.args[0]!, /^node:22([.-]|$)/);

    assert.deepEqual(only(app, "ADD"), [], "no ADD (COPY only)");
    assert.deepEqual(
      only(app, "COPY").map((c) => c.args[0]),
      ["dist/app/"],
      "only the app bundles are copied",
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
});
