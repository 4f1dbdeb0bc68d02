/**
 * Tracer provider factory tuned for short-lived work, plus a bounded flush helper.
 *
 * The SDK's BatchSpanProcessor defaults (5 s schedule delay, 30 s export timeout) suit a long-running daemon
 * that can afford to lose nothing on exit only if it waits 30 s; here an ECS task gets SIGKILL 30 s after
 * SIGTERM and a Lambda is frozen the moment the handler returns.
 *
 * OpenTelemetry JS 3.x (`@opentelemetry/sdk-trace`) no longer reads any environment variable: this module reads the
 * standard ones the project relies on itself — `OTEL_BSP_*` (batch settings), `OTEL_TRACES_SAMPLER` /
 * `OTEL_TRACES_SAMPLER_ARG` (default parentbased_always_on) and the span limits (`OTEL_ATTRIBUTE_*`,
 * `OTEL_SPAN_*_LIMIT`), with the meaning the 2.x SDK gave them.
 */
import { diag } from "@opentelemetry/api";
import type { Resource } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type BatchSpanProcessorOptions,
  type Sampler,
  type SpanExporter,
  type SpanLimits,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import { envNonNegativeNumber, envString } from "./env";
import type { Logger } from "./logger";
import { SizeBoundedSpanExporter } from "./size-bounded-exporter";
import { SpanLossReporter } from "./span-loss";

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

/**
 * Lambda: spans are flushed explicitly at the end of each invocation; exports must fit inside one. The queue holds a
 * whole maximal invocation: SQS hands a function up to 10 000 records, each making a `process` span and a DynamoDB
 * `UpdateItem` span, plus the batch span — 20 001. With 2048, a 10 000-record batch lost 7441 of 10 001 spans: the
 * processor exports one batch at a time, and records processed without I/O in between (an in-memory store, a fast
 * failure path) fill the queue before the first export returns. A queued span holds ~1 KB of heap (40 000
 * `process` + `UpdateItem` spans measured 38 MiB), so a full queue is ~20 MiB of the function's 512 MB.
 */
export const SHORT_LIVED_BATCH_DEFAULTS: BatchSettings = {
  scheduledDelayMillis: 1000,
  exportTimeoutMillis: 2000,
  maxExportBatchSize: 512,
  maxQueueSize: 20_480,
};

/** Batch settings: `OTEL_BSP_*` env values override the given defaults. */
export function resolveBatchSettings(defaults: BatchSettings, env: NodeJS.ProcessEnv = process.env): BatchSettings {
  return {
    scheduledDelayMillis: envNonNegativeNumber(env, "OTEL_BSP_SCHEDULE_DELAY") ?? defaults.scheduledDelayMillis,
    exportTimeoutMillis: envNonNegativeNumber(env, "OTEL_BSP_EXPORT_TIMEOUT") ?? defaults.exportTimeoutMillis,
    maxExportBatchSize: envNonNegativeNumber(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE") ?? defaults.maxExportBatchSize,
    maxQueueSize: envNonNegativeNumber(env, "OTEL_BSP_MAX_QUEUE_SIZE") ?? defaults.maxQueueSize,
  };
}

export const TRACES_SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;
export type TracesSamplerName = (typeof TRACES_SAMPLERS)[number];

/** `OTEL_TRACES_SAMPLER_ARG` as a ratio in [0, 1]; unset → 1, anything else → 1 with a diag warning (as the 2.x SDK). */
function samplerRatio(env: NodeJS.ProcessEnv): number {
  const raw = envString(env, "OTEL_TRACES_SAMPLER_ARG");
  if (raw === undefined) return 1;
  const ratio = Number(raw);
  if (Number.isFinite(ratio) && ratio >= 0 && ratio <= 1) return ratio;
  diag.warn(`OTEL_TRACES_SAMPLER_ARG="${raw}" is not a number in [0, 1]; using 1`);
  return 1;
}

/**
 * The sampler named by `OTEL_TRACES_SAMPLER` (+ `OTEL_TRACES_SAMPLER_ARG` for the ratio samplers). Unset or unknown →
 * parentbased_always_on (unknown values are reported through diag), like the 2.x SDK did on its own.
 */
export function resolveSampler(env: NodeJS.ProcessEnv = process.env): Sampler {
  const raw = envString(env, "OTEL_TRACES_SAMPLER")?.toLowerCase() ?? "parentbased_always_on";
  const name: TracesSamplerName = (TRACES_SAMPLERS as readonly string[]).includes(raw)
    ? (raw as TracesSamplerName)
    : "parentbased_always_on";
  if (name !== raw) {
    diag.warn(`OTEL_TRACES_SAMPLER="${raw}" is not one of ${TRACES_SAMPLERS.join(", ")}; using ${name}`);
  }
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(samplerRatio(env));
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(samplerRatio(env)) });
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * A string attribute is cut at this many characters unless OTEL_(SPAN_)ATTRIBUTE_VALUE_LENGTH_LIMIT says otherwise.
 * The SDK's default is unlimited: one client-sized value (a 15 KiB `User-Agent` in `user_agent.original`) then
 * inflates every span of its request, and enough of them push one export past gRPC's 4 MiB message limit, losing the
 * whole batch. 4 KiB keeps every value this project records whole (URLs, ids, error messages).
 */
