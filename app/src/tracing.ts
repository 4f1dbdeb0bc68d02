/**
 * Preload for the API: `node --require ./tracing.js ./server.js`. Registers the global tracer provider and W3C
 * propagator before Koa (or anything else) is loaded. `OTEL_SDK_DISABLED=true` turns it into a
 * no-op (the API then runs with the OTel API's no-op tracer; the benchmark's "off" side uses this).
 *
 * Export goes to the collector sidecar (`http://localhost:4317` by default); the app never holds a Coralogix key.
 * Standard `OTEL_*` variables (endpoint, headers, timeout, BSP settings, sampler) override the defaults.
 */
import { propagation, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { installDiagLogger } from "../../telemetry/diag";
import { resolveExporterSettings } from "../../telemetry/exporter";
import { createOtlpTraceExporter } from "../../telemetry/grpc-exporter";
import { createJsonLogger } from "../../telemetry/logger";
import { SERVICE_BATCH_DEFAULTS, createTracerProvider } from "../../telemetry/provider";
import { CLOUD_PLATFORM_VALUE_AWS_ECS, createServiceResource } from "../../telemetry/resource";

export const API_SERVICE_NAME = "onboarding-api";

/** Starts API tracing unless `OTEL_SDK_DISABLED=true`; returns the provider (or undefined when disabled). */
export function startApiTracing(env: NodeJS.ProcessEnv = process.env): BasicTracerProvider | undefined {
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return undefined;
  installDiagLogger(
    createJsonLogger({ service: env.OTEL_SERVICE_NAME?.trim() || API_SERVICE_NAME, level: "debug" }),
    env,
  );
  const resource = createServiceResource({
    defaultServiceName: API_SERVICE_NAME,
    cloudPlatform: CLOUD_PLATFORM_VALUE_AWS_ECS,
    env,
  });
  // The API never talks to Coralogix itself (no key in the app): it exports to the collector sidecar, or wherever
  // OTEL_EXPORTER_OTLP_ENDPOINT points. CORALOGIX_DOMAIN belongs to the sidecar and is ignored here.
  const settings = resolveExporterSettings({ env, allowCoralogix: false });
  const exporter = createOtlpTraceExporter(settings, { env, defaultTimeoutMillis: 5000 });
  const provider = createTracerProvider({ resource, exporter, batch: SERVICE_BATCH_DEFAULTS, env });
  // Deliberately no AsyncLocalStorage context manager: the app passes contexts explicitly, and the batch
  // processor's context.with() around every export would enable async hooks process-wide (Node 20/22), taxing
  // every promise the AWS SDK creates on every request.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return provider;
}

export const apiTracerProvider = startApiTracing();
