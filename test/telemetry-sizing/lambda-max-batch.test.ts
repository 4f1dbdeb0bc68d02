/**
 * A maximal SQS batch (10 000 records, what `batchSize` allows) is traced whole: the Lambda's own telemetry
 * (initLambdaTelemetry: batch settings, HTTP/2 exporter) sends all 10 001 spans to a real gRPC receiver before the
 * handler returns. With the old 2048-span queue it exported 2560 (the first batch in flight + a full queue) and said
 * nothing. The in-memory store does no I/O, so every span is queued before the first export can complete — the worst
 * case for the queue.
 */
import assert from "node:assert/strict";
import type { Context as LambdaContext } from "aws-lambda";
import { createHandler } from "../../lambda/src/sqs-handler";
import { createInMemoryOnboardingStore, processOnboarding } from "../../lambda/src/onboarding";
import { initLambdaTelemetry } from "../../lambda/src/tracing";
import { startOtlpReceiver, type OtlpReceiver } from "../../local/otlp-receiver";
import { createJsonLogger } from "../../telemetry/logger";
import { makeRecord, validMessageBody } from "../runtime/helpers";

describe("a 10 000-record Lambda batch is delivered whole (issue #11)", function () {
  this.timeout(120_000);
  let receiver: OtlpReceiver;

  before(async () => {
    receiver = await startOtlpReceiver({ keep: 50_000 });
  });
  after(() => receiver.close());

  it("exports all 10 001 spans by the time the handler returns, with no drop logged", async () => {
    const telemetryLines: Record<string, unknown>[] = [];
    const telemetry = initLambdaTelemetry({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        // This box is shared and slow; what is under test is the count, not the speed (that is in the bench).
        OTEL_EXPORTER_OTLP_TIMEOUT: "60000",
        OTEL_BSP_EXPORT_TIMEOUT: "60000",
        OTEL_LOG_LEVEL: "warn",
      },
      logger: createJsonLogger({
        service: "telemetry",
        write: (line) => telemetryLines.push(JSON.parse(line) as Record<string, unknown>),
      }),
    });
    await telemetry.ready;
    const store = createInMemoryOnboardingStore();
    const handler = createHandler({
      tracer: telemetry.tracer,
      logger: createJsonLogger({ service: "quiet", level: "error", write: () => undefined }),
      flush: telemetry.flush,
      flushCapMillis: 60_000,
      processMessage: (message, _record, ctx) => processOnboarding(message, store, ctx),
    });
    const records = Array.from({ length: 10_000 }, (_, i) =>
      makeRecord({ messageId: `m-${i}`, body: validMessageBody(`req-${i}`, `cust-${i}`) }),
    );

    const result = await handler({ Records: records }, {
      awsRequestId: "max-batch",
      getRemainingTimeInMillis: () => 900_000,
    } as unknown as LambdaContext);

    assert.deepEqual(result.batchItemFailures, []);
    // Both the invocation span and the record spans are `process <queue>`; the invocation's has the batch count.
    const isInvocation = (s: (typeof receiver.spans)[number]) =>
      s.attributes["messaging.batch.message_count"] !== undefined;
    assert.equal(receiver.spans.filter((s) => s.name.startsWith("process ") && !isInvocation(s)).length, 10_000);
    assert.equal(receiver.spans.filter(isInvocation).length, 1);
    assert.equal(receiver.spans.length, 10_001);
    assert.deepEqual(
      telemetryLines.filter((l) => String(l.event).startsWith("telemetry.")),
      [],
      "no drop, no failed export",
    );
    await telemetry.provider?.shutdown();
  });
});
