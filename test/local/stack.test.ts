/**
 * The local stack end to end: real API and Lambda bundles in their own processes, fauxqs, the event-source-mapping
 * emulator and the OTLP/gRPC receiver, all on ephemeral loopback ports.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { ReceivedSpan } from "../../local/otlp-receiver";
import { PortInUseError, REPO_ROOT, startLocalStack, type LocalStack } from "../../local/stack";
import { EMPTY, freePortEnv, waitFor } from "./helpers";
import { ensureBundles } from "../runtime/helpers";

const TOKEN = "local-test-key";

function customer(i: number) {
  return {
    customer_id: `TEST-${String(i).padStart(3, "0")}`,
    email: `user${i}@example.com`,
    company_size: "small",
    name: `User ${i}`,
  };
}

function getJson(url: string): Promise<{ status: number; body: unknown; contentType: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const contentType = String(res.headers["content-type"]);
          resolve({
            status: res.statusCode ?? 0,
            body: contentType.includes("json") ? JSON.parse(text) : text,
            contentType,
          });
        });
      })
      .on("error", reject);
  });
}

/** The SERVER → PRODUCER → CONSUMER chain of one request, or an explanation of what is wrong. */
function checkChain(spans: readonly ReceivedSpan[], traceId: string): string | undefined {
  const server = spans.filter((s) => s.kind === "SERVER");
  const producer = spans.filter((s) => s.kind === "PRODUCER");
  const consumer = spans.filter((s) => s.kind === "CONSUMER" && s.name.startsWith("process "));
  if (server.length !== 1 || producer.length !== 1 || consumer.length !== 1) {
    return `expected 1 SERVER/PRODUCER/process CONSUMER, got ${server.length}/${producer.length}/${consumer.length}`;
  }
  const [s, p, c] = [server[0]!, producer[0]!, consumer[0]!];
  if (![s, p, c].every((span) => span.traceId === traceId)) return "spans in different traces";
  if (s.serviceName !== "onboarding-api" || s.name !== "POST /onboard")
    return `bad SERVER span ${s.serviceName} ${s.name}`;
  if (p.serviceName !== "onboarding-api" || p.parentSpanId !== s.spanId) return "PRODUCER is not a child of SERVER";
  if (c.serviceName !== "onboarding-lambda" || c.parentSpanId !== p.spanId)
    return "CONSUMER is not a child of PRODUCER";
  if (p.attributes["messaging.message.id"] !== c.attributes["messaging.message.id"]) return "message ids differ";
  if (c.status.code === "ERROR") return `CONSUMER failed: ${c.status.message}`;
  return undefined;
}

