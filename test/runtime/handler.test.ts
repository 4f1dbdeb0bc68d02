/** Lambda handler behaviour per record: partial batch failures, context fallbacks, idempotency, bounded flush. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { Context as LambdaContext, SQSRecord } from "aws-lambda";
import { createHandler, extractRecordContext, queueNameFromArn, type HandlerDeps } from "../../lambda/src/sqs-handler";
import { createInMemoryOnboardingStore, processOnboarding } from "../../lambda/src/onboarding";
import { flushWithin } from "../../telemetry/provider";
import { REPO_ROOT, makeRecord, validMessageBody } from "./helpers";
import { trace } from "@opentelemetry/api";
import { lambdaTelemetry } from "./fakes";

const TRACE_A = "5759e988bd862e3fe1be46a994272793";
const SPAN_A = "53995c3f42cd8ad8";

function setup(overrides: Partial<HandlerDeps> = {}) {
  const { exporter, provider, logs, logger } = lambdaTelemetry();
  const store = createInMemoryOnboardingStore();
  const flushes: number[] = [];
  const handler = createHandler({
    tracer: provider.getTracer("t") as Tracer,
    logger,
    flush: (ms) => {
      flushes.push(ms);
      return flushWithin(provider, ms);
    },
    processMessage: (m, _r, ctx) => processOnboarding(m, store, ctx),
    ...overrides,
  });
  return { exporter, provider, logs, store, handler, flushes };
}

const ctx = (remaining = 10_000) =>
  ({ awsRequestId: "r", getRemainingTimeInMillis: () => remaining }) as unknown as LambdaContext;

const withTraceparent = (id: string, traceparent: string): SQSRecord =>
  makeRecord({
    messageId: id,
    body: validMessageBody(`req-${id}`),
    messageAttributes: {
      traceparent: { dataType: "String", stringValue: traceparent, stringListValues: [], binaryListValues: [] },
    },
  });

describe("runtime: Lambda handler", () => {
  it("importing the factory (lambda/src/sqs-handler.ts) initialises nothing: no telemetry, no store, no output", () => {
    const child = spawnSync(
      process.execPath,
      [
        "-r",
        "tsx/cjs",
        "-e",
        `require("./lambda/src/sqs-handler");
         console.log(JSON.stringify(Object.keys(require.cache).filter((f) => !f.includes("node_modules"))));`,
      ],
      // A Coralogix domain would make telemetry init log an error or open a connection if it ran.
      { cwd: REPO_ROOT, encoding: "utf8", timeout: 30_000, env: { ...process.env, CORALOGIX_DOMAIN: "not-a-region" } },
    );
    assert.equal(child.status, 0, child.stderr);
    const lines = child.stdout.trim().split("\n");
    assert.equal(lines.length, 1, `only the module list is printed:\n${child.stdout}`);
    const loaded = (JSON.parse(lines[0]!) as string[]).map((f) => f.slice(REPO_ROOT.length + 1));
    for (const wiring of [
      "lambda/src/tracing.ts",
      "lambda/src/store.ts",
      "lambda/src/handler.ts",
      "telemetry/provider.ts",
    ]) {
      assert.ok(!loaded.includes(wiring), `${wiring} loaded by the factory: ${loaded.join(", ")}`);
    }
  });

  it("a batch from two queues: the invocation span is `multiple_sources process`, without a destination", async () => {
    const { handler, exporter } = setup();
    const records = [
      makeRecord({ messageId: "a", body: validMessageBody("req-a") }, "arn:aws:sqs:us-east-1:000000000000:one"),
      makeRecord({ messageId: "b", body: validMessageBody("req-b") }, "arn:aws:sqs:us-east-1:000000000000:two"),
    ];
    await handler({ Records: records }, ctx());
    const spans = exporter.getFinishedSpans();
    const batch = spans.find((s) => s.attributes["messaging.batch.message_count"] !== undefined)!;
    assert.equal(batch.name, "multiple_sources process");
    assert.equal(batch.attributes["messaging.destination.name"], undefined);
    assert.deepEqual(
      spans
        .filter((s) => s !== batch)
        .map((s) => s.name)
        .sort(),
      ["process one", "process two"],
    );
  });

  it("reports only the bad records in batchItemFailures; the others are processed", async () => {
    const { handler, exporter, store, logs } = setup();
    const records = [
      makeRecord({ messageId: "ok-1", body: validMessageBody("req-1") }),
      makeRecord({ messageId: "not-json", body: "{oops" }),
      makeRecord({ messageId: "bad-fields", body: JSON.stringify({ customer_id: "c", email: "x" }) }),
      makeRecord({
        messageId: "binary-attrs",
        body: validMessageBody("req-2"),
        messageAttributes: {
          traceparent: { dataType: "Binary", binaryValue: "AAE=", stringListValues: [], binaryListValues: [] },
          retries: { dataType: "Number", stringValue: "3", stringListValues: [], binaryListValues: [] },
        },
      }),
    ];
    const result = await handler({ Records: records }, ctx());
    assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "not-json" }, { itemIdentifier: "bad-fields" }] });
    assert.equal(store.size(), 2);
    const failed = exporter.getFinishedSpans().filter((s) => s.status.code === SpanStatusCode.ERROR);
    assert.deepEqual(
      failed.map((s) => [s.name, s.attributes["messaging.message.id"] ?? null, s.attributes["error.type"] ?? null]),
      [
        ["process onboarding", "not-json", "invalid_json"],
        ["process onboarding", "bad-fields", "invalid_message"],
        ["process onboarding", null, null],
      ],
    );
    const badFieldsLog = logs.find((l) => l.event === "onboarding.record_failed" && l.message_id === "bad-fields");
    assert.deepEqual(
      (badFieldsLog?.fields as { field: string }[]).map((f) => f.field),
      ["email", "company_size", "name", "request_id", "accepted_at"],
    );
  });

  it("an exception in processing fails only that record", async () => {
    const store = createInMemoryOnboardingStore();
    const { handler, exporter } = setup({
      processMessage: async (m, _r, otelCtx) => {
        if (m.request_id === "req-boom") throw new TypeError("downstream exploded");
        return processOnboarding(m, store, otelCtx);
      },
    });
    const result = await handler(
      {
        Records: [
          makeRecord({ messageId: "a", body: validMessageBody("req-a") }),
          makeRecord({ messageId: "boom", body: validMessageBody("req-boom") }),
          makeRecord({ messageId: "c", body: validMessageBody("req-c") }),
        ],
      },
      ctx(),
    );
    assert.deepEqual(result.batchItemFailures, [{ itemIdentifier: "boom" }]);
    assert.equal(store.size(), 2);
    const boom = exporter.getFinishedSpans().find((s) => s.attributes["messaging.message.id"] === "boom");
    assert.equal(boom?.events[0]?.name, "exception");
    assert.equal(boom?.attributes["error.type"], "TypeError");
  });

  it("duplicates (same request_id, redelivered) are acknowledged without redoing the work", async () => {
    const { handler, store, logs } = setup();
    const body = validMessageBody("req-dup");
    await handler({ Records: [makeRecord({ messageId: "m1", body })] }, ctx());
    const second = await handler(
      { Records: [makeRecord({ messageId: "m1", body }), makeRecord({ messageId: "m2", body })] },
      ctx(),
    );
    assert.deepEqual(second.batchItemFailures, []);
    assert.equal(store.size(), 1);
    assert.deepEqual(
      logs
        .filter((l) => String(l.event).startsWith("onboarding.") && l.event !== "onboarding.batch_done")
        .map((l) => l.event),
      ["onboarding.processed", "onboarding.duplicate", "onboarding.duplicate"],
    );
  });

  it("context: W3C attribute first, then AWSTraceHeader, malformed/missing → new root (still processed)", async () => {
    const w3c = withTraceparent("w3c", `00-${TRACE_A}-${SPAN_A}-01`);
    const xray = makeRecord({
      messageId: "xray",
      body: validMessageBody("req-x"),
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "0",
        SenderId: "s",
        ApproximateFirstReceiveTimestamp: "0",
        AWSTraceHeader: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
      },
    });
    const malformed = withTraceparent("malformed", "00-not-a-trace-01");
    const bare = makeRecord({ messageId: "bare", body: validMessageBody("req-b") });

    assert.equal(trace.getSpanContext(extractRecordContext(w3c))?.traceId, TRACE_A);
    assert.equal(trace.getSpanContext(extractRecordContext(xray))?.traceId, TRACE_A);
    assert.equal(trace.getSpanContext(extractRecordContext(xray))?.spanId, SPAN_A);
    assert.equal(trace.getSpanContext(extractRecordContext(malformed)), undefined);

    const { handler, exporter } = setup();
    const result = await handler({ Records: [w3c, xray, malformed, bare] }, ctx());
    assert.deepEqual(result.batchItemFailures, []);
    const spans = exporter.getFinishedSpans();
    const byId = (id: string) => spans.find((s) => s.attributes["messaging.message.id"] === id)!;
    assert.equal(byId("w3c").parentSpanContext?.spanId, SPAN_A);
    assert.equal(byId("xray").parentSpanContext?.spanId, SPAN_A);
    assert.equal(byId("malformed").parentSpanContext, undefined);
    assert.equal(byId("bare").parentSpanContext, undefined);
    assert.notEqual(byId("malformed").spanContext().traceId, byId("bare").spanContext().traceId);
    const batch = spans.find((s) => s.attributes["messaging.batch.message_count"] !== undefined)!;
    assert.equal(batch.name, "process onboarding");
    assert.equal(batch.kind, SpanKind.CONSUMER);
    assert.equal(batch.links.length, 2, "links only to the records that carried a context");
  });

  it("flush deadline = min(remaining − 500 ms margin, 2000 ms cap), never negative", async () => {
    const { handler, flushes } = setup();
    const record = makeRecord({ messageId: "x", body: validMessageBody("req-x") });
    await handler({ Records: [record] }, ctx(60_000));
    await handler({ Records: [record] }, ctx(1200));
    await handler({ Records: [record] }, ctx(100));
    assert.deepEqual(flushes, [2000, 700, 0]);
  });

  it("a flush that hangs or rejects never fails or delays the invocation past its deadline", async () => {
    const { handler: hanging } = setup({
      flush: (ms) => flushWithin({ forceFlush: () => new Promise(() => undefined) }, ms),
    });
    const started = Date.now();
    const result = await hanging({ Records: [makeRecord({ messageId: "x", body: validMessageBody("r") })] }, ctx(800));
    assert.deepEqual(result.batchItemFailures, []);
    assert.ok(Date.now() - started < 800, `took ${Date.now() - started} ms`);
    const { handler: rejecting } = setup({ flush: () => Promise.reject(new Error("collector down")) });
    assert.deepEqual(
      await rejecting({ Records: [makeRecord({ messageId: "y", body: validMessageBody("r") })] }, ctx()),
      { batchItemFailures: [] },
    );
  });

  it("queue name comes from the eventSourceARN", () => {
    assert.equal(queueNameFromArn("arn:aws:sqs:eu-west-1:123456789012:onboarding-prod"), "onboarding-prod");
    assert.equal(queueNameFromArn(undefined), "unknown");
  });

  describe("malformed events (ReportBatchItemFailures: an empty, null or unknown itemIdentifier fails the whole batch)", () => {
    const asEvent = (records: unknown[]) => ({ Records: records }) as unknown as { Records: SQSRecord[] };

    it("Records: [null] → no throw, no failure reported, the record logged as unidentifiable", async () => {
      const { handler, logs } = setup();
      const result = await handler(asEvent([null]), ctx());
      assert.deepEqual(result, { batchItemFailures: [] });
      const line = logs.find((l) => l.event === "onboarding.record_unidentifiable");
      assert.deepEqual([line?.level, line?.index, line?.record], ["error", 0, null]);
    });

    it("a record without messageId (or an empty / non-string one) is logged in full and skipped; the others are processed or fail alone", async () => {
      const { handler, logs, store } = setup();
      const { messageId: _omit, ...noId } = makeRecord({ messageId: "x", body: validMessageBody("req-no-id") });
      void _omit;
      const result = await handler(
        asEvent([
          makeRecord({ messageId: "ok-1", body: validMessageBody("req-1") }),
          noId,
          { ...noId, messageId: null },
          { ...noId, messageId: "" },
          { ...noId, messageId: 42 },
          "not a record",
          makeRecord({ messageId: "bad-json", body: "{oops" }),
          makeRecord({ messageId: "ok-2", body: validMessageBody("req-2") }),
        ]),
        ctx(),
      );
      assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "bad-json" }] });
      for (const failure of result.batchItemFailures) assert.ok(failure.itemIdentifier, "never an empty identifier");
      assert.equal(store.size(), 2);
      const skipped = logs.filter((l) => l.event === "onboarding.record_unidentifiable");
      assert.deepEqual(
        skipped.map((l) => l.index),
        [1, 2, 3, 4, 5],
      );
      assert.equal(
        (skipped[0].record as { body: string }).body,
        noId.body,
        "the skipped record's body is kept in the log",
      );
      const done = logs.find((l) => l.event === "onboarding.batch_done");
      assert.deepEqual([done?.records, done?.failed, done?.skipped], [8, 1, 5]);
    });

    it("records with a messageId but a broken shape fail alone, reported by that id", async () => {
      const { handler, store } = setup();
      const base = makeRecord({ messageId: "base", body: validMessageBody("req-base") });
      const result = await handler(
        asEvent([
          { messageId: "no-body" },
          { ...base, messageId: "null-attributes", messageAttributes: null, attributes: null, body: 7 },
          { ...base, messageId: "object-body", body: { customer_id: "c" } },
          { ...base, messageId: "valid-but-no-attributes", messageAttributes: null, attributes: undefined },
        ]),
        ctx(),
      );
      assert.deepEqual(result.batchItemFailures, [
        { itemIdentifier: "no-body" },
        { itemIdentifier: "null-attributes" },
        { itemIdentifier: "object-body" },
      ]);
      assert.equal(store.size(), 1);
    });

    it("an unexpected failure outside a record's processing → no throw; every unfinished record is reported failed", async () => {
      const { handler, logs } = setup({
        flush: () => {
          throw new Error("flush exploded synchronously");
        },
        tracer: {
          startSpan: () => {
            throw new Error("tracer exploded");
          },
        } as unknown as Tracer,
      });
      const result = await handler(
        asEvent([makeRecord({ messageId: "a", body: validMessageBody("req-a") }), null]),
        ctx(),
      );
      assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "a" }] });
      assert.ok(logs.some((l) => l.event === "onboarding.batch_failed" && l.level === "error"));
    });
  });
});
