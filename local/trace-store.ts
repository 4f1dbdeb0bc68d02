/**
 * Groups received spans into traces and decides when a trace is finished, for the printer, the trace view and tests.
 *
 * A trace is **complete** when it has a SERVER span, at least one PRODUCER span, every PRODUCER span has a CONSUMER
 * child, and no span has arrived for `quietMs` — i.e. the request crossed API → queue → Lambda. A trace whose SERVER
 * span answered ≥ 400 without sending anything (bad input), or answered a read (`GET /onboard/{id}`), is complete as well. Anything else is reported as
 * **partial** once it has been quiet for `settleMs` (e.g. a message that was never consumed, or spans lost on the way).
 * Traces made only of Lambda batch spans (no SERVER span, only linking to other traces) are **batch** traces: they are
 * shown in the view and next to the traces they link to, not printed on their own.
 *
 * Spans that arrive after a trace was reported (a redelivered poison record) re-open it; it is reported again.
 *
 * Memory is bounded by spans (`maxSpans`): past it, the traces reported longest ago go first, and open traces — still
 * waiting for spans, so still to be judged — only when nothing reported is left; {@link TraceStore.stats} counts both.
 */
import type { ReceivedSpan } from "./otlp-receiver";
import { isInvocationSpan } from "../telemetry/semconv";

export type TraceState = "open" | "complete" | "partial" | "batch";

export interface StoredTrace {
  readonly traceId: string;
  readonly spans: ReceivedSpan[];
  state: TraceState;
  /** How many times the trace was reported (printed) — > 1 when spans arrived after it was reported. */
  reports: number;
  firstSeenMs: number;
  lastSpanMs: number;
}

export interface TraceSummary {
  traceId: string;
  state: TraceState;
  rootService: string;
  rootName: string;
  services: string[];
  spanCount: number;
  errorCount: number;
  /** ISO time of the earliest span start. */
  startTime: string;
  durationMs: number;
  kinds: Record<string, number>;
}

export interface TraceStoreOptions {
  /** Quiet period after the last span before a structurally complete trace is reported. @default 250 */
  readonly quietMs?: number;
  /** Quiet period after which an incomplete trace is reported as partial. @default 5000 */
  readonly settleMs?: number;
  /**
   * Spans kept, over all traces. Past it, whole traces are dropped: those reported longest ago first, open ones only
   * when no reported trace is left. The default holds ≈ 15 000 requests (3–4 spans each), over half a minute at the
   * local stack's top rate, far more than the `settleMs` a trace needs to be judged. @default 50000
   */
  readonly maxSpans?: number;
}

export interface TraceStoreStats {
  readonly traces: number;
  readonly spans: number;
  readonly open: number;
  /** Reported traces dropped to stay within `maxSpans` (normal once full). */
  readonly evictedReported: number;
  /** Open traces dropped to stay within `maxSpans`: their late spans start a new, partial trace. Should stay 0. */
  readonly evictedOpen: number;
}

/**
 * Default span retention: ≈ 15 000 requests (3–4 spans each), over half a minute at the local stack's top rate — far
 * more than the `settleMs` a trace needs to be judged, and plenty to browse in the trace UI.
 */
export const DEFAULT_MAX_SPANS = 50_000;

export type TraceListener = (trace: StoredTrace) => void;

