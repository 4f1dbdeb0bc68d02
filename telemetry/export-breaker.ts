/**
 * A circuit breaker with a bounded buffer in front of an export transport, so a dead or black-holed backend costs
 * one full export deadline — the first failure — and not one per invocation.
 *
 * - closed: every batch is sent with the caller's full deadline (retries happen inside `send`).
 * - A retryable failure opens the breaker: that batch and every later one are kept in a buffer of at most
 *   `maxBufferedItems` items and `maxBufferedBytes` bytes (what does not fit is dropped and counted), and export calls
 *   return at once.
 * - open: each export call (one probe at a time, at most one per `probeIntervalMillis`) sends the oldest few
 *   buffered spans with a deadline of only `probeBudgetMillis`; on success the breaker closes and the buffer drains, batch by
 *   batch, inside the caller's deadline. The Lambda flushes once per invocation, so an invocation pays at most one
 *   probe budget while the backend is down — and nothing while the transport has no connection that completed its
 *   handshake (`readyToProbe`: a black hole that accepts TCP but never speaks HTTP/2 costs no probe at all). Once per `fullProbeIntervalMillis` a probe gets the caller's whole
 *   deadline instead: a backend further away than the probe budget (a slow TLS handshake, a distant region) must
 *   still be found again.
 *
 * Non-retryable failures (UNAUTHENTICATED, INVALID_ARGUMENT…) drop their batch and leave the breaker closed: the
 * backend answered, and resending the same bytes cannot succeed. Logging is once when a failure streak starts, once
 * when it ends, and a rate-limited count of drops in between.
 */
import { diag } from "@opentelemetry/api";
import { ThrottledLog } from "./export-log";

export type SendResult =
  { readonly delivered: true } | { readonly delivered: false; readonly retryable: boolean; readonly error: Error };

/** Sends a batch; must settle by `deadline` (a `now()` instant) and never reject. */
export type SendBatch<T> = (items: T[], deadline: number) => Promise<SendResult>;

export interface ExportBreakerOptions<T = unknown> {
  /** Most items kept while the backend is unreachable. */
  readonly maxBufferedItems: number;
  /**
   * Most bytes kept while the backend is unreachable, as `itemBytes` measures them: a count alone does not bound the
   * memory of a few very large spans.
   */
  readonly maxBufferedBytes: number;
  /** An item's size for `maxBufferedBytes`; must be cheap (called once per buffered item). Default: 0 (unbounded). */
  readonly itemBytes?: (item: T) => number;
  /** Largest batch sent from the buffer at once. */
  readonly maxBatchItems: number;
  /**
   * Spans a probe carries. Few: a probe that times out after the server took it (a slow answer) is resent, so its
   * size bounds the duplicates; the rest of the buffer follows with the full deadline once the probe got through.
   */
  readonly probeBatchItems: number;
  /** Deadline of a probe while open: the most an invocation pays for a dead backend. */
  readonly probeBudgetMillis: number;
  /** Least time between two probes (0: any export call may probe, one at a time). */
  readonly probeIntervalMillis: number;
  /** Least time between two probes given the caller's whole deadline. */
  readonly fullProbeIntervalMillis: number;
  /** Least time between two "dropped N" log lines. */
  readonly dropLogIntervalMillis: number;
  /** Named in log lines (the endpoint). */
  readonly target: string;
  /**
   * Whether a probe can get through at all (the transport has, or gets by `until`, a connection whose handshake
   * completed). Part of the probe budget; while it says no, the export call only buffers. Default: always ready.
   */
  readonly readyToProbe?: (until: number) => Promise<boolean>;
  readonly now?: () => number;
}

