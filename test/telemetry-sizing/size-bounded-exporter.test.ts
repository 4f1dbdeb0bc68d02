/**
 * Export requests stay under a real gRPC receiver's default 4 MiB receive limit (local/otlp-receiver.ts is a plain
 * `@grpc/grpc-js` server). Before the split, one batch of 2048 spans with 2–15 KiB attributes was one ~17 MiB request
 * and the receiver refused it whole with RESOURCE_EXHAUSTED. Both exporters the project ships are driven through
 * `createTracerProvider`, as the API and the Lambda use them.
 */
import assert from "node:assert/strict";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { startOtlpReceiver, type OtlpReceiver } from "../../local/otlp-receiver";
import { createOtlpTraceExporter } from "../../telemetry/grpc-exporter";
import { createJsonLogger } from "../../telemetry/logger";
import { Http2OtlpTraceExporter } from "../../telemetry/otlp-http2-exporter";
import { createTracerProvider } from "../../telemetry/provider";
import { createServiceResource } from "../../telemetry/resource";
import { DEFAULT_MAX_EXPORT_BYTES, SizeBoundedSpanExporter } from "../../telemetry/size-bounded-exporter";
import { SpanLossReporter } from "../../telemetry/span-loss";

const KiB = 1024;
const resource = createServiceResource({ defaultServiceName: "sizing", cloudPlatform: "aws_ecs", env: {} });

/** One batch of 2048 spans (the API's batch size), values long enough that the batch is ~17 MiB. */
const ENV = {
  OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: String(64 * KiB),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "2048",
  OTEL_BSP_MAX_QUEUE_SIZE: "4096",
  OTEL_BSP_SCHEDULE_DELAY: "60000",
  OTEL_BSP_EXPORT_TIMEOUT: "20000",
};

function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createJsonLogger({ service: "t", write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  return { logger, lines };
}

function emitLargeSpans(provider: ReturnType<typeof createTracerProvider>, count: number): void {
  const tracer = provider.getTracer("sizing");
  for (let i = 0; i < count; i++) {
    const bytes = 2 * KiB + ((i * 7919) % (13 * KiB)); // 2 KiB .. 15 KiB, spread over the batch
    tracer.startSpan(`span ${i}`, { attributes: { "user_agent.original": "u".repeat(bytes), index: i } }).end();
  }
}

describe("export requests bounded by bytes (issue #11)", function () {
  this.timeout(60_000);
  let receiver: OtlpReceiver;

  beforeEach(async () => {
    receiver = await startOtlpReceiver({ keep: 100_000 });
  });
  afterEach(() => receiver.close());

  const exporters: [string, () => SpanExporter][] = [
    [
      "the API's official gRPC exporter",
      () =>
        createOtlpTraceExporter(
          { url: receiver.endpoint, headers: {}, source: "otel-env" },
          { env: {}, defaultTimeoutMillis: 20_000 },
        ),
    ],
    [
      "the Lambda's HTTP/2 exporter",
      () =>
        new Http2OtlpTraceExporter(
          { url: receiver.endpoint, headers: {}, source: "otel-env" },
          { timeoutMillis: 20_000 },
        ),
    ],
  ];
  for (const [name, create] of exporters) {
    it(`delivers every one of 2048 spans of 2–15 KiB to a 4 MiB receiver: ${name}`, async () => {
      const { logger, lines } = recordingLogger();
      const provider = createTracerProvider({ resource, exporter: create(), env: ENV, logger });
      emitLargeSpans(provider, 2048);
      await provider.shutdown(); // flushes, then waits for the exports in flight

      assert.equal(receiver.spans.length, 2048, JSON.stringify(lines.slice(0, 3)));
      assert.equal(new Set(receiver.spans.map((s) => s.name)).size, 2048);
      assert.ok(receiver.requests.length >= 5, `${receiver.requests.length} requests for ~17 MiB`);
      assert.deepEqual(lines, [], "nothing dropped, nothing failed");
    });
  }

  it("drops a span too large to send alone — only that span, counted and logged", async () => {
    const { logger, lines } = recordingLogger();
    const spanLoss = new SpanLossReporter({ logger });
    const exporter = createOtlpTraceExporter(
      { url: receiver.endpoint, headers: {}, source: "otel-env" },
      { env: {}, defaultTimeoutMillis: 20_000 },
    );
    const provider = createTracerProvider({ resource, exporter, env: ENV, spanLoss, maxExportBytes: 64 * KiB });
    const tracer = provider.getTracer("sizing");
    for (let i = 0; i < 100; i++) tracer.startSpan(`small ${i}`, { attributes: { v: "s".repeat(2 * KiB) } }).end();
    tracer.startSpan("huge", { attributes: { v: "h".repeat(60 * KiB), w: "h".repeat(10 * KiB) } }).end();
    await provider.shutdown();

    assert.equal(receiver.spans.length, 100);
    assert.ok(!receiver.spans.some((s) => s.name === "huge"));
    assert.deepEqual(spanLoss.totals.dropped, { queue_full: 0, too_large: 1 });
    const dropped = lines.filter((l) => l.event === "telemetry.spans_dropped");
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0].reason, "too_large");
    assert.equal(dropped[0].span_name, "huge");
    assert.ok((dropped[0].bytes as number) > 64 * KiB);
  });

  it("sends a batch that fits as it is, and every split request encodes within the budget", async () => {
    const requests: ReadableSpan[][] = [];
    const recorder: SpanExporter = {
      export: (spans: ReadableSpan[], done: (r: ExportResult) => void) => {
        requests.push(spans);
        done({ code: ExportResultCode.SUCCESS });
      },
      shutdown: async () => undefined,
    };
    const provider = createTracerProvider({ resource, exporter: recorder, env: ENV, maxExportBytes: 256 * KiB });
    emitLargeSpans(provider, 500);
    await provider.forceFlush();
    assert.equal(requests.flat().length, 500);
    assert.ok(requests.length > 1);
    for (const batch of requests) {
      const bytes = ProtobufTraceSerializer.serializeRequest(batch)!.length;
      assert.ok(bytes <= 256 * KiB, `request of ${bytes} bytes`);
      assert.ok(bytes > 128 * KiB, `requests are packed, not one per span (${bytes} bytes)`);
    }

    requests.length = 0;
    provider.getTracer("sizing").startSpan("small").end();
    await provider.forceFlush();
    assert.equal(requests.length, 1);
    await provider.shutdown();
  });

  it("refuses a budget it cannot honour", () => {
    const reporter = new SpanLossReporter();
    const inner: SpanExporter = { export: () => undefined, shutdown: async () => undefined };
    assert.throws(() => new SizeBoundedSpanExporter(inner, { reporter, maxRequestBytes: 10 }), /at least 1024 bytes/);
    assert.equal(new SizeBoundedSpanExporter(inner, { reporter }).maxRequestBytes, DEFAULT_MAX_EXPORT_BYTES);
  });
});
