/**
 * Accounting for spans that never reach the backend, so none is lost silently and none floods the log:
 *
 * - drops (`queue_full`: the BatchSpanProcessor's queue was full; `too_large`: one span alone exceeds the export
 *   request budget) are counted, the first of a window logged at once, the rest as one count per window;
 * - failed exports are logged once when a failure streak starts (message, no stack), then as one count per window
 *   while it lasts, and once more when an export succeeds again.
 *
 * The BatchSpanProcessor drops silently when its queue is full (sdk-trace `BatchSpanProcessorBase._addToBuffer`: a
 * `diag.debug` for the first drop, a `diag.warn` only once a later span fits again). Its supported observation hook is
 * `selfObsMeterProvider`: every drop is `otel.sdk.processor.span.processed` += n with `error.type=queue_full`
 * (`SpanProcessorMetrics.dropSpans`), which {@link SpanLossReporter.meterProvider} turns into a count here.
 */
import { createNoopMeter, diag, type Attributes, type Counter, type MeterProvider } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import type { Logger } from "./logger";

export type DropReason = "queue_full" | "too_large";

export interface SpanLossTotals {
  readonly dropped: Record<DropReason, number>;
  readonly failedExports: number;
  readonly failedSpans: number;
}

export interface SpanLossReporterOptions {
  /** Defaults to OTel's diag logger (routed into the JSON log by telemetry/diag.ts). */
  readonly logger?: Logger;
  /** At most one count line per kind per window. @default 10000 */
  readonly intervalMillis?: number;
}

/** What the SDK's self-observability counter is called and how a queue-full drop is tagged (sdk-trace semconv). */
const PROCESSED_METRIC = "otel.sdk.processor.span.processed";
const ERROR_TYPE = "error.type";

/** Errors already logged here: telemetry/diag.ts's global error handler skips them instead of logging them again. */
const reported = new WeakSet<object>();
export const alreadyReported = (error: unknown): boolean =>
  typeof error === "object" && error !== null && reported.has(error);

const diagLogger: Logger = {
  debug: (event, fields) => diag.debug(event, JSON.stringify(fields ?? {})),
  info: (event, fields) => diag.info(event, JSON.stringify(fields ?? {})),
  warn: (event, fields) => diag.warn(event, JSON.stringify(fields ?? {})),
  error: (event, fields) => diag.error(event, JSON.stringify(fields ?? {})),
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export class SpanLossReporter {
  private readonly logger: Logger;
  private readonly intervalMillis: number;
  private readonly dropped: Record<DropReason, number> = { queue_full: 0, too_large: 0 };
  private readonly pendingDrops: Record<DropReason, number> = { queue_full: 0, too_large: 0 };
  private readonly lastDropLog: Record<DropReason, number> = { queue_full: -Infinity, too_large: -Infinity };
  private failedExports = 0;
  private failedSpans = 0;
  private streak:
    { since: number; exports: number; spans: number; pendingExports: number; pendingSpans: number } | undefined;
  private lastError = "";
  private timer: NodeJS.Timeout | undefined;

  constructor(options: SpanLossReporterOptions = {}) {
    this.logger = options.logger ?? diagLogger;
    this.intervalMillis = options.intervalMillis ?? 10_000;
  }

  get totals(): SpanLossTotals {
    return { dropped: { ...this.dropped }, failedExports: this.failedExports, failedSpans: this.failedSpans };
  }

  /** Spans that will never be exported. */
  drop(reason: DropReason, spans: number, fields: Record<string, unknown> = {}): void {
    if (!(spans > 0)) return;
    this.dropped[reason] += spans;
    const now = performance.now();
    if (now - this.lastDropLog[reason] >= this.intervalMillis) {
      this.lastDropLog[reason] = now;
      this.logger.warn("telemetry.spans_dropped", { reason, spans, total: this.dropped[reason], ...fields });
      return;
    }
    this.pendingDrops[reason] += spans;
    this.schedule();
  }

  exportFailed(spans: number, error: unknown): void {
    this.failedExports++;
    this.failedSpans += spans;
    this.lastError = messageOf(error);
    if (typeof error === "object" && error !== null) reported.add(error);
    if (!this.streak) {
      this.streak = { since: performance.now(), exports: 1, spans, pendingExports: 0, pendingSpans: 0 };
      this.logger.warn("telemetry.export_failed", { spans, error_message: this.lastError });
      return;
    }
    this.streak.exports++;
    this.streak.spans += spans;
    this.streak.pendingExports++;
    this.streak.pendingSpans += spans;
    this.schedule();
  }

  exportSucceeded(): void {
    const streak = this.streak;
    if (!streak) return;
    this.streak = undefined;
    this.logger.info("telemetry.export_recovered", {
      failed_exports: streak.exports,
      failed_spans: streak.spans,
      failing_ms: Math.round(performance.now() - streak.since),
    });
  }

  /** For `BatchSpanProcessor`'s `selfObsMeterProvider`: counts its queue-full drops (see the file comment). */
  meterProvider(): MeterProvider {
    const noop = createNoopMeter();
    const counter = (name: string, base: Counter): Counter =>
      name !== PROCESSED_METRIC
        ? base
        : {
            add: (value: number, attributes?: Attributes) => {
              if (attributes?.[ERROR_TYPE] === "queue_full") this.drop("queue_full", value);
            },
          };
    const meter = Object.assign(Object.create(noop) as typeof noop, {
      createCounter: (name: string, options?: object) => counter(name, noop.createCounter(name, options)),
    });
    return { getMeter: () => meter };
  }

  /** Wraps `exporter` so every export result is accounted here. */
  observe(exporter: SpanExporter): SpanExporter {
    return {
      export: (spans: ReadableSpan[], resultCallback: (result: ExportResult) => void) =>
        exporter.export(spans, (result) => {
          if (result.code === ExportResultCode.SUCCESS) this.exportSucceeded();
          else this.exportFailed(spans.length, result.error ?? new Error("span export failed"));
          resultCallback(result);
        }),
      forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
      shutdown: () => {
        this.flushCounts();
        return exporter.shutdown();
      },
    };
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushCounts();
    }, this.intervalMillis);
    this.timer.unref();
  }

  /** Logs what the window held back: one line per drop reason, one for an ongoing failure streak. */
  private flushCounts(): void {
    for (const reason of Object.keys(this.pendingDrops) as DropReason[]) {
      const spans = this.pendingDrops[reason];
      if (spans === 0) continue;
      this.pendingDrops[reason] = 0;
      this.lastDropLog[reason] = performance.now();
      this.logger.warn("telemetry.spans_dropped", { reason, spans, total: this.dropped[reason] });
    }
    const streak = this.streak;
    if (streak && streak.pendingExports > 0) {
      this.logger.warn("telemetry.export_failing", {
        failed_exports: streak.pendingExports,
        failed_spans: streak.pendingSpans,
        failing_ms: Math.round(performance.now() - streak.since),
        error_message: this.lastError,
      });
      streak.pendingExports = 0;
      streak.pendingSpans = 0;
    }
  }
}
