/**
 * telemetry/span-size.ts must never under-estimate what otlp-transformer's ProtobufTraceSerializer writes (the split
 * would then send a request over the budget), and should stay close enough that requests are packed.
 */
import assert from "node:assert/strict";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from "@opentelemetry/api";
import { TraceState } from "@opentelemetry/core";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { createTracerProvider } from "../../telemetry/provider";
import { createServiceResource } from "../../telemetry/resource";
import { envelopeBytesUpperBound, quickStringBytes, spanBytesUpperBound } from "../../telemetry/span-size";

function spans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = createTracerProvider({
    resource: createServiceResource({ defaultServiceName: "size-ü", cloudPlatform: "aws_lambda", env: {} }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
    env: { OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "100000" },
  });
  const tracer = provider.getTracer("scope", "1.2.3");
  const parent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState("vendor=abc,other=x"),
  });
  tracer.startSpan("bare").end();
  for (const text of ["", "ascii", "ü".repeat(300), "😀".repeat(1000), "x".repeat(70_000)]) {
    const span = tracer.startSpan(
      `span ${text.slice(0, 4)}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          s: text,
          [`key-${text.slice(0, 10)}`]: 1,
          int: -1,
          big: 2 ** 53 - 1,
          double: Math.PI,
          bool: true,
          strings: [text, "a", ""],
          numbers: [1, -2.5, 2 ** 40],
          bools: [true, false],
        },
        links: [
          { context: trace.getSpanContext(parent)!, attributes: { l: text } },
          { context: { traceId: "1".repeat(32), spanId: "2".repeat(16), traceFlags: 0 } },
        ],
      },
      parent,
    );
    span.addEvent("event", { e: text, n: 3 });
    span.recordException(new Error(`boom ${text}`));
    span.setStatus({ code: SpanStatusCode.ERROR, message: text });
    span.end();
  }
  return memory.getFinishedSpans();
}

describe("span size upper bound", () => {
  it("is at least what the OTLP serializer writes, and within 2× + 1 KiB of it", () => {
    for (const span of spans()) {
      const actual = ProtobufTraceSerializer.serializeRequest([span])!.length;
      const bound = spanBytesUpperBound(span) + envelopeBytesUpperBound(span.resource, span.instrumentationScope);
      assert.ok(bound >= actual, `${span.name}: bound ${bound} < actual ${actual}`);
      assert.ok(bound <= 2 * actual + 1024, `${span.name}: bound ${bound} far above actual ${actual}`);
      const quick = spanBytesUpperBound(span, quickStringBytes);
      assert.ok(quick >= spanBytesUpperBound(span), `${span.name}: quick bound ${quick} below the exact-string one`);
    }
  });

  it("bounds a whole batch: the sum of span bounds plus one envelope", () => {
    const batch = spans();
    const actual = ProtobufTraceSerializer.serializeRequest(batch)!.length;
    const bound =
      batch.reduce((sum, span) => sum + spanBytesUpperBound(span), 0) +
      envelopeBytesUpperBound(batch[0].resource, batch[0].instrumentationScope);
    assert.ok(bound >= actual, `bound ${bound} < actual ${actual}`);
  });
});
