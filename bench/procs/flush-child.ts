/**
 * Flush latency with the shipped telemetry code: the runtime's own provider factory (BatchSpanProcessor with the
 * short-lived defaults), exporter factory and bounded flush helper, exporting over OTLP/gRPC to
 * OTEL_EXPORTER_OTLP_ENDPOINT. Each "invocation" ends 10 spans, then times the end-of-invocation flush.
 */
import { SpanKind } from "@opentelemetry/api";
import { createOtlpTraceExporter, resolveExporterSettings } from "../../telemetry/exporter";
import { SHORT_LIVED_BATCH_DEFAULTS, createTracerProvider, flushWithin } from "../../telemetry/provider";
import { CLOUD_PLATFORM_VALUE_AWS_LAMBDA, createServiceResource } from "../../telemetry/resource";

async function main(): Promise<void> {
  const invocations = Number(process.argv[2] ?? 500);
  const spansPerFlush = Number(process.argv[3] ?? 10);
  const warmup = Number(process.argv[4] ?? 5);
  const deadlineMs = 2000;
  const provider = createTracerProvider({
    resource: createServiceResource({
      defaultServiceName: "onboarding-lambda",
      cloudPlatform: CLOUD_PLATFORM_VALUE_AWS_LAMBDA,
    }),
    exporter: createOtlpTraceExporter(resolveExporterSettings()),
    batch: SHORT_LIVED_BATCH_DEFAULTS,
  });
  const tracer = provider.getTracer("bench-flush");
  const samples: number[] = [];
  const outcomes: Record<string, number> = {};
  let firstFlushMs = Number.NaN;
  for (let i = 0; i < warmup + invocations; i++) {
    const batch = tracer.startSpan("bench-queue process", { kind: SpanKind.CONSUMER });
    for (let s = 1; s < spansPerFlush; s++) {
      const span = tracer.startSpan("process bench-queue", {
        kind: SpanKind.CONSUMER,
        attributes: {
          "messaging.system": "aws_sqs",
          "messaging.operation.type": "process",
          "messaging.destination.name": "bench-queue",
          "messaging.message.id": `00000000-0000-4000-8000-${String(i * 100 + s).padStart(12, "0")}`,
        },
      });
      span.end();
    }
    batch.end();
    const t0 = performance.now();
    const outcome = await flushWithin(provider, deadlineMs);
    const ms = performance.now() - t0;
    if (i === 0) firstFlushMs = ms;
    if (i >= warmup) {
      samples.push(ms);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
  }
  process.send?.({ done: true, samples, outcomes, firstFlushMs, spansEmitted: (warmup + invocations) * spansPerFlush });
  await provider.shutdown();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
