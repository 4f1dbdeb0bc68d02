/**
 * The two exporters the fault suite compares, behind one small interface: the project's node:http2 exporter and the
 * official `@opentelemetry/exporter-trace-otlp-grpc`, configured as the API configures it (telemetry/grpc-exporter.ts).
 */
import { ROOT_CONTEXT, SpanKind } from "@opentelemetry/api";
import type { ExportResult } from "@opentelemetry/core";
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from "@opentelemetry/sdk-trace";
import { createOtlpTraceExporter } from "../../telemetry/grpc-exporter";
import { Http2OtlpTraceExporter, type Http2ExporterOptions } from "../../telemetry/otlp-http2-exporter";
import { createTracerProvider } from "../../telemetry/provider";
import { createServiceResource } from "../../telemetry/resource";

export type ExporterKind = "http2" | "official";

export interface TimedExport {
  readonly result: ExportResult;
  readonly millis: number;
}

export interface ExporterUnderTest {
  readonly kind: ExporterKind;
  export(spans: ReadableSpan[]): Promise<TimedExport>;
  shutdown(): Promise<void>;
}

export function makeSpans(count: number, prefix = "span"): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = createTracerProvider({
    resource: createServiceResource({ defaultServiceName: "fault-suite", cloudPlatform: "aws_lambda", env: {} }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
    env: {},
  });
  const tracer = provider.getTracer("fault-suite");
  for (let i = 0; i < count; i++) tracer.startSpan(`${prefix}-${i}`, { kind: SpanKind.INTERNAL }, ROOT_CONTEXT).end();
  return memory.getFinishedSpans();
}

function timed(exporter: SpanExporter, spans: ReadableSpan[]): Promise<TimedExport> {
  const started = performance.now();
  return new Promise((resolve) =>
    exporter.export(spans, (result) => resolve({ result, millis: performance.now() - started })),
  );
}

export function createExporter(
  kind: ExporterKind,
  endpoint: string,
  timeoutMillis: number,
  http2Options: Partial<Http2ExporterOptions> = {},
): ExporterUnderTest {
  const settings = { url: endpoint, headers: {}, source: "otel-env" as const };
  const exporter: SpanExporter =
    kind === "http2"
      ? new Http2OtlpTraceExporter(settings, { env: {}, ...http2Options, timeoutMillis })
      : createOtlpTraceExporter(settings, { defaultTimeoutMillis: timeoutMillis, env: {} });
  return { kind, export: (spans) => timed(exporter, spans), shutdown: () => exporter.shutdown() };
}