export const DEFAULT_BREAKER_OPTIONS: Omit<ExportBreakerOptions, "target" | "readyToProbe" | "itemBytes"> = {
  maxBufferedItems: 2048,
  /**
   * 4 MiB, measured by the exporter with `spanBytesUpperBound(span, quickStringBytes)` (telemetry/span-size.ts: every
   * character charged 3 bytes, no string measured). The Lambda's typical `process` span bounds at ~1.7 KB that way
   * (~600 B encoded, ~1 KB of heap: telemetry/provider.ts's queue sizing measured 40 000 spans at 38 MiB), so 2048 of
   * them (~3.5 MiB) still stop at the count bound; only large spans reach this one. A string's heap is at most 2 bytes
   * per character, under the 3 charged, so a full buffer holds at most ~4 MiB of strings plus ~2 MiB of span objects
   * (2048 × ~1 KB): ~5 % of a 128 MB function, ~1 % of the usual 512 MB.
   */
  maxBufferedBytes: 4 * 1024 * 1024,
  maxBatchItems: 512,
  probeBatchItems: 16,
  probeBudgetMillis: 30,
  probeIntervalMillis: 0,
  fullProbeIntervalMillis: 60_000,
  dropLogIntervalMillis: 60_000,
};

export interface BreakerStats {
  readonly state: "closed" | "open";
  readonly buffered: number;
  /** Items dropped since the breaker was created (overflow and non-retryable failures). */
  readonly dropped: number;
  readonly probes: number;
}

export class ExportBreaker<T> {
  private open = false;
  private openedAt = 0;
  private lastProbeAt = Number.NEGATIVE_INFINITY;
  private lastFullProbeAt = Number.NEGATIVE_INFINITY;
  private probing = false;
  private draining = false;
  private buffer: T[] = [];
  /** `itemBytes` of each buffered item, in buffer order, and their sum. */
  private bufferSizes: number[] = [];
  private bufferedBytes = 0;
  private readonly itemBytes: (item: T) => number;
  private dropped = 0;
  private droppedInStreak = 0;
  private probes = 0;
  private readonly now: () => number;
  private readonly dropLog: ThrottledLog;

  constructor(private readonly options: ExportBreakerOptions<T>) {
    for (const key of [
      "maxBufferedItems",
      "maxBufferedBytes",
      "maxBatchItems",
      "probeBatchItems",
      "probeBudgetMillis",
    ] as const) {
      if (!(options[key] > 0)) throw new Error(`ExportBreaker ${key} must be > 0, got ${options[key]}`);
    }
    for (const key of ["probeIntervalMillis", "fullProbeIntervalMillis", "dropLogIntervalMillis"] as const) {
      if (!(options[key] >= 0)) throw new Error(`ExportBreaker ${key} must be ≥ 0, got ${options[key]}`);
    }
    this.now = options.now ?? (() => performance.now());
    this.itemBytes = options.itemBytes ?? (() => 0);
    this.dropLog = new ThrottledLog("warn", options.dropLogIntervalMillis, this.now);
  }

  stats(): BreakerStats {
    return {
      state: this.open ? "open" : "closed",
      buffered: this.buffer.length,
      dropped: this.dropped,
      probes: this.probes,
    };
  }

  /**
   * Delivers or keeps `items`. Resolves `kept: true` when they were delivered or are buffered for a later attempt,
   * `kept: false` (with the error) when they were dropped. Never rejects.
   */
  async export(items: T[], timeoutMillis: number, send: SendBatch<T>): Promise<{ kept: boolean; error?: Error }> {
    const deadline = this.now() + timeoutMillis;
    if (!this.open && this.buffer.length === 0) {
      const result = await send(items, deadline);
      if (result.delivered) return { kept: true };
      if (!result.retryable) return this.drop(items.length, result.error);
      this.trip(result.error);
      return this.keep(items); // this call spent its deadline already: no probe on top
    }
    const kept = this.keep(items);
    if (!this.open || (await this.probe(deadline, send))) await this.drain(deadline, send);
    return kept;
  }

