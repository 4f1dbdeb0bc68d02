/**
 * The official OTLP/gRPC exporter (`@grpc/grpc-js`) for resolved settings — used by the long-running API, where
 * bundle size and cold start don't matter and the full `OTEL_EXPORTER_OTLP_*` support (certificates, compression,
 * insecure) does.
 */
import { Metadata } from "@grpc/grpc-js";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { resolveExportTimeout, type ExporterSettings } from "./exporter";

export interface OtlpExporterOptions {
  /** Per-Export deadline when `OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT` is unset. The SDK default (10 s) is too long. */
  readonly defaultTimeoutMillis?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** OTLP/gRPC trace exporter for resolved settings. Compression etc. still follow the standard env variables. */
export function createOtlpTraceExporter(
  settings: ExporterSettings,
  options: OtlpExporterOptions = {},
): OTLPTraceExporter {
  const env = options.env ?? process.env;
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(settings.headers)) metadata.set(k, v);
  return new OTLPTraceExporter({
    url: settings.url,
    metadata,
    timeoutMillis: resolveExportTimeout(env, options.defaultTimeoutMillis ?? 5000),
  });
}
