/**
 * The built Lambda bundle (dist/lambda/handler.js), loaded in a fresh process per case so its module-level
 * initialisation sees that case's environment, exporting to a real gRPC OTLP receiver.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import type { SQSEvent } from "aws-lambda";
import { startOtlpHttpReceiver } from "../../local/otlp-http";
import { startOtlpReceiver, type OtlpReceiver } from "../../local/otlp-receiver";
import {
  DIST,
  REGION,
  TEST_CREDENTIALS,
  closedPort,
  ensureBundles,
  makeRecord,
  startBlackhole,
  validMessageBody,
  type JsonLine,
} from "./helpers";
import { checkSigV4, secretValueBody, startSecretsStub, type SecretsStub, type StubReply } from "./secrets-stub";

const DRIVER = path.join(__dirname, "fixtures/invoke-lambda.cjs");
const TRACE = "0af7651916cd43dd8448eb211c80319c";

interface Invocation {
  result?: { batchItemFailures: { itemIdentifier: string }[] };
  elapsedMs: number;
  lines: JsonLine[];
  /** How the bundle's exported `telemetryReady` promise settled before the invocation. */
  ready: "resolved" | "rejected" | "absent";
  /** Every invocation's result, in order (more than one when `invocations` > 1: a warm environment). */
  results: { invocation: number; result?: Invocation["result"]; elapsedMs: number }[];
}

/**
 * Runs the bundle in a fresh process (a cold execution environment) and invokes the handler `invocations` times in
 * it, one after another; `result`/`elapsedMs` are the first invocation's.
 */
