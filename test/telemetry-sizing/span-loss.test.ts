/**
 * Lost spans are never silent and never flood the log: queue-full drops are counted through the SDK's
 * self-observability hook, failed exports are logged once per failure streak plus counts, and the BatchSpanProcessor's
 * per-export error (OTel's global error handler) no longer writes a stack trace per attempt.
 */
import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import { ExportResultCode, globalErrorHandler, type ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { installDiagLogger, rateLimitedErrorHandler } from "../../telemetry/diag";
import { createJsonLogger } from "../../telemetry/logger";
import { createTracerProvider } from "../../telemetry/provider";
import { createServiceResource } from "../../telemetry/resource";
import { SpanLossReporter } from "../../telemetry/span-loss";

const resource = createServiceResource({ defaultServiceName: "loss", cloudPlatform: "aws_ecs", env: {} });

function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createJsonLogger({
    service: "t",
    level: "debug",
    write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
  });
  return { logger, lines };
}

/** An exporter whose exports complete only when the test says so (or at once after `release`). */
function heldExporter() {
  const held: { spans: ReadableSpan[]; done: (r: ExportResult) => void }[] = [];
  const events = new EventEmitter();
  let released = false;
  const exporter: SpanExporter = {
    export: (spans, done) => {
      if (released) return done({ code: ExportResultCode.SUCCESS });
      held.push({ spans, done });
      events.emit("export");
    },
    forceFlush: async () => {
      while (held.some((h) => h.done)) await once(events, "settled");
    },
    shutdown: async () => undefined,
  };
  const settle = (code: ExportResultCode, error?: Error) => {
    for (const h of held.splice(0)) h.done({ code, error });
    events.emit("settled");
  };
  const release = () => {
    released = true;
    settle(ExportResultCode.SUCCESS);
  };
  return { exporter, held, events, settle, release };
}

describe("span loss is counted and logged at a bounded rate (issue #11)", () => {
  it("counts and logs spans the BatchSpanProcessor drops because its queue is full", async () => {
    const { logger, lines } = recordingLogger();
    installDiagLogger(logger, { OTEL_LOG_LEVEL: "debug" });
    const spanLoss = new SpanLossReporter({ logger, intervalMillis: 60_000 });
    const { exporter, release } = heldExporter();
    const env = {
      OTEL_BSP_MAX_QUEUE_SIZE: "20",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "10",
      OTEL_BSP_SCHEDULE_DELAY: "60000",
    };
    const provider = createTracerProvider({ resource, exporter, env, spanLoss });
    const tracer = provider.getTracer("t");
    // 10 go out (and stay in flight), 20 fill the queue, 70 are dropped.
    for (let i = 0; i < 100; i++) tracer.startSpan(`s${i}`).end();

    assert.equal(spanLoss.totals.dropped.queue_full, 70);
    const dropped = lines.filter((l) => l.event === "telemetry.spans_dropped");
    assert.equal(dropped.length, 1, "the first drop is logged at once, the rest are held for the window's count");
    assert.equal(dropped[0].reason, "queue_full");
    release();
    await provider.shutdown(); // flushes the held count
    const counts = lines.filter((l) => l.event === "telemetry.spans_dropped");
    assert.equal(counts.length, 2);
    assert.deepEqual(
      lines.filter((l) => String(l.message).includes("maxQueueSize")),
      [],
      "the processor's own notices are not logged a second time",
    );
    assert.equal(counts[1].spans, 69);
    assert.equal(counts[1].total, 70);
  });

  it("logs a failure streak once, then counts, then its end", async () => {
    const { logger, lines } = recordingLogger();
    const spanLoss = new SpanLossReporter({ logger, intervalMillis: 50 });
    const failing = new Error("14 UNAVAILABLE: No connection established");
    for (let i = 0; i < 20; i++) spanLoss.exportFailed(5, failing);
    assert.deepEqual(
      lines.map((l) => l.event),
      ["telemetry.export_failed"],
    );
    assert.equal(lines[0].error_message, failing.message);
    assert.equal(lines[0].stack, undefined);
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal(lines[1].event, "telemetry.export_failing");
    assert.equal(lines[1].failed_exports, 19);
    assert.equal(lines[1].failed_spans, 95);
    spanLoss.exportSucceeded();
    spanLoss.exportSucceeded();
    assert.deepEqual(
      lines.map((l) => l.event),
      ["telemetry.export_failed", "telemetry.export_failing", "telemetry.export_recovered"],
    );
    assert.equal(lines[2].failed_exports, 20);
    assert.deepEqual(spanLoss.totals, {
      dropped: { queue_full: 0, too_large: 0 },
      failedExports: 20,
      failedSpans: 100,
    });
  });

  it("the processor's per-export error is not logged again (no stack per attempt); other errors by message, rate-limited", async () => {
    const { logger, lines } = recordingLogger();
    installDiagLogger(logger, { OTEL_LOG_LEVEL: "info" });
    const spanLoss = new SpanLossReporter({ logger, intervalMillis: 60_000 });
    const { exporter, events, settle } = heldExporter();
    const env = { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "1", OTEL_BSP_SCHEDULE_DELAY: "60000" };
    const provider = createTracerProvider({ resource, exporter, env, spanLoss });
    for (let i = 0; i < 5; i++) {
      const exported = once(events, "export");
      provider.getTracer("t").startSpan(`s${i}`).end();
      await exported;
      settle(ExportResultCode.FAILED, new Error("14 UNAVAILABLE: connection refused"));
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(
      lines.map((l) => l.event),
      ["telemetry.export_failed"],
      JSON.stringify(lines),
    );

    const handler = rateLimitedErrorHandler(logger, 60_000);
    lines.length = 0;
    for (let i = 0; i < 3; i++) handler(new Error("resource detection failed"));
    handler("another");
    assert.deepEqual(
      lines.map((l) => [l.event, l.message]),
      [
        ["otel.error", "resource detection failed"],
        ["otel.error", "another"],
      ],
    );
    assert.equal(lines[0].stack, undefined);
    globalErrorHandler(new Error("via the global handler"));
    assert.equal(lines.at(-1)?.message, "via the global handler");
    await provider.shutdown();
  });

  it("forceFlush waits for an export already in flight (a Lambda is frozen right after it)", async () => {
    const { exporter, held, events, settle } = heldExporter();
    const env = { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "10", OTEL_BSP_SCHEDULE_DELAY: "60000" };
    const provider = createTracerProvider({ resource, exporter, env });
    const exported = once(events, "export");
    for (let i = 0; i < 10; i++) provider.getTracer("t").startSpan(`s${i}`).end();
    await exported; // the size trigger sent the batch; nothing is queued any more
    let flushed = false;
    const flush = provider.forceFlush().then(() => (flushed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(flushed, false, "resolved while the export was still in flight");
    assert.equal(held.length, 1);
    settle(ExportResultCode.SUCCESS);
    await flush;
    assert.equal(flushed, true);
    await provider.shutdown();
  });
});
