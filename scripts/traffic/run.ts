import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { type TrafficOptions, validateOptions } from "./args";
import { randomCustomer } from "./customer";
import { LatencyHistogram, type LatencyStats } from "./histogram";

/** Where progress and the summary go: a TTY gets a live progress bar, anything else plain periodic lines. */
export interface TrafficOutput {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface RunContext {
  /** Abort to stop early (Ctrl-C): sending stops, in-flight requests get `drainMs`, then a summary. */
  readonly signal?: AbortSignal;
  /** Progress goes here; omit for a silent run. */
  readonly output?: TrafficOutput;
  /** Plain-line progress interval when the output is not a TTY (default 10 s). */
  readonly plainIntervalMs?: number;
  /** How long in-flight requests may finish after an abort (default min(timeout, 2 s)). */
  readonly drainMs?: number;
  /** How many trace_ids to keep (uniform sample over all accepted requests; default 10). */
  readonly traceSampleSize?: number;
}

export type StopReason = "duration" | "max-requests" | "signal";

export interface TrafficSummary {
  readonly endpoint: string;
  readonly mode: "sustained" | "burst";
  readonly targetRate: number;
  readonly burst?: number;
  readonly durationMs: number;
  readonly elapsedMs: number;
  readonly stoppedBy: StopReason;
  /** Requests started. */
  readonly sent: number;
  /** 2xx responses. */
  readonly accepted: number;
  /** 4xx responses. */
  readonly rejected: number;
  /** 5xx or other unexpected statuses, network errors and timeouts. */
  readonly failed: number;
  /** In flight when the run was aborted and the drain time ran out. */
  readonly cancelled: number;
  /** Due while `maxInFlight` requests were already in flight, so never sent. */
  readonly skipped: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly errors: Readonly<Record<string, number>>;
  readonly latencyMs?: LatencyStats;
  readonly achievedRate: number;
  readonly traceIds: readonly string[];
}

const TRACE_ID = /^[0-9a-f]{32}$/;

/** `http://host:8000` → `http://host:8000/onboard`; a URL already ending in /onboard is used as is. */
export function onboardEndpoint(base: string): string {
  const url = new URL(base);
  if (!/\/onboard\/?$/.test(url.pathname)) url.pathname = url.pathname.replace(/\/*$/, "") + "/onboard";
  return url.toString();
}

function errorKind(err: unknown, timedOut: boolean): string {
  if (timedOut) return "timeout";
  const e = err as { cause?: { code?: string; name?: string }; code?: string; name?: string };
  return e?.cause?.code ?? e?.code ?? e?.cause?.name ?? e?.name ?? "error";
}

/**
 * Send valid random customers to POST <url>/onboard at `rate` per second (evenly, or in bursts) until the duration
 * passes, `maxRequests` have been sent, or `signal` aborts — whichever comes first — then wait for in-flight requests
 * (each bounded by its timeout) and resolve with the summary. Never throws for HTTP or network failures: they are
 * counted. Throws TrafficArgError for invalid options.
 */
export async function runTraffic(options: TrafficOptions, ctx: RunContext = {}): Promise<TrafficSummary> {
  const o = validateOptions(options);
  const endpoint = onboardEndpoint(o.url);
  const unit = o.burst ?? 1; // requests per tick
  const tickMs = (unit / o.rate) * 1000;
  const sampleSize = ctx.traceSampleSize ?? 10;
  const drainMs = ctx.drainMs ?? Math.min(o.timeoutMs, 2000);

  const latency = new LatencyHistogram();
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const traceIds: string[] = [];
  let sent = 0,
    accepted = 0,
    rejected = 0,
    failed = 0,
    cancelled = 0,
    skipped = 0,
    traceSeen = 0;
  const inFlight = new Set<Promise<void>>();
  const cancelAll = new AbortController(); // aborts in-flight requests once the drain time is over

  const start = performance.now();
  const elapsed = () => performance.now() - start;
  const endAt = o.durationMs;

  const keepTraceId = (id: string) => {
    // Reservoir sampling: every accepted request has the same chance to be in the sample.
    traceSeen++;
    if (traceIds.length < sampleSize) traceIds.push(id);
    else {
      const j = Math.floor(Math.random() * traceSeen);
      if (j < sampleSize) traceIds[j] = id;
    }
  };

  const sendOne = async (): Promise<void> => {
    const timeout = AbortSignal.timeout(o.timeoutMs);
    const signal = AbortSignal.any([timeout, cancelAll.signal]);
    const t0 = performance.now();
    try {
      const res = await fetch(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "traced-onboarding-traffic/1" },
        body: JSON.stringify(randomCustomer()),
        signal,
      });
      const text = await res.text();
      latency.record(performance.now() - t0);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status >= 200 && res.status < 300) {
        accepted++;
        try {
          const id = (JSON.parse(text) as { trace_id?: unknown }).trace_id;
          if (typeof id === "string" && TRACE_ID.test(id)) keepTraceId(id);
        } catch {
          /* a 2xx without a JSON body still counts as accepted */
        }
      } else if (res.status >= 400 && res.status < 500) rejected++;
      else failed++;
    } catch (err) {
      if (cancelAll.signal.aborted && !timeout.aborted) {
        cancelled++;
      } else {
        failed++;
        const kind = errorKind(err, timeout.aborted);
        errors[kind] = (errors[kind] ?? 0) + 1;
      }
    }
  };