async function invoke(
  env: NodeJS.ProcessEnv,
  event: SQSEvent,
  remainingMs: number,
  invocations = 1,
): Promise<Invocation> {
  await ensureBundles();
  const child = spawn(process.execPath, [DRIVER], {
    env: {
      PATH: process.env.PATH,
      AWS_REGION: REGION,
      AWS_LAMBDA_FUNCTION_NAME: "onboarding",
      INVOKE_PAYLOAD: JSON.stringify({
        bundle: path.join(DIST, "lambda/handler.js"),
        event,
        remainingMs,
        invocations,
      }),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const [code] = (await once(child, "exit")) as [number | null];
  const lines = out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as JsonLine);
  const results = lines.filter((l) => l.event === "driver.result");
  const done = results[0];
  if (code !== 0 || !done || results.length !== invocations) throw new Error(`driver failed (${code}): ${out} ${err}`);
  return {
    result: done.result as Invocation["result"],
    elapsedMs: done.elapsed_ms as number,
    ready: done.ready as Invocation["ready"],
    lines,
    results: results.map((l) => ({
      invocation: l.invocation as number,
      result: l.result as Invocation["result"],
      elapsedMs: l.elapsed_ms as number,
    })),
  };
}

function event(): SQSEvent {
  return {
    Records: [
      makeRecord({
        messageId: "good",
        body: validMessageBody("req-good"),
        messageAttributes: {
          traceparent: {
            dataType: "String",
            stringValue: `00-${TRACE}-b7ad6b7169203331-01`,
            stringListValues: [],
            binaryListValues: [],
          },
        },
      }),
      makeRecord({ messageId: "poison", body: "not json" }),
    ],
  };
}

describe("runtime: Lambda bundle exporting to a real gRPC OTLP receiver", function () {
  this.timeout(30_000);
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver({ requiredBearerToken: "t0k3n" });
  });
  after(async () => {
    await receiver?.close();
  });
  beforeEach(() => {
    receiver.spans.length = 0;
    receiver.requests.length = 0;
  });

  it("OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer … reaches the receiver as gRPC metadata; spans flushed before return", async () => {
    const inv = await invoke(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer t0k3n",
        OTEL_RESOURCE_ATTRIBUTES: "cx.subsystem.name=consumer",
        // What the Lambda runtime sets; awsLambdaDetector reads them (telemetry/resource.ts).
        AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512",
      },
      event(),
      5000,
    );
    assert.deepEqual(inv.result, { batchItemFailures: [{ itemIdentifier: "poison" }] });
    // No waiting: the handler's flush delivered everything before it returned.
    assert.ok(receiver.requests.length >= 1);
    assert.ok(receiver.requests.every((r) => r.metadata.authorization === "Bearer t0k3n"));
    const names = receiver.spans.map((s) => `${s.kind} ${s.name}`).sort();
    assert.deepEqual(names, [
      "CONSUMER process onboarding",
      "CONSUMER process onboarding",
      "CONSUMER process onboarding",
    ]);
    const good = receiver.spans.find((s) => s.attributes["messaging.message.id"] === "good")!;
    assert.equal(good.traceId, TRACE);
    assert.equal(good.parentSpanId, "b7ad6b7169203331");
    assert.equal(good.serviceName, "onboarding-lambda");
    assert.equal(good.resource["faas.name"], "onboarding");
    assert.equal(good.resource["cloud.platform"], "aws_lambda");
    assert.equal(good.resource["cx.subsystem.name"], "consumer");
    assert.equal(good.resource["faas.max_memory"], 512 * 1024 * 1024);
    const poison = receiver.spans.find((s) => s.attributes["messaging.message.id"] === "poison")!;
    assert.equal(poison.status.code, "ERROR");
    const processed = inv.lines.find((l) => l.event === "onboarding.processed");
    assert.equal(processed?.trace_id, TRACE);
    assert.equal(processed?.span_id, good.spanId);
  });

  it("OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf: the same spans reach the OTLP/HTTP receiver before the handler returns", async () => {
    const http = await startOtlpHttpReceiver({ receiver });
    try {
      const inv = await invoke(
        {
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
          OTEL_EXPORTER_OTLP_ENDPOINT: http.endpoint,
          OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer t0k3n",
        },
        event(),
        5000,
      );
      assert.deepEqual(inv.result, { batchItemFailures: [{ itemIdentifier: "poison" }] });
      assert.deepEqual(receiver.spans.map((s) => `${s.kind} ${s.name}`).sort(), [
        "CONSUMER process onboarding",
        "CONSUMER process onboarding",
        "CONSUMER process onboarding",
      ]);
      const poison = receiver.spans.find((s) => s.attributes["messaging.message.id"] === "poison")!;
      assert.equal(poison.status.code, "ERROR");
    } finally {
      await http.close();
    }
  });

  it("an unsupported OTEL_EXPORTER_OTLP_PROTOCOL disables tracing with the valid values logged; records still processed", async () => {
    const inv = await invoke({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }, event(), 3000);
    assert.deepEqual(inv.result, { batchItemFailures: [{ itemIdentifier: "poison" }] });
    const failed = inv.lines.find((l) => l.event === "telemetry.init_failed");
    assert.match(
      String((failed?.error as { message?: string })?.message),
      /OTEL_EXPORTER_OTLP_PROTOCOL="http\/json" is not supported; use one of: grpc, http\/protobuf/,
    );
  });

  it("a wrong key is rejected by the receiver, and the handler still returns its result on time", async () => {
    const inv = await invoke(
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer wrong" },
      event(),
      3000,
    );
    assert.deepEqual(inv.result, { batchItemFailures: [{ itemIdentifier: "poison" }] });
    assert.equal(receiver.spans.length, 0);
    assert.ok(inv.elapsedMs < 3000);
  });

  for (const mode of ["refused", "hung"] as const) {
    it(`receiver ${mode}: the handler returns before its deadline with the right result`, async () => {
      const blackhole = mode === "hung" ? await startBlackhole() : undefined;
      const port = blackhole?.port ?? (await closedPort());
      try {
        const remaining = 1500;
        const inv = await invoke({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }, event(), remaining);
        assert.deepEqual(inv.result, { batchItemFailures: [{ itemIdentifier: "poison" }] });
        // Flush deadline = remaining − 500 ms margin = 1000 ms; the invocation must end before Lambda's deadline.
        assert.ok(inv.elapsedMs < remaining, `handler took ${inv.elapsedMs} ms of ${remaining}`);
        if (mode === "hung") {
          assert.ok(inv.lines.some((l) => l.event === "telemetry.flush_incomplete" && l.outcome === "timeout"));
        }
      } finally {
        await blackhole?.close();
      }
    });
  }

  const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:cx-AbCdEf";
  const secretEnv = (stub: SecretsStub): NodeJS.ProcessEnv => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    CORALOGIX_SECRET_ARN: SECRET_ARN,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: stub.endpoint,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: "lambda-session-token",
  });

  it('Coralogix key from Secrets Manager ({"api_key"}) is sent as Bearer metadata', async () => {
    const stub = await startSecretsStub(() => ({ status: 200, body: secretValueBody("t0k3n") }));
    try {
      const inv = await invoke(secretEnv(stub), event(), 5000);
      assert.equal(inv.ready, "resolved");
      assert.deepEqual(inv.result, { batchItemFailures: [{ itemIdentifier: "poison" }] });
      assert.deepEqual(
        stub.requests.map((r) => [r.headers["x-amz-target"], r.headers["content-type"], JSON.parse(r.body).SecretId]),
        [["secretsmanager.GetSecretValue", "application/x-amz-json-1.1", SECRET_ARN]],
      );
      // The bundled signer (not just the source under tsx) produces a signature AWS would accept.
      const [req] = stub.requests;
      assert.equal(req.headers["x-amz-security-token"], "lambda-session-token");
      const sig = checkSigV4(req, TEST_CREDENTIALS.secretAccessKey);
      assert.equal(sig.accessKeyId, TEST_CREDENTIALS.accessKeyId);
      assert.match(sig.scope, /^\d{8}\/us-east-1\/secretsmanager\/aws4_request$/);
      assert.deepEqual(sig.signedHeaders, [
        "content-type",
        "host",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-target",
      ]);
      assert.equal(sig.signature, sig.expectedSignature);
      assert.equal(receiver.spans.length, 3);
      assert.ok(receiver.requests.every((r) => r.metadata.authorization === "Bearer t0k3n"));
    } finally {
      await stub.close();
    }
  });

  it("a warm environment reuses the cached key: 3 invocations in one process, exactly 1 GetSecretValue", async () => {
    const stub = await startSecretsStub(() => ({ status: 200, body: secretValueBody("t0k3n") }));
    try {
      const inv = await invoke(secretEnv(stub), event(), 5000, 3);
      assert.equal(inv.ready, "resolved");
      assert.deepEqual(
        inv.results.map((r) => [r.invocation, r.result]),
        [1, 2, 3].map((n) => [n, { batchItemFailures: [{ itemIdentifier: "poison" }] }]),
      );
      assert.deepEqual(
        stub.requests.map((r) => [r.headers["x-amz-target"], JSON.parse(r.body).SecretId]),
        [["secretsmanager.GetSecretValue", SECRET_ARN]],
        "the key is read once at init and cached for later invocations",
      );
      // Every invocation still exported with the cached key (3 spans each, flushed before it returned).
      assert.equal(receiver.spans.length, 9);
      assert.ok(receiver.requests.length >= 3);
      assert.ok(receiver.requests.every((r) => r.metadata.authorization === "Bearer t0k3n"));
    } finally {
      await stub.close();
    }
  });

  const secretFailures: { name: string; reply: StubReply; message: RegExp }[] = [
    {
      name: "HTTP 400",
      reply: { status: 400, body: JSON.stringify({ __type: "ResourceNotFoundException" }) },
      message: /^GetSecretValue failed: HTTP 400 .*ResourceNotFoundException/,
    },
    { name: "malformed JSON", reply: { status: 200, body: "{not json" }, message: /^GetSecretValue: .*JSON/ },
    {
      name: "no api_key in the secret",
      reply: { status: 200, body: JSON.stringify({ SecretString: '{"key":"x"}' }) },
      message: /has no "api_key" string/,
    },
  ];
  for (const failure of secretFailures) {
    it(`secret read fails (${failure.name}): clear error logged, records still processed, nothing exported`, async () => {
      const stub = await startSecretsStub(() => failure.reply);
      try {
        const inv = await invoke(secretEnv(stub), event(), 3000);
        assert.equal(inv.ready, "resolved", "telemetryReady never rejects, even when the secret can't be read");
        assert.deepEqual(inv.result, { batchItemFailures: [{ itemIdentifier: "poison" }] });
        assert.ok(inv.lines.some((l) => l.event === "onboarding.processed"));
        const logged = inv.lines.find((l) => l.event === "telemetry.secret_unavailable");
        assert.equal(logged?.secret_arn, SECRET_ARN);
        assert.match(String((logged?.error as { message?: string })?.message), failure.message);
        assert.equal(receiver.requests.length, 0);
        assert.ok(inv.elapsedMs < 3000);
      } finally {
        await stub.close();
      }
    });
  }

  it("an invalid CORALOGIX_DOMAIN disables tracing with a logged reason but records are still processed", async () => {
    const inv = await invoke({ CORALOGIX_DOMAIN: "mars1" }, event(), 3000);
    assert.deepEqual(inv.result, { batchItemFailures: [{ itemIdentifier: "poison" }] });
    const failed = inv.lines.find((l) => l.event === "telemetry.init_failed");
    assert.match(String((failed?.error as { message?: string })?.message), /Unknown Coralogix domain "mars1"/);
  });
});
