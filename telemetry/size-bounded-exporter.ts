/**
 * Keeps every export request under the receiver's message limit. gRPC servers refuse a request larger than their
 * max receive size (4 MiB by default in grpc-go, grpc-js and the OpenTelemetry Collector) with RESOURCE_EXHAUSTED,
 * and that loses the whole batch: 2048 spans carrying a 15 KiB `User-Agent` made a 4.6 MiB request. This wrapper
 * splits a batch whose size bound exceeds the budget into requests that each fit, and drops (counted and logged by
 * {@link SpanLossReporter}) only a span that does not fit alone — never the rest of its batch.
 *
 * Sizes come from telemetry/span-size.ts (upper bounds, no encoding): first with every character counted as 3 bytes
 * (no string is measured — the API's 2048-span batches always pass here), then, only for a batch that may not fit,
 * with exact UTF-8 lengths to split it. Only a span whose bound alone exceeds the budget is encoded with the
 * exporters' own `ProtobufTraceSerializer` to decide exactly before it is dropped.
 */
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import type { SpanLossReporter } from "./span-loss";
import { envelopeBytesUpperBound, quickStringBytes, spanBytesUpperBound } from "./span-size";

/** 3.5 MiB: half a MiB below gRPC's default 4 MiB receive limit, for the frame and whatever a proxy adds. */
export const DEFAULT_MAX_EXPORT_BYTES = 3.5 * 1024 * 1024;

export interface SizeBoundedExporterOptions {
  /** Largest encoded `ExportTraceServiceRequest` sent in one export. @default DEFAULT_MAX_EXPORT_BYTES */
  readonly maxRequestBytes?: number;
  readonly reporter: SpanLossReporter;
}

export class SizeBoundedSpanExporter implements SpanExporter {
  readonly maxRequestBytes: number;
  private readonly reporter: SpanLossReporter;
  private readonly splitting = new Set<Promise<void>>();

  constructor(
    private readonly inner: SpanExporter,
    options: SizeBoundedExporterOptions,
  ) {
    const max = options.maxRequestBytes ?? DEFAULT_MAX_EXPORT_BYTES;
    if (!Number.isInteger(max) || max < 1024) {
      throw new Error(`maxRequestBytes must be an integer of at least 1024 bytes (got ${String(max)})`);
    }
    this.maxRequestBytes = max;
    this.reporter = options.reporter;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const chunks = this.split(spans);
    if (chunks.length === 1 && chunks[0] === spans) return this.inner.export(spans, resultCallback);
    if (chunks.length === 0) return resultCallback({ code: ExportResultCode.SUCCESS });
    // One request at a time: several multi-MiB streams at once overrun an HTTP/2 session's memory cap (Node's
    // `maxSessionMemory`, 10 MB by default, refuses new streams with ENHANCE_YOUR_CALM — measured with the Lambda's
    // exporter). Every chunk is sent even if one fails: they are independent; the first failure is the batch's result.
    let failure: ExportResult | undefined;
    let settle!: () => void;
    const split = new Promise<void>((resolve) => (settle = resolve));
    this.splitting.add(split);
    const next = (index: number): void => {
      if (index === chunks.length) {
        this.splitting.delete(split);
        settle();
        return resultCallback(failure ?? { code: ExportResultCode.SUCCESS });
      }
      this.inner.export(chunks[index], (result) => {
        if (result.code !== ExportResultCode.SUCCESS) failure ??= result;
        next(index + 1);
      });
    };
    next(0);
  }

  /** Waits for split batches still sending their later chunks, then for the inner exporter. */
  async forceFlush(): Promise<void> {
    await Promise.all([...this.splitting]);
    await this.inner.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.splitting]);
    await this.inner.shutdown();
  }

  /** The batch itself when it fits, else consecutive chunks that each fit; spans too large alone are dropped. */
  private split(spans: ReadableSpan[]): ReadableSpan[][] {
    // Every chunk is charged every envelope of the batch (almost always one resource and one scope).
    const envelopes = new Map<object, Set<object>>();
    let envelopeBytes = 0;
    let quickTotal = 0;
    for (const span of spans) {
      let scopes = envelopes.get(span.resource);
      if (!scopes) envelopes.set(span.resource, (scopes = new Set()));
      if (!scopes.has(span.instrumentationScope)) {
        scopes.add(span.instrumentationScope);
        envelopeBytes += envelopeBytesUpperBound(span.resource, span.instrumentationScope);
      }
      quickTotal += spanBytesUpperBound(span, quickStringBytes);
    }
    const budget = this.maxRequestBytes - envelopeBytes;
    // The common case, decided without measuring a string: even at 3 bytes per character the batch fits.
    if (quickTotal <= budget) return [spans];
    const sizes = spans.map((span) => spanBytesUpperBound(span));
    if (sizes.reduce((a, b) => a + b, 0) <= budget) return [spans];

    const chunks: ReadableSpan[][] = [];
    let chunk: ReadableSpan[] = [];
    let chunkBytes = 0;
    for (let i = 0; i < spans.length; i++) {
      let size = sizes[i];
      if (size > budget) {
        const exact = ProtobufTraceSerializer.serializeRequest([spans[i]])?.length ?? Infinity;
        if (exact > this.maxRequestBytes) {
          this.reporter.drop("too_large", 1, {
            span_name: spans[i].name,
            bytes: exact,
            max_bytes: this.maxRequestBytes,
          });
          continue;
        }
        size = budget; // fits, but only alone
      }
      if (chunkBytes + size > budget && chunk.length > 0) {
        chunks.push(chunk);
        chunk = [];
        chunkBytes = 0;
      }
      chunk.push(spans[i]);
      chunkBytes += size;
    }
    if (chunk.length > 0) chunks.push(chunk);
    return chunks;
  }
}
