/**
 * Turns resolved settings (telemetry/exporter.ts) into a span exporter for their protocol: `http/protobuf` → the
 * official `@opentelemetry/exporter-trace-otlp-proto`; `grpc` → the caller's gRPC exporter (the API and the Lambda
 * use different ones, see exporter.ts).
 */
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import type { ExporterSettings } from "./exporter";

export interface SpanExporterOptions {
  /** Deadline of one export (`OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT` already applied by the caller). */
  readonly timeoutMillis: number;
  /** The exporter for `grpc`. */
  readonly grpc: (settings: ExporterSettings) => SpanExporter;
}

export function createSpanExporter(settings: ExporterSettings, options: SpanExporterOptions): SpanExporter {
  if (settings.protocol === "http/protobuf") return createHttpProtobufTraceExporter(settings, options.timeoutMillis);
  return options.grpc(settings);
}

/** OTLP/HTTP with a binary protobuf body, POSTed to `settings.url` (already `…/v1/traces`). */
export function createHttpProtobufTraceExporter(settings: ExporterSettings, timeoutMillis: number): SpanExporter {
  // Required here, not imported: only http/protobuf loads it. The Lambda bundle leaves it out (scripts/build.ts builds
  // it beside the handler), so its cold start with the gRPC default neither parses nor runs it.
  type Proto = typeof import("@opentelemetry/exporter-trace-otlp-proto");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const proto: Proto = require("@opentelemetry/exporter-trace-otlp-proto");
  return new proto.OTLPTraceExporter({ url: settings.url, headers: { ...settings.headers }, timeoutMillis });
}
