/**
 * 4. Pipeline: the local stack (`startLocalStack`: API process → fauxqs → event-source-mapping emulator → Lambda host
 * process, both exporting OTLP/gRPC to the loopback receiver) under a sustained open-loop rate, then stepped rates.
 *
 * For every accepted request (its `trace_id` comes back in the response) the trace must hold the API's SERVER span,
 * a PRODUCER child of it, and a Lambda CONSUMER `process` child of that PRODUCER: spans expected = 3 × accepted, plus
 * one batch span (`messaging.batch.message_count`) per Lambda invocation.
 */
import * as path from "node:path";
import type { ReceivedSpan } from "../../local/otlp-receiver";
import { startLocalStack, type LocalStack } from "../../local/stack";
import { BenchConfig } from "../lib/config";
import { REPO_ROOT, baseEnv, sleep, spawnNode } from "../lib/proc";
import { round } from "../lib/stats";
import { isInvocationSpan } from "../../telemetry/semconv";

export interface PipelineStep {
  rate: number;
  seconds: number;
  sent: number;
  accepted: number;
  statuses: Record<string, number>;
  latencyMs: { p50: number; p99: number };
  /** Accepted requests ÷ time from the first request to the last response: below `rate` = the stack saturated. */
  completedRate: number;
  invocations: number;
  spansExpected: number;
  /** `UpdateItem` CLIENT spans received in the step (the onboarding store's writes; not counted in spansExpected). */
  storeWrites: number;
  spansReceived: number;
  spanRatio: number;
  tracesComplete: number;
  traceRatio: number;
  /** Time from the last request sent until every accepted trace was complete (or the drain gave up). */
  drainMs: number;
}

export interface PipelineResult {
  sustained: PipelineStep;
  steps: PipelineStep[];
  maxRateAt100: number | null;
}

interface TraceParts {
  server?: ReceivedSpan;
  producers: ReceivedSpan[];
  consumers: ReceivedSpan[];
}

class SpanIndex {
  readonly traces = new Map<string, TraceParts>();
  batchSpans = 0;
  /** The consumer's `UpdateItem` CLIENT spans: the store is in the path (one per processed record). */
  storeWrites = 0;

  add(spans: readonly ReceivedSpan[]): void {
    for (const span of spans) {
      if (span.kind === "CONSUMER" && isInvocationSpan(span.attributes)) {
        this.batchSpans++;
        continue;
      }
      let parts = this.traces.get(span.traceId);
      if (!parts) {
        parts = { producers: [], consumers: [] };
        this.traces.set(span.traceId, parts);
      }
      if (span.kind === "CLIENT" && span.name.startsWith("UpdateItem ")) this.storeWrites++;
      if (span.kind === "SERVER") parts.server = span;
      else if (span.kind === "PRODUCER") parts.producers.push(span);
      else if (span.kind === "CONSUMER") parts.consumers.push(span);
    }
  }

  /** SERVER, PRODUCER and CONSUMER present (distinct), for one trace: 0..3. */
  spansOf(traceId: string): number {
    const p = this.traces.get(traceId);
    if (!p) return 0;
    return (p.server ? 1 : 0) + (p.producers.length > 0 ? 1 : 0) + (p.consumers.length > 0 ? 1 : 0);
  }

  /** SERVER → PRODUCER (child of SERVER) → CONSUMER (child of that PRODUCER), all in one trace. */
  complete(traceId: string): boolean {
    const p = this.traces.get(traceId);
    if (!p?.server) return false;
    const producer = p.producers.find((x) => x.parentSpanId === p.server?.spanId);
    return !!producer && p.consumers.some((c) => c.parentSpanId === producer.spanId);
  }
}

