/**
 * The real policy pack, end to end without the Pulumi CLI: policy/index.ts runs in its own process the way the CLI
 * starts it (Pulumi's run-policy-pack in policy/), serves the analyzer gRPC API, and this test plays the engine —
 * it asks for the pack's policies, then sends resources and a stack to analyze and reads the diagnostics back.
 */
import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import type { JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";
import { policies } from "../../policy/policies";
import { UNKNOWN } from "../../policy/rules";
import { goodStack, withPatch } from "./fixtures";

const ROOT = path.resolve(__dirname, "../..");

/**
 * Starts the pack the way the CLI's Node.js language host does: Pulumi's own `run-policy-pack` entry (ts-node with
 * type checking) in the pack directory; it prints the port its analyzer server listens on.
 */
function startPack(): Promise<{ child: ChildProcess; port: number }> {
  const runPolicyPack = path.join(path.dirname(require.resolve("@pulumi/pulumi")), "cmd", "run-policy-pack");
  // Arguments: <engine address> <program>. The address is only used by the engine side, so any value will do here.
  const child = spawn(process.execPath, [runPolicyPack, "127.0.0.1:0", "."], {
    cwd: path.join(ROOT, "policy"),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`policy pack did not start:\n${stdout}\n${stderr}`)), 60_000);
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      const m = /^(\d+)\s*$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.on("exit", (code) => reject(new Error(`policy pack exited ${code}:\n${stdout}\n${stderr}`)));
  });
}

type Client = InstanceType<typeof analyzerRpc.AnalyzerClient>;
const call = <Req, Res>(fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown, req: Req) =>
  new Promise<Res>((resolve, reject) => fn(req, (err, res) => (err ? reject(err) : resolve(res))));

const struct = (props: Record<string, unknown>) => Struct.fromJavaScript(props as Record<string, JavaScriptValue>);

describe("policy pack served to the engine (gRPC analyzer, no CLI)", function () {
  this.timeout(90_000);
  let child: ChildProcess;
  let client: Client;

  before(async () => {
    const started = await startPack();
    child = started.child;
    client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${started.port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    child?.kill();
  });

  it("announces every policy, mandatory", async () => {
    const info = await call<Empty, analyzer.AnalyzerInfo>(client.getAnalyzerInfo.bind(client), new Empty());
    assert.equal(info.getName(), "traced-onboarding");
    const served = info.getPoliciesList();
    assert.deepEqual(
      served.map((p) => p.getName()),
      policies.map((p) => p.name),
    );
    for (const p of served) assert.equal(p.getEnforcementlevel(), analyzer.EnforcementLevel.MANDATORY, p.getName());
  });

  const analyze = (type: string, name: string, props: Record<string, unknown>) =>
    call<analyzer.AnalyzeRequest, analyzer.AnalyzeResponse>(
      client.analyze.bind(client),
      new analyzer.AnalyzeRequest()
        .setType(type)
        .setName(name)
        .setUrn(`urn:pulumi:dev::traced-onboarding::${type}::${name}`)
        .setProperties(struct(props))
        .setOptions(new analyzer.AnalyzerResourceOptions()),
    ).then((r) => r.getDiagnosticsList());

  it("rejects a resource that breaks a rule, as a mandatory violation", async () => {
    const diagnostics = await analyze("aws:sqs/queue:Queue", "q", { visibilityTimeoutSeconds: 30 });
    const d = diagnostics.find((x) => x.getPolicyname() === "sqs-encrypted-with-cmk");
    assert.ok(d, JSON.stringify(diagnostics.map((x) => x.toObject())));
    assert.match(d.getMessage(), /kmsMasterKeyId is not set/);
    assert.equal(d.getEnforcementlevel(), analyzer.EnforcementLevel.MANDATORY);
  });

  it("accepts a good resource, and one whose value is unknown during preview", async () => {
    assert.deepEqual(await analyze("aws:sqs/queue:Queue", "q", { kmsMasterKeyId: "arn:aws:kms:x:1:key/1" }), []);
    assert.deepEqual(await analyze("aws:sqs/queue:Queue", "q", { kmsMasterKeyId: UNKNOWN }), []);
  });

  const analyzeStack = (stack: ReturnType<typeof goodStack>) =>
    call<analyzer.AnalyzeStackRequest, analyzer.AnalyzeResponse>(
      client.analyzeStack.bind(client),
      new analyzer.AnalyzeStackRequest().setResourcesList(
        stack.map((r) =>
          new analyzer.AnalyzerResource()
            .setType(r.type)
            .setName(r.name)
            .setUrn(r.urn)
            .setProperties(struct(r.props))
            .setOptions(new analyzer.AnalyzerResourceOptions()),
        ),
      ),
    ).then((r) => r.getDiagnosticsList());

  it("accepts the reference stack and names the offending resource of a bad one", async () => {
    assert.deepEqual(
      (await analyzeStack(goodStack())).map((d) => d.toObject()),
      [],
    );
    const bad = withPatch(goodStack(), "aws:cloudwatch/metricStream:MetricStream", "metrics", () => ({
      outputFormat: "json",
    }));
    const diagnostics = await analyzeStack(bad);
    assert.deepEqual(
      diagnostics.map((d) => [d.getPolicyname(), d.getUrn()]),
      [
        [
          "metric-stream-format-matches-coralogix-integration",
          "urn:pulumi:test::traced-onboarding::aws:cloudwatch/metricStream:MetricStream::metrics",
        ],
      ],
    );
  });
});
