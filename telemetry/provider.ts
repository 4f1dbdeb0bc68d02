/**
 * Tracer provider factory tuned for short-lived work, plus a bounded flush helper.
 *
 * The SDK's BatchSpanProcessor defaults (5 s schedule delay, 30 s export timeout) suit a long-running daemon
 * that can afford to lose nothing on exit only if it waits 30 s; here an ECS task gets SIGKILL 30 s after
 * SIGTERM and a Lambda is frozen the moment the handler returns. Standard `OTEL_BSP_*` variables still win, and the
 * sampler follows `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` (SDK default: parentbased_always_on).
 */
import type { Resource } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type BufferConfig,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { envMillis } from "./exporter";

export interface BatchSettings {
  readonly scheduledDelayMillis: number;
  readonly exportTimeoutMillis: number;
  readonly maxExportBatchSize: number;
  readonly maxQueueSize: number;
}

/**
 * Long-running API: export at least once a second, never let an export block longer than 5 s. Batches of up to
 * 2048 spans (≈ 1 s of spans at ~1000 req/s × 2 spans) amortise the per-Export cost: with 512 the exporter ran ~4
 * gRPC calls a second under load, and `bench/tools/api-variants.ts` measured 30–50 µs less API CPU per request with
 * 2048/1000 ms. The queue stays bounded at 4096 spans (two batches: one in flight, one filling).
 */
export const SERVICE_BATCH_DEFAULTS: BatchSettings = {
  scheduledDelayMillis: 1000,
  exportTimeoutMillis: 5000,
  maxExportBatchSize: 2048,
  maxQueueSize: 4096,
};

/** Lambda: spans are flushed explicitly at the end of each invocation; exports must fit inside one. */
export const SHORT_LIVED_BATCH_DEFAULTS: BatchSettings = {
  scheduledDelayMillis: 1000,
  exportTimeoutMillis: 2000,
  maxExportBatchSize: 512,
  maxQueueSize: 2048,
};

/** Batch settings: `OTEL_BSP_*` env values override the given defaults. */
export function resolveBatchSettings(defaults: BatchSettings, env: NodeJS.ProcessEnv = process.env): BatchSettings {
  return {
    scheduledDelayMillis: envMillis(env, "OTEL_BSP_SCHEDULE_DELAY") ?? defaults.scheduledDelayMillis,
    exportTimeoutMillis: envMillis(env, "OTEL_BSP_EXPORT_TIMEOUT") ?? defaults.exportTimeoutMillis,
    maxExportBatchSize: envMillis(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE") ?? defaults.maxExportBatchSize,
    maxQueueSize: envMillis(env, "OTEL_BSP_MAX_QUEUE_SIZE") ?? defaults.maxQueueSize,
  };
}

export interface TracerProviderOptions {
  readonly resource: Resource;
  /** Exported through a BatchSpanProcessor. */
  readonly exporter?: SpanExporter;
  /** Extra processors (tests use a SimpleSpanProcessor over an in-memory exporter). */
  readonly spanProcessors?: SpanProcessor[];
  readonly batch?: BatchSettings;
  readonly env?: NodeJS.ProcessEnv;
}

export function createTracerProvider(options: TracerProviderOptions): BasicTracerProvider {
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.exporter) {
    const batch: BufferConfig = resolveBatchSettings(options.batch ?? SERVICE_BATCH_DEFAULTS, options.env);
    processors.push(new BatchSpanProcessor(options.exporter, batch));
  }
  return new BasicTracerProvider({
    resource: options.resource,
    spanProcessors: processors,
    // forceFlush() callers bound their own wait with flushWithin(); this is only the SDK's outer cap.
    forceFlushTimeoutMillis: 5000,
  });
}

export type FlushOutcome = "flushed" | "timeout" | "error";

/**
 * Resolves within `deadlineMillis` no matter what the exporter does; never rejects. The timer is cleared (and
 * unref'd) so a fast flush leaves no handle behind.
 */
export function flushWithin(target: { forceFlush(): Promise<void> }, deadlineMillis: number): Promise<FlushOutcome> {
  if (!(deadlineMillis > 0)) return Promise.resolve("timeout");
  return new Promise<FlushOutcome>((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), deadlineMillis);
    timer.unref?.();
    let flush: Promise<void>;
    try {
      flush = target.forceFlush();
    } catch {
      clearTimeout(timer);
      resolve("error");
      return;
    }
    flush.then(
      () => {
        clearTimeout(timer);
        resolve("flushed");
      },
      () => {
        clearTimeout(timer);
        resolve("error");
      },
    );
  });
}