async function runStep(
  stack: LocalStack,
  index: SpanIndex,
  rate: number,
  seconds: number,
  offset: number,
  drainMs: number,
): Promise<PipelineStep> {
  const invocationsBefore = stack.eventSourceMapping.invocations.length;
  const batchBefore = index.batchSpans;
  const writesBefore = index.storeWrites;
  const load = spawnNode(
    path.join(REPO_ROOT, "bench", "procs", "rate-load.ts"),
    [JSON.stringify({ url: stack.apiUrl, rate, seconds, offset })],
    { nodeArgs: ["--require", "tsx/cjs"], env: baseEnv() },
  );
  const reply = await load.waitForMessage<{
    done: boolean;
    sent: number;
    accepted: number;
    statuses: Record<string, number>;
    traceIds: string[];
    latencyMs: { p50: number; p99: number };
    completedSeconds: number;
  }>((m) => m?.done === true, seconds * 1000 + 60000);
  await load.stop();
  const drainStart = Date.now();
  let completeCount = 0;
  let lastProgress = Date.now();
  while (Date.now() - drainStart < drainMs) {
    const now = reply.traceIds.filter((t) => index.complete(t)).length;
    if (now !== completeCount) lastProgress = Date.now();
    completeCount = now;
    // Done when everything is complete and the emulator has no batch in flight; give up after 8 s without progress.
    if (completeCount === reply.accepted) break;
    if (Date.now() - lastProgress > 8000) break;
    await sleep(100);
  }
  // Let the last batch spans (exported after the records' flush) arrive.
  await sleep(300);
  const drainMs_ = Date.now() - drainStart;
  const invocations = stack.eventSourceMapping.invocations.slice(invocationsBefore).filter((i) => i.records > 0).length;
  const recordSpans = reply.traceIds.reduce((a, t) => a + index.spansOf(t), 0);
  const spansExpected = 3 * reply.accepted + invocations;
  const spansReceived = recordSpans + Math.min(index.batchSpans - batchBefore, invocations);
  const tracesComplete = reply.traceIds.filter((t) => index.complete(t)).length;
  return {
    rate,
    seconds,
    sent: reply.sent,
    accepted: reply.accepted,
    statuses: reply.statuses,
    latencyMs: { p50: round(reply.latencyMs.p50, 1), p99: round(reply.latencyMs.p99, 1) },
    completedRate: round(reply.accepted / reply.completedSeconds, 1),
    invocations,
    spansExpected,
    storeWrites: index.storeWrites - writesBefore,
    spansReceived,
    spanRatio: spansExpected > 0 ? round(spansReceived / spansExpected, 4) : Number.NaN,
    tracesComplete,
    traceRatio: reply.accepted > 0 ? round(tracesComplete / reply.accepted, 4) : Number.NaN,
    drainMs: drainMs_,
  };
}

/**
 * A rate "still gives 100 %" when every request was accepted, every span and trace arrived, and the stack kept up:
 * it served ≥ 90 % of the offered rate (beyond saturation requests queue and latency grows without bound, even if
 * they all eventually complete).
 */
export const KEEP_UP_FRACTION = 0.9;
const perfect = (s: PipelineStep) =>
  s.accepted === s.sent && s.spanRatio >= 1 && s.traceRatio >= 1 && s.completedRate >= KEEP_UP_FRACTION * s.rate;

export async function benchPipeline(cfg: BenchConfig["pipeline"], log: (s: string) => void): Promise<PipelineResult> {
  const index = new SpanIndex();
  const stack = await startLocalStack({ build: "never", traceViewPort: false });
  try {
    if (!stack.receiver) throw new Error("local stack started without a receiver");
    stack.receiver.onSpans((spans) => {
      index.add(spans);
      // The bench keeps its own index; don't let the receiver's raw list grow for minutes.
      stack.receiver?.spans.splice(0);
      stack.receiver?.requests.splice(0);
    });
    // Warm-up: a few requests end to end (JIT, SDK pools, gRPC channels, the emulator's first poll).
    await runStep(stack, index, 5, 1, 9_000_000, 10000);
    const describe = (s: PipelineStep) =>
      `${s.rate} req/s × ${s.seconds} s: accepted ${s.accepted}/${s.sent}, spans ${s.spansReceived}/${s.spansExpected} ` +
      `(+${s.storeWrites} UpdateItem) ` +
      `(${round(s.spanRatio * 100, 2)} %), traces complete ${s.tracesComplete}/${s.accepted} ` +
      `(${round(s.traceRatio * 100, 2)} %), ${s.invocations} invocations, p99 ${s.latencyMs.p99} ms, drain ${s.drainMs} ms`;

    const sustained = await runStep(stack, index, cfg.sustainedRate, cfg.sustainedSeconds, 0, cfg.drainMs);
    log(`  pipeline sustained ${describe(sustained)}`);
    const steps: PipelineStep[] = [];
    let maxRateAt100: number | null = null;
    let offset = 1_000_000;
    for (const rate of cfg.stepRates) {
      const step = await runStep(stack, index, rate, cfg.stepSeconds, offset, cfg.drainMs);
      offset += 1_000_000;
      steps.push(step);
      log(`  pipeline step ${describe(step)}`);
      if (!perfect(step)) break;
      maxRateAt100 = rate;
    }
    return { sustained, steps, maxRateAt100 };
  } finally {
    await stack.stop();
  }
}