export const DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT = 4096;

/**
 * Span limits from `OTEL_SPAN_*` with the general `OTEL_ATTRIBUTE_*` as fallback; only what is set (a non-negative
 * integer) is returned, the SDK's defaults (128 of each) apply to the rest — except the value length, which is
 * bounded by {@link DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT} when unset.
 */
export function resolveSpanLimits(env: NodeJS.ProcessEnv = process.env): SpanLimits {
  const read = (name: string): number | undefined => {
    const value = envNonNegativeNumber(env, name);
    return value !== undefined && Number.isInteger(value) ? value : undefined;
  };
  const limits: SpanLimits = {
    attributeCountLimit: read("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT") ?? read("OTEL_ATTRIBUTE_COUNT_LIMIT"),
    attributeValueLengthLimit:
      read("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT") ??
      read("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT") ??
      DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT,
    eventCountLimit: read("OTEL_SPAN_EVENT_COUNT_LIMIT"),
    linkCountLimit: read("OTEL_SPAN_LINK_COUNT_LIMIT"),
    attributePerEventCountLimit: read("OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT"),
    attributePerLinkCountLimit: read("OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT"),
  };
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) as SpanLimits;
}

export interface TracerProviderOptions {
  readonly resource: Resource;
  /**
   * Exported through a BatchSpanProcessor, in requests of at most `maxExportBytes` (telemetry/size-bounded-exporter.ts),
   * every drop and failed export accounted by `spanLoss`.
   */
  readonly exporter?: SpanExporter;
  /** @default DEFAULT_MAX_EXPORT_BYTES */
  readonly maxExportBytes?: number;
  /** Counts and logs lost spans; by default a reporter logging to `logger` (or OTel's diag). */
  readonly spanLoss?: SpanLossReporter;
  /** Where the default `spanLoss` logs. */
  readonly logger?: Logger;
  /** Extra processors (tests use a SimpleSpanProcessor over an in-memory exporter). */
  readonly spanProcessors?: SpanProcessor[];
  readonly batch?: BatchSettings;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * A BatchSpanProcessor whose `forceFlush` also waits for exports already in flight. The SDK's own only exports what
 * is still queued (`BatchSpanProcessorBase._flushAll`): a batch sent earlier because the queue reached
 * `maxExportBatchSize` may still be on the wire when it resolves, and a Lambda is frozen right after. The exporters
 * here settle their in-flight calls in their own `forceFlush` (otlp-exporter-base's `OTLPExportDelegate`, and
 * telemetry/otlp-http2-exporter.ts).
 */
class FlushingBatchSpanProcessor extends BatchSpanProcessor {
  private readonly exporter: SpanExporter;

  constructor(options: BatchSpanProcessorOptions) {
    super(options);
    this.exporter = options.exporter;
  }

  override async forceFlush(): Promise<void> {
    await super.forceFlush();
    await this.exporter.forceFlush?.();
  }
}

export function createTracerProvider(options: TracerProviderOptions): TracerProvider {
  const env = options.env ?? process.env;
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.exporter) {
    const spanLoss = options.spanLoss ?? new SpanLossReporter({ logger: options.logger });
    const exporter = new SizeBoundedSpanExporter(spanLoss.observe(options.exporter), {
      maxRequestBytes: options.maxExportBytes,
      reporter: spanLoss,
    });
    processors.push(
      new FlushingBatchSpanProcessor({
        exporter,
        ...resolveBatchSettings(options.batch ?? SERVICE_BATCH_DEFAULTS, env),
        selfObsMeterProvider: spanLoss.meterProvider(),
      }),
    );
  }
  return new TracerProvider({
    resource: options.resource,
    spanProcessors: processors,
    sampler: resolveSampler(env),
    spanLimits: resolveSpanLimits(env),
  });
}

export type FlushOutcome = "flushed" | "timeout" | "error";

/**
 * Resolves within `deadlineMillis` no matter what the exporter does; never rejects. The deadline is also handed to
 * `forceFlush` (the 3.x SDK's per-call timeout, default 30 s), so the SDK's own timer ends with ours. The timer is
 * cleared (and unref'd) so a fast flush leaves no handle behind.
 */
export function flushWithin(
  target: { forceFlush(options?: { timeoutMillis?: number }): Promise<void> },
  deadlineMillis: number,
): Promise<FlushOutcome> {
  if (!(deadlineMillis > 0)) return Promise.resolve("timeout");
  return new Promise<FlushOutcome>((resolve) => {
    // Created before forceFlush's own timer, so at the shared deadline this one fires first: "timeout", not "error".
    const timer = setTimeout(() => resolve("timeout"), deadlineMillis);
    timer.unref?.();
    let flush: Promise<void>;
    try {
      flush = target.forceFlush({ timeoutMillis: deadlineMillis });
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