describe("local stack (npm start) end to end", function () {
  this.timeout(60_000);
  // dist/ is built once per test run, by whichever worker asks first; the local stack and npm start then run it.
  before(() => ensureBundles());

  describe("with the receiver requiring a bearer token", () => {
    let stack: LocalStack;
    let sqs: SQSClient;

    before(async () => {
      stack = await startLocalStack({
        build: "never",
        traceViewPort: 0,
        otlpBearerToken: TOKEN,
        visibilityTimeoutSeconds: 1,
        maxReceiveCount: 3,
        functionTimeoutMs: 1000,
      });
      sqs = stack.sqs.createClient();
    });
    after(async () => {
      sqs?.destroy();
      await stack?.stop();
    });

    it("turns 50 requests into 50 complete traces: SERVER → PRODUCER → CONSUMER, correctly parented", async () => {
      const started = Date.now();
      const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => stack.onboard(customer(i + 1))));
      const accepted = Date.now();
      for (const response of responses) assert.equal(response.status, 202, JSON.stringify(response.body));
      const traceIds = responses.map((response) => String(response.body.trace_id));
      assert.equal(new Set(traceIds).size, 50);

      const traces = await Promise.all(traceIds.map((id) => stack.traces.waitFor(id, 20_000)));
      const problems = traces
        .map((trace) => [trace.traceId, checkChain(trace.spans, trace.traceId)] as const)
        .filter(([, problem]) => problem !== undefined);
      assert.deepEqual(problems, [], "every trace must be complete and correctly parented");
      console.log(
        `      50 requests accepted in ${accepted - started} ms; all 50 traces complete after ${Date.now() - started} ms`,
      );

      // Both processes authenticated with the key they were given only through OTEL_EXPORTER_OTLP_HEADERS.
      const services = new Set(stack.receiver!.spans.map((span) => span.serviceName));
      assert.deepEqual([...services].sort(), ["onboarding-api", "onboarding-lambda"]);
      assert.ok(stack.receiver!.requests.every((request) => request.metadata.authorization === `Bearer ${TOKEN}`));
      assert.equal(stack.env.api.OTEL_EXPORTER_OTLP_HEADERS, `authorization=Bearer%20${TOKEN}`);
      await waitFor(async () => (await stack.sqs.count("main")).inflight === 0, 5000, "all messages deleted");
      assert.deepEqual(await stack.sqs.count("main"), EMPTY);
    });

    it("takes a customer name with emoji (above U+FFFF) through API → SQS → Lambda into a complete trace", async () => {
      const invocationsBefore = stack.eventSourceMapping.invocations.length;
      const response = await stack.onboard({ ...customer(950), name: "Zoë 😀 Ñandú 𝄞" });
      assert.equal(response.status, 202, JSON.stringify(response.body));
      const traceId = String(response.body.trace_id);
      const trace = await stack.traces.waitFor(traceId, 15_000);
      assert.equal(checkChain(trace.spans, traceId), undefined);
      const processed = stack.eventSourceMapping.invocations.slice(invocationsBefore);
      assert.ok(
        processed.some((i) => i.succeeded > 0),
        JSON.stringify(processed),
      );
      assert.ok(processed.every((i) => i.failed === 0 && !i.error));
    });

    it("serves the traces as JSON and as an HTML waterfall on the trace view", async () => {
      const response = await stack.onboard(customer(900));
      const traceId = String(response.body.trace_id);
      await stack.traces.waitFor(traceId, 10_000);
      const base = stack.traceView!.url;

      const list = (await getJson(`${base}/api/local/traces`)).body as { traces: { traceId: string; state: string }[] };
      assert.equal(list.traces.find((t) => t.traceId === traceId)?.state, "complete");
      const jaeger = (await getJson(`${base}/api/traces?service=onboarding-api`)).body as {
        data: { traceID: string }[];
      };
      assert.ok(
        jaeger.data.some((t) => t.traceID === traceId),
        "Jaeger's search finds it",
      );

      const one = await getJson(`${base}/api/local/traces/${traceId}`);
      assert.equal(one.status, 200);
      const body = one.body as { spans: Record<string, unknown>[] };
      const consumer = body.spans.find((s) => s.kind === "CONSUMER" && String(s.name).startsWith("process "));
      assert.ok(consumer);
      for (const key of [
        "service",
        "name",
        "kind",
        "traceId",
        "spanId",
        "parentSpanId",
        "links",
        "attributes",
        "status",
      ]) {
        assert.ok(key in consumer, `span JSON has ${key}`);
      }
      assert.equal(consumer.service, "onboarding-lambda");
      assert.match(String(consumer.startTimeUnixNano), /^\d+$/);
      assert.match(String(consumer.endTimeUnixNano), /^\d+$/);
      assert.equal((consumer.links as unknown[]).length, 1, "the process span links back to the batch span");

      assert.equal((await getJson(`${base}/api/traces/${"0".repeat(32)}`)).status, 404);
      assert.equal((await getJson(`${base}/api/local/traces/${"0".repeat(32)}`)).status, 404);
      const page = await getJson(`${base}/`);
      assert.equal(page.status, 200);
      assert.match(page.contentType, /text\/html/);
      assert.match(String(page.body), /waterfall/);
    });

    it("sends a poison record to the DLQ after maxReceiveCount, with its failed process spans, while its batch-mates succeed", async () => {
      const invocationsBefore = stack.eventSourceMapping.invocations.length;
      const traceIds = ["aa", "bb", "cc"].map((x) => x.repeat(16));
      const parentSpanId = "1".repeat(16);
      const goodBody = (i: number) =>
        JSON.stringify({ ...customer(i), request_id: `req-${i}`, accepted_at: new Date().toISOString() });
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: stack.queueUrl,
          Entries: [goodBody(801), '{"customer_id":"POISON"}', goodBody(802)].map((body, i) => ({
            Id: String(i),
            MessageBody: body,
            MessageAttributes: {
              traceparent: { DataType: "String", StringValue: `00-${traceIds[i]}-${parentSpanId}-01` },
            },
          })),
        }),
      );

      await waitFor(async () => (await stack.sqs.count("dlq")).ready === 1, 15_000, "the poison record in the DLQ");
      const dlq = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.dlqUrl, VisibilityTimeout: 0 }));
      assert.equal(dlq.Messages?.[0]?.Body, '{"customer_id":"POISON"}');
      assert.deepEqual(await stack.sqs.count("main"), EMPTY);

      const processSpans = (traceId: string) =>
        stack.receiver!.spans.filter((s) => s.traceId === traceId && s.name.startsWith("process "));
      // Each invocation flushes before it returns, so the third failure's spans are in before the DLQ move.
      const poisonSpans = processSpans(traceIds[1]!);
      assert.equal(poisonSpans.length, 3, "one failed process span per receive (maxReceiveCount = 3)");
      for (const span of poisonSpans) {
        assert.equal(span.status.code, "ERROR");
        assert.equal(span.parentSpanId, parentSpanId);
        assert.equal(span.attributes["error.type"], "invalid_message");
      }
      for (const good of [traceIds[0]!, traceIds[2]!]) {
        const spans = processSpans(good);
        assert.equal(spans.length, 1, "a batch-mate is processed exactly once");
        assert.equal(spans[0]!.status.code, "UNSET");
      }
      // The poison's first invocation carried batch-mates, and only the poison was reported as failed.
      const poisonId = dlq.Messages?.[0]?.MessageId;
      const firstPoisonInvocation = stack.eventSourceMapping.invocations
        .slice(invocationsBefore)
        .find((invocation) => invocation.messageIds.includes(poisonId!));
      assert.ok(firstPoisonInvocation && firstPoisonInvocation.records > 1, "the poison shared its batch");
      assert.deepEqual(firstPoisonInvocation.failedMessageIds, [poisonId]);
      assert.equal(firstPoisonInvocation.succeeded, firstPoisonInvocation.records - 1);
    });

    it("rejects bad input with 400 naming the field, and sends nothing", async () => {
      const invocationsBefore = stack.eventSourceMapping.invocations.length;
      const response = await stack.onboard({ ...customer(1), email: "not-an-email" });
      assert.equal(response.status, 400);
      assert.match(JSON.stringify(response.body), /email/);
      const malformed = await stack.onboard("{not json");
      assert.equal(malformed.status, 400);

      await new Promise((resolve) => setTimeout(resolve, 1500)); // a full poll + batching window
      assert.deepEqual(await stack.sqs.count("main"), EMPTY);
      assert.equal(stack.eventSourceMapping.invocations.length, invocationsBefore);
      // The rejected request is traced (SERVER span only, status 400) and the 400 says which trace.
      const traceId = response.body.trace_id;
      assert.equal(typeof traceId, "string");
      const trace = await stack.traces.waitFor(traceId as string, 10_000);
      assert.deepEqual(
        trace.spans.map((s) => [s.kind, s.attributes["http.response.status_code"]]),
        [["SERVER", 400]],
      );
    });
  });

  describe("with the trace receiver down", () => {
    let stack: LocalStack;
    before(async () => {
      stack = await startLocalStack({ build: "if-missing", receiver: false, functionTimeoutMs: 3000 });
    });
    after(async () => stack?.stop());

    it("still accepts requests and the handler still returns", async () => {
      const response = await stack.onboard(customer(1));
      assert.equal(response.status, 202, JSON.stringify(response.body));
      await waitFor(() => stack.eventSourceMapping.invocations.length >= 1, 10_000, "an invocation");
      const [invocation] = stack.eventSourceMapping.invocations;
      assert.equal(invocation!.error, undefined, "the invocation returned (no throw, no timeout)");
      assert.equal(invocation!.succeeded, 1);
      assert.ok(invocation!.durationMs < 3000, `invocation took ${invocation!.durationMs} ms`);
      await waitFor(async () => (await stack.sqs.count("main")).inflight === 0, 3000, "the message deleted");
      assert.deepEqual(await stack.sqs.count("main"), EMPTY);
    });
  });

  describe("when the function crashes its environment", () => {
    let stack: LocalStack;
    before(async () => {
      stack = await startLocalStack({
        build: "if-missing",
        lambdaHandlerFile: path.join(__dirname, "fixtures/crash-handler.ts"),
        concurrency: 1,
        visibilityTimeoutSeconds: 1,
        maxReceiveCount: 2,
        maximumBatchingWindowMs: 0,
      });
    });
    after(async () => stack?.stop());

    it("replaces the dead environment, keeps consuming, and the crashing record ends in the DLQ", async function () {
      // Liveness bounds, not timings: each replacement is a cold process start, slow on a loaded 2-core machine.
      this.timeout(90_000);
      const sqs = stack.sqs.createClient();
      try {
        await sqs.send(
          new SendMessageBatchCommand({ QueueUrl: stack.queueUrl, Entries: [{ Id: "0", MessageBody: "crash" }] }),
        );
        await waitFor(async () => (await stack.sqs.count("dlq")).ready === 1, 40_000, "the crashing record in the DLQ");
        await sqs.send(
          new SendMessageBatchCommand({ QueueUrl: stack.queueUrl, Entries: [{ Id: "0", MessageBody: "fine" }] }),
        );
        await waitFor(
          () => stack.eventSourceMapping.invocations.some((invocation) => invocation.succeeded === 1),
          30_000,
          "the next record processed by a fresh environment",
        );
      } finally {
        sqs.destroy();
      }
      const crashes = stack.eventSourceMapping.invocations.filter((invocation) => invocation.error);
      assert.equal(crashes.length, 2, "one failed invocation per receive");
      assert.match(crashes[0]!.error!, /exited/);
      assert.equal(stack.lambdas.length, 3, "two crashed environments were replaced");
      assert.equal(stack.lambdas.filter((host) => host.alive).length, 1);
      assert.deepEqual(await stack.sqs.count("main"), EMPTY);
    });
  });

  describe("ports and process lifecycle", () => {
    it("refuses a busy port with an error naming the port and its variable", async () => {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
      const port = (blocker.address() as net.AddressInfo).port;
      try {
        await assert.rejects(startLocalStack({ apiPort: port, build: "never" }), (error: unknown) => {
          assert.ok(error instanceof PortInUseError);
          assert.match(error.message, new RegExp(`Port ${port} .*set PORT`));
          return true;
        });
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    });

    async function runMain(env: Record<string, string>, until: RegExp | undefined) {
      const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "local/main.ts")], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      if (until)
        await waitFor(() => until.test(stdout) || child.exitCode !== null, 30_000, `npm start output ${until}`);
      return { child, exited, output: () => ({ stdout, stderr }) };
    }

    it("npm start: one-line error and exit 1 when a port is busy", async () => {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
      const port = (blocker.address() as net.AddressInfo).port;
      try {
        const run = await runMain({ PORT: String(port) }, undefined);
        assert.equal(await run.exited, 1);
        const { stderr } = run.output();
        assert.equal(stderr.trim().split("\n").length, 1, stderr);
        assert.match(stderr, new RegExp(`Port ${port} \\(onboarding API\\) is already in use — set PORT`));
        assert.doesNotMatch(stderr, /\bat /, "no stack trace");
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    });

    it("npm start: prints the sample trace, then SIGTERM stops everything and exits 0", async () => {
      const ports = await freePortEnv();
      const run = await runMain({ ...ports, SAMPLE_REQUESTS: "1" }, /waiting for requests/);
      const { stdout } = run.output();
      assert.match(stdout, /POST \/onboard TEST-001 → 202/);
      assert.match(stdout, /trace [0-9a-f]{32} {2}4 spans, .* complete/);
      assert.match(stdout, /onboarding-lambda {2}CLIENT .* └─ UpdateItem onboarding\n/);
      assert.match(stdout, /onboarding-api .*SERVER/);
      assert.match(stdout, /onboarding-lambda .*CONSUMER/);

      run.child.kill("SIGTERM");
      assert.equal(await run.exited, 0, run.output().stdout + run.output().stderr);
      assert.match(run.output().stdout, /stopped\./);
      for (const port of Object.values(ports)) {
        const free = await new Promise<boolean>((resolve) => {
          const probe = net.createServer();
          probe.once("error", () => resolve(false));
          probe.listen(Number(port), "127.0.0.1", () => probe.close(() => resolve(true)));
        });
        assert.ok(free, `port ${port} released`);
      }
    });
  });
});