  /** Sends the oldest buffered batch with the probe budget, one at a time; true when it got through. */
  private async probe(deadline: number, send: SendBatch<T>): Promise<boolean> {
    const now = this.now();
    if (this.probing || now - this.lastProbeAt < this.options.probeIntervalMillis) return false;
    this.probing = true;
    try {
      const full = now - this.lastFullProbeAt >= this.options.fullProbeIntervalMillis;
      const probeDeadline = full ? deadline : Math.min(deadline, now + this.options.probeBudgetMillis);
      if (this.options.readyToProbe && !(await this.options.readyToProbe(probeDeadline))) return false;
      this.lastProbeAt = now;
      this.probes++;
      if (full) this.lastFullProbeAt = now;
      const batch = this.buffer.slice(0, Math.min(this.options.probeBatchItems, this.options.maxBatchItems));
      const result = await send(batch, probeDeadline);
      if (!result.delivered && result.retryable) return false;
      // Only one probe or drain at a time takes from the front; overflow is cut at the back, so the front is stable.
      this.take(batch.length);
      if (!result.delivered) this.drop(batch.length, result.error);
      this.recover();
      return true;
    } finally {
      this.probing = false;
    }
  }

  /** Sends the buffer batch by batch until it is empty, the deadline passes or the backend fails again. */
  private async drain(deadline: number, send: SendBatch<T>): Promise<void> {
    if (this.draining) return; // the running drain loops until the buffer, these items included, is empty
    this.draining = true;
    try {
      while (!this.open && this.buffer.length > 0 && this.now() < deadline) {
        const batch = this.buffer.slice(0, this.options.maxBatchItems);
        const result = await send(batch, deadline);
        if (!result.delivered && result.retryable) {
          this.trip(result.error);
          return;
        }
        this.take(batch.length);
        if (!result.delivered) this.drop(batch.length, result.error);
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Buffers what fits: items in order while both the count and the byte bound hold; from the first that does not fit,
   * the rest of the batch (the newest) is overflow. Overflow is dropped, counted and logged here at a bounded rate, and
   * the call still resolves `kept: true`: a FAILED result would make the batch processor log one more error line per
   * export for the whole outage.
   */
  private keep(items: T[]): { kept: true } {
    const { maxBufferedItems, maxBufferedBytes } = this.options;
    let i = 0;
    let full: string | undefined;
    for (; i < items.length; i++) {
      if (this.buffer.length >= maxBufferedItems) {
        full = `${maxBufferedItems} spans`;
        break;
      }
      const size = this.itemBytes(items[i]);
      if (this.bufferedBytes + size > maxBufferedBytes) {
        full = `${maxBufferedBytes} bytes`;
        break;
      }
      this.buffer.push(items[i]);
      this.bufferSizes.push(size);
      this.bufferedBytes += size;
    }
    const overflow = items.length - i;
    if (overflow > 0) this.drop(overflow, new Error(`export buffer full (${full})`));
    return { kept: true };
  }

  /** Removes the oldest `count` buffered items (sent, or dropped for good). */
  private take(count: number): void {
    this.buffer.splice(0, count);
    for (const size of this.bufferSizes.splice(0, count)) this.bufferedBytes -= size;
  }

  private drop(count: number, cause: Error): { kept: false; error: Error } {
    this.dropped += count;
    this.droppedInStreak += count;
    const error = new Error(`OTLP export to ${this.options.target} dropped ${count} span(s): ${cause.message}`);
    this.dropLog.log(`${error.message}; ${this.droppedInStreak} dropped so far in this failure streak`);
    return { kept: false, error };
  }

  private trip(cause: Error): void {
    if (this.open) return;
    this.open = true;
    this.openedAt = this.now();
    // The failure that tripped the breaker just spent a whole deadline: the next long probe waits its interval.
    this.lastFullProbeAt = this.openedAt;
    diag.warn(
      `OTLP export to ${this.options.target} failing (${cause.message}); keeping up to ` +
        `${this.options.maxBufferedItems} spans (${this.options.maxBufferedBytes} bytes) and probing with a ${this.options.probeBudgetMillis} ms budget ` +
        `until it answers`,
    );
  }

  private recover(): void {
    if (!this.open) return;
    this.open = false;
    // warn like the line that opened the streak, so the default log level (warn) shows both ends of an outage.
    diag.warn(
      `OTLP export to ${this.options.target} recovered after ${Math.round(this.now() - this.openedAt)} ms; ` +
        `sending ${this.buffer.length} buffered span(s), ${this.droppedInStreak} dropped during the outage`,
    );
    this.droppedInStreak = 0;
    this.dropLog.reset();
  }
}
