/**
 * Flush latency with the shipped code: the Lambda's own telemetry initialisation (`initLambdaTelemetry` — the
 * provider, batch processor and exporter the handler uses) exporting over OTLP/gRPC to OTEL_EXPORTER_OTLP_ENDPOINT.
 * Each "invocation" ends 10 spans (one batch span + 9 record spans), then times the end-of-invocation flush.
 */
import { SpanKind } from "@opentelemetry/api";
import { initLambdaTelemetry } from "../../lambda/src/tracing";

async function main(): Promise<void> {
  const invocations = Number(process.argv[2] ?? 500);
  const spansPerFlush = Number(process.argv[3] ?? 10);
  const warmup = Number(process.argv[4] ?? 5);
  const deadlineMs = 2000;
  const telemetry = initLambdaTelemetry();
  if (!telemetry.provider) throw new Error("initLambdaTelemetry returned the no-op telemetry (check the env)");
  const tracer = telemetry.tracer;
  const samples: number[] = [];
  const outcomes: Record<string, number> = {};
  let firstFlushMs = Number.NaN;
  for (let i = 0; i < warmup + invocations; i++) {
    const batch = tracer.startSpan("receive bench-queue", { kind: SpanKind.CONSUMER });
    for (let s = 1; s < spansPerFlush; s++) {
      const span = tracer.startSpan("process bench-queue", {
        kind: SpanKind.CONSUMER,
        attributes: {
          "messaging.system": "aws_sqs",
          "messaging.operation.type": "process",
          "messaging.destination.name": "bench-queue",
          "messaging.message.id": `00000000-0000-4000-8000-${String(i * 100 + s).padStart(12, "0")}`,
        },
        links: [{ context: batch.spanContext() }],
      });
      span.end();
    }
    batch.end();
    const t0 = performance.now();
    const outcome = await telemetry.flush(deadlineMs);
    const ms = performance.now() - t0;
    if (i === 0) firstFlushMs = ms;
    if (i >= warmup) {
      samples.push(ms);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
  }
  process.send?.({ done: true, samples, outcomes, firstFlushMs, spansEmitted: (warmup + invocations) * spansPerFlush });
  await telemetry.provider.shutdown();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
