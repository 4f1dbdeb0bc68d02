/**
 * Preload for the API: `node --require ./tracing.js ./server.js`. Registers the global tracer provider and the
 * `OTEL_PROPAGATORS` propagator (telemetry/propagation.ts) before Koa (or anything else) is loaded. `OTEL_SDK_DISABLED=true` turns it into a
 * no-op (the API then runs with the OTel API's no-op tracer; the benchmark's "off" side uses this).
 *
 * Export goes to the collector sidecar (`http://localhost:4317` by default); the app never holds a Coralogix key.
 * Standard `OTEL_*` variables (endpoint, headers, timeout, BSP settings, sampler) override the defaults.
 */
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import type { TracerProvider } from "@opentelemetry/sdk-trace";
import { installDiagLogger } from "../../telemetry/diag";
import { resolveExportTimeout, resolveExporterSettings } from "../../telemetry/exporter";
import { createSpanExporter } from "../../telemetry/exporter-factory";
import { DEFAULT_EXPORT_TIMEOUT_MILLIS, createOtlpTraceExporter } from "../../telemetry/grpc-exporter";
import { createJsonLogger } from "../../telemetry/logger";
import { configuredPropagation } from "../../telemetry/propagation";
import { SERVICE_BATCH_DEFAULTS, createTracerProvider } from "../../telemetry/provider";
import { API_SERVICE_NAME } from "../../packages/traced-components/src/contract/service-names";
import { CLOUD_PLATFORM_VALUE_AWS_ECS, createServiceResource } from "../../telemetry/resource";

/** Starts API tracing unless `OTEL_SDK_DISABLED=true`; returns the provider (or undefined when disabled). */
export function startApiTracing(env: NodeJS.ProcessEnv = process.env): TracerProvider | undefined {
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return undefined;
  const logger = createJsonLogger({ service: env.OTEL_SERVICE_NAME?.trim() || API_SERVICE_NAME, level: "debug" });
  installDiagLogger(logger, env);
  const resource = createServiceResource({
    defaultServiceName: API_SERVICE_NAME,
    cloudPlatform: CLOUD_PLATFORM_VALUE_AWS_ECS,
    env,
  });
  // The API never talks to Coralogix itself (no key in the app): it exports to the collector sidecar, or wherever
  // OTEL_EXPORTER_OTLP_ENDPOINT points. CORALOGIX_DOMAIN belongs to the sidecar and is ignored here.
  const settings = resolveExporterSettings({ env, allowCoralogix: false });
  // The export deadline (4 s) stays under the batch processor's 5 s export timeout (grpc-exporter.ts), for http/protobuf too.
  const exporter = createSpanExporter(settings, {
    timeoutMillis: resolveExportTimeout(env, DEFAULT_EXPORT_TIMEOUT_MILLIS),
    grpc: (grpcSettings) => createOtlpTraceExporter(grpcSettings, { env }),
  });
  const provider = createTracerProvider({ resource, exporter, batch: SERVICE_BATCH_DEFAULTS, env, logger });
  // What sdk-trace-node's NodeTracerProvider.register() did, which 3.x folded into @opentelemetry/sdk-trace: the
  // AsyncLocalStorage context manager, so `context.active()` follows async work (the JSON logger's trace ids,
  // startActiveSpan, library code using the global API). On Node 24 AsyncLocalStorage runs on AsyncContextFrame and
  // no longer turns on async hooks for the process (on Node 20/22 it cost ~85 µs/request here; see README).
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(configuredPropagation().propagator);
  trace.setGlobalTracerProvider(provider);
  return provider;
}

export const apiTracerProvider = startApiTracing();