export class TraceStore {
  /** Every trace, in the order first seen. */
  private readonly traces = new Map<string, StoredTrace>();
  /** Traces waiting for a verdict: the only ones the sweep looks at. */
  private readonly open = new Set<StoredTrace>();
  /** Reported traces, in the order reported: the first to go when the store is full. */
  private readonly reported = new Set<StoredTrace>();
  private readonly listeners: TraceListener[] = [];
  private readonly quietMs: number;
  private readonly settleMs: number;
  private readonly maxSpans: number;
  private spanTotal = 0;
  private evictedReported = 0;
  private evictedOpen = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: TraceStoreOptions = {}) {
    this.quietMs = options.quietMs ?? 250;
    this.settleMs = options.settleMs ?? 5000;
    this.maxSpans = options.maxSpans ?? DEFAULT_MAX_SPANS;
    this.timer = setInterval(() => this.sweep(), Math.max(25, Math.min(this.quietMs, 100)));
    this.timer.unref();
  }

  /** Feed spans in (wire it to `receiver.onSpans`). */
  add(spans: readonly ReceivedSpan[]): void {
    const now = Date.now();
    for (const span of spans) {
      let trace = this.traces.get(span.traceId);
      if (!trace) {
        trace = { traceId: span.traceId, spans: [], state: "open", reports: 0, firstSeenMs: now, lastSpanMs: now };
        this.traces.set(span.traceId, trace);
      }
      trace.spans.push(span);
      this.spanTotal += 1;
      trace.lastSpanMs = now;
      if (trace.state !== "open") {
        trace.state = "open";
        this.reported.delete(trace);
      }
      this.open.add(trace);
    }
    this.evict();
  }

  stats(): TraceStoreStats {
    return {
      traces: this.traces.size,
      spans: this.spanTotal,
      open: this.open.size,
      evictedReported: this.evictedReported,
      evictedOpen: this.evictedOpen,
    };
  }

  /** Spans currently kept, over all traces. */
  get spanCount(): number {
    return this.spanTotal;
  }

  /** Called with each trace when it is reported complete/partial/batch (again after late spans). */
  onTrace(listener: TraceListener): void {
    this.listeners.push(listener);
  }

  get(traceId: string): StoredTrace | undefined {
    return this.traces.get(traceId.toLowerCase());
  }

  /** Most recent first. */
  list(limit = 100): StoredTrace[] {
    return [...this.traces.values()].sort((a, b) => b.firstSeenMs - a.firstSeenMs).slice(0, limit);
  }

  /** Resolves with the trace once it is reported with one of `states` (default complete). */
  waitFor(traceId: string, timeoutMs: number, states: TraceState[] = ["complete"]): Promise<StoredTrace> {
    const id = traceId.toLowerCase();
    return new Promise((resolve, reject) => {
      const check = () => {
        const trace = this.traces.get(id);
        if (trace && trace.reports > 0 && states.includes(trace.state)) {
          clearTimeout(timer);
          clearInterval(poll);
          resolve(trace);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        clearInterval(poll);
        const trace = this.traces.get(id);
        reject(
          new Error(
            `trace ${id} not ${states.join("/")} within ${timeoutMs} ms (state ${trace?.state ?? "unknown"}, ` +
              `spans: ${trace ? trace.spans.map((s) => `${s.kind} ${s.name}`).join(", ") : "none"})`,
          ),
        );
      }, timeoutMs);
      const poll = setInterval(check, 25);
      check();
    });
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private evict(): void {
    while (this.spanTotal > this.maxSpans) {
      let victim: StoredTrace | undefined = this.reported.values().next().value;
      if (victim) {
        this.reported.delete(victim);
        this.evictedReported += 1;
      } else {
        victim = this.traces.values().next().value; // nothing reported: the oldest open trace
        if (!victim) return;
        this.open.delete(victim);
        this.evictedOpen += 1;
      }
      this.traces.delete(victim.traceId);
      this.spanTotal -= victim.spans.length;
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const trace of this.open) {
      const quiet = now - trace.lastSpanMs;
      if (quiet < this.quietMs) continue;
      const verdict = classify(trace.spans);
      if (verdict === "complete" || verdict === "batch") {
        this.report(trace, verdict);
      } else if (quiet >= this.settleMs) {
        this.report(trace, "partial");
      }
    }
  }

  private report(trace: StoredTrace, state: TraceState): void {
    trace.state = state;
    trace.reports += 1;
    this.open.delete(trace);
    this.reported.add(trace);
    for (const listener of this.listeners) {
      try {
        listener(trace);
      } catch {
        // a printer bug must not stop the sweep
      }
    }
  }
}

/** Structural verdict, ignoring time: complete, batch (Lambda batch spans only) or open. */
export function classify(spans: readonly ReceivedSpan[]): "complete" | "batch" | "open" {
  const servers = spans.filter((s) => s.kind === "SERVER");
  const producers = spans.filter((s) => s.kind === "PRODUCER");
  if (servers.length === 0) {
    // Lambda's per-invocation batch span (the one with `messaging.batch.message_count`; it is named `process <queue>`
    // like the record spans) lives in its own trace and links to the records' traces; a trace without a SERVER span
    // that holds a record's CONSUMER span is a record that arrived without context (open → partial).
    const hasRecordSpan = spans.some((s) => s.kind === "CONSUMER" && !isInvocationSpan(s.attributes));
    const hasLinks = spans.some((s) => s.links.length > 0);
    return producers.length === 0 && hasLinks && !hasRecordSpan ? "batch" : "open";
  }
  if (producers.length === 0) {
    const status = Number(servers[0]!.attributes["http.response.status_code"] ?? 0);
    // A read (the status endpoint) never sends: answered is done.
    const read = ["GET", "HEAD"].includes(String(servers[0]!.attributes["http.request.method"]));
    return status >= 400 || (read && status > 0) ? "complete" : "open";
  }
  const consumerParents = new Set(spans.filter((s) => s.kind === "CONSUMER").map((s) => s.parentSpanId));
  return producers.every((p) => consumerParents.has(p.spanId)) ? "complete" : "open";
}

export function durationMs(span: ReceivedSpan): number {
  return Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6;
}

export function summarize(trace: StoredTrace): TraceSummary {
  const spans = trace.spans;
  const ids = new Set(spans.map((s) => s.spanId));
  // The earliest span whose parent is not in the trace (a client's traceparent makes the SERVER span's parent remote).
  const roots = spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
  const root = (roots.length > 0 ? roots : spans).reduce((a, b) =>
    BigInt(b.startTimeUnixNano) < BigInt(a.startTimeUnixNano) ? b : a,
  );
  const start = spans.reduce(
    (min, s) => (BigInt(s.startTimeUnixNano) < min ? BigInt(s.startTimeUnixNano) : min),
    BigInt(root.startTimeUnixNano),
  );
  const end = spans.reduce((max, s) => (BigInt(s.endTimeUnixNano) > max ? BigInt(s.endTimeUnixNano) : max), 0n);
  const kinds: Record<string, number> = {};
  for (const span of spans) kinds[span.kind] = (kinds[span.kind] ?? 0) + 1;
  return {
    traceId: trace.traceId,
    state: trace.state,
    rootService: root.serviceName,
    rootName: root.name,
    services: [
      ...new Set(
        [...spans]
          .sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1))
          .map((s) => s.serviceName),
      ),
    ],
    spanCount: spans.length,
    errorCount: spans.filter((s) => s.status.code === "ERROR").length,
    startTime: new Date(Number(start / 1_000_000n)).toISOString(),
    durationMs: Number(end - start) / 1e6,
    kinds,
  };
}
