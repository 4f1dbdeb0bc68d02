/**
 * Lambda-like invocations with the shipped telemetry (`initLambdaTelemetry`: provider, batch processor, the
 * node:http2 exporter) exporting to OTEL_EXPORTER_OTLP_ENDPOINT. The parent asks for `{ cmd: "invoke", count,
 * gapMillis }`: each invocation ends `spansPerInvocation` spans and then flushes with the Lambda's deadline, timed
 * end to end; between invocations the parent can break or restore the collector.
 */
import { SpanKind } from "@opentelemetry/api";
import { initLambdaTelemetry } from "../../lambda/src/tracing";
import { serveIpc } from "./ipc";

const FLUSH_DEADLINE_MILLIS = 2000;

async function main(): Promise<void> {
  const spansPerInvocation = Number(process.argv[2] ?? 10);
  const telemetry = initLambdaTelemetry();
  if (!telemetry.provider) throw new Error("initLambdaTelemetry returned the no-op telemetry (check the env)");
  const tracer = telemetry.tracer;
  let emitted = 0;
  serveIpc(async (message) => {
    if (message.cmd !== "invoke") throw new Error(`unknown command ${message.cmd}`);
    const count = Number(message.count);
    const gapMillis = Number(message.gapMillis ?? 0);
    const samples: number[] = [];
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < count; i++) {
      if (gapMillis > 0) await new Promise((resolve) => setTimeout(resolve, gapMillis));
      const t0 = performance.now();
      const batch = tracer.startSpan("process bench-queue", { kind: SpanKind.CONSUMER });
      for (let s = 1; s < spansPerInvocation; s++) {
        tracer
          .startSpan("process bench-queue", { kind: SpanKind.CONSUMER, links: [{ context: batch.spanContext() }] })
          .end();
      }
      batch.end();
      emitted += spansPerInvocation;
      const outcome = await telemetry.flush(FLUSH_DEADLINE_MILLIS);
      samples.push(performance.now() - t0);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    return { samples, outcomes, emitted };
  });
  process.send?.({ ready: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