  const launch = () => {
    if (inFlight.size >= o.maxInFlight) {
      skipped++;
      return;
    }
    sent++;
    const p = sendOne().finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  // Progress: a redrawn bar on a TTY, a plain line every plainIntervalMs otherwise.
  const out = ctx.output;
  const tty = out?.isTTY === true;
  const progress = () => {
    if (!out) return;
    const line = progressLine(
      { elapsedMs: elapsed(), durationMs: o.durationMs, sent, maxRequests: o.maxRequests },
      { accepted, rejected, failed, skipped, inFlight: inFlight.size },
      latency,
      // A pseudo-terminal without a size (script, some CI runners) reports 0 columns: assume 100.
      tty ? out.columns || 100 : undefined,
    );
    out.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  };
  const timer = out ? setInterval(progress, tty ? 200 : (ctx.plainIntervalMs ?? 10_000)) : undefined;

  let stoppedBy: StopReason = "duration";
  const aborted = () => ctx.signal?.aborted === true;
  try {
    for (let tick = 0; ; tick++) {
      const dueAt = tick * tickMs;
      if (dueAt >= endAt) break;
      const wait = dueAt - elapsed();
      if (wait > 0) {
        try {
          await sleep(wait, undefined, { signal: ctx.signal });
        } catch {
          /* aborted */
        }
      }
      if (aborted()) {
        stoppedBy = "signal";
        break;
      }
      if (elapsed() >= endAt) break;
      for (let i = 0; i < unit; i++) {
        if (o.maxRequests !== undefined && sent >= o.maxRequests) break;
        launch();
      }
      if (o.maxRequests !== undefined && sent >= o.maxRequests) {
        stoppedBy = "max-requests";
        break;
      }
    }
    // Over the configured window when it ran to the end (the last tick is due one interval before the end).
    const sendingMs = stoppedBy === "duration" ? o.durationMs : elapsed();

    // Drain: each request is bounded by its own timeout; after an abort, only `drainMs`.
    const all = Promise.allSettled([...inFlight]);
    if (stoppedBy === "signal") {
      await Promise.race([all, sleep(drainMs)]);
      cancelAll.abort();
    } else if (ctx.signal) {
      // A signal during the drain cuts it short too.
      const onAbort = () => setTimeout(() => cancelAll.abort(), drainMs).unref();
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener("abort", onAbort, { once: true });
      await all;
      ctx.signal.removeEventListener("abort", onAbort);
    }
    await Promise.allSettled([...inFlight]);

    return {
      endpoint,
      mode: o.burst === undefined ? "sustained" : "burst",
      targetRate: o.rate,
      burst: o.burst,
      durationMs: o.durationMs,
      elapsedMs: elapsed(),
      stoppedBy,
      sent,
      accepted,
      rejected,
      failed,
      cancelled,
      skipped,
      statuses: { ...statuses },
      errors: { ...errors },
      latencyMs: latency.stats(),
      achievedRate: sendingMs > 0 ? (sent / sendingMs) * 1000 : 0,
      traceIds: [...traceIds],
    };
  } finally {
    if (timer) clearInterval(timer);
    if (out && tty) out.write("\r\x1b[2K");
  }
}

const ms = (n: number | undefined) => (n === undefined ? "-" : n < 10 ? `${n.toFixed(1)}ms` : `${Math.round(n)}ms`);
const clock = (msTotal: number) => {
  const s = Math.floor(msTotal / 1000);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
};

/** One progress line; with `width` (a TTY) it starts with a bar and is cut to fit. */
export function progressLine(
  time: { elapsedMs: number; durationMs: number; sent: number; maxRequests?: number },
  counts: { accepted: number; rejected: number; failed: number; skipped: number; inFlight: number },
  latency: LatencyHistogram,
  width?: number,
): string {
  const frac = Math.min(
    1,
    Math.max(time.elapsedMs / time.durationMs, time.maxRequests ? time.sent / time.maxRequests : 0),
  );
  const text =
    `${clock(time.elapsedMs)}/${clock(time.durationMs)} sent ${time.sent} ` +
    `ok ${counts.accepted} 4xx ${counts.rejected} fail ${counts.failed}` +
    (counts.skipped ? ` skipped ${counts.skipped}` : "") +
    ` in-flight ${counts.inFlight} ` +
    `p50 ${ms(latency.percentile(50))} p90 ${ms(latency.percentile(90))} p99 ${ms(latency.percentile(99))}`;
  if (width === undefined) return `[traffic ${Math.floor(frac * 100)}%] ${text}`;
  const barWidth = 20;
  const filled = Math.round(frac * barWidth);
  const line = `[${"#".repeat(filled)}${"-".repeat(barWidth - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}% ${text}`;
  return line.length > width - 1 ? line.slice(0, Math.max(0, width - 1)) : line;
}

const tally = (m: Readonly<Record<string, number>>) =>
  Object.entries(m)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}×${v}`)
    .join(" ");

/** The human summary printed at the end and on Ctrl-C. */
export function formatSummary(s: TrafficSummary): string {
  const statuses = (keep: (status: number) => boolean) =>
    tally(Object.fromEntries(Object.entries(s.statuses).filter(([k]) => keep(Number(k)))));
  const failedDetail = [statuses((c) => c < 200 || (c >= 300 && c < 400) || c >= 500), tally(s.errors)]
    .filter(Boolean)
    .join(" ");
  const stopped = { duration: "duration reached", "max-requests": "--max-requests reached", signal: "interrupted" }[
    s.stoppedBy
  ];
  const lat = s.latencyMs;
  const lines = [
    `traffic summary: POST ${s.endpoint}`,
    `  stopped        ${stopped} after ${(s.elapsedMs / 1000).toFixed(1)}s`,
    `  mode           ${s.mode === "burst" ? `bursts of ${s.burst}` : "sustained"}, target ${s.targetRate} req/s, achieved ${s.achievedRate.toFixed(2)} req/s`,
    `  sent           ${s.sent}`,
    `  accepted (2xx) ${s.accepted}`,
    `  rejected (4xx) ${s.rejected}${s.rejected ? `  (${statuses((c) => c >= 400 && c < 500)})` : ""}`,
    `  failed         ${s.failed}${failedDetail ? `  (${failedDetail})` : ""}`,
  ];
  if (s.cancelled) lines.push(`  cancelled      ${s.cancelled}  (in flight when interrupted)`);
  if (s.skipped)
    lines.push(`  skipped        ${s.skipped}  (--max-in-flight reached; the API is slower than the rate)`);
  lines.push(
    lat
      ? `  latency        p50 ${ms(lat.p50)}  p90 ${ms(lat.p90)}  p99 ${ms(lat.p99)}  (min ${ms(lat.min)}, max ${ms(lat.max)}, n=${lat.count})`
      : "  latency        no responses",
  );
  if (s.traceIds.length) {
    lines.push(`  trace_ids      (sample of ${s.traceIds.length}; search these in your tracing backend)`);
    for (const id of s.traceIds) lines.push(`    ${id}`);
  } else {
    lines.push("  trace_ids      none (no 2xx response carried a trace_id)");
  }
  return lines.join("\n") + "\n";
}
