/**
 * A terminal line when a message moves to the dead-letter queue: polls the DLQ's message count and, when it grows,
 * reports how many arrived — naming the message ids that failed `maxReceiveCount` times (fed from the
 * event-source-mapping's invocation summaries) and, when the store has their `process` spans, their traces.
 */
import type { InvocationSummary } from "./event-source-mapping";
import type { LocalSqs } from "./sqs";
import type { TraceStore } from "./trace-store";

export interface DlqMove {
  /** Messages that arrived in the DLQ since the last poll. */
  moved: number;
  /** Messages in the DLQ now. */
  waiting: number;
  /** Message ids that failed maxReceiveCount times and were not reported yet, with their trace when known. */
  messages: { messageId: string; traceId?: string }[];
}

export interface DlqWatcher {
  /** Feed it every invocation summary (`onInvocation`). */
  invocation(summary: InvocationSummary): void;
  /** One poll now (the timer calls it too). */
  check(): Promise<void>;
  stop(): void;
}

export function watchDlq(options: {
  sqs: LocalSqs;
  maxReceiveCount: number;
  store?: TraceStore;
  onMove: (move: DlqMove) => void;
  /** @default 1000 */
  intervalMs?: number;
}): DlqWatcher {
  const failures = new Map<string, number>();
  const reported = new Set<string>();
  let last: number | undefined;
  let polling: Promise<void> | undefined;

  const traceOf = (messageId: string) => {
    for (const trace of options.store?.list(Number.POSITIVE_INFINITY) ?? []) {
      if (trace.spans.some((s) => s.attributes["messaging.message.id"] === messageId)) return trace.traceId;
    }
    return undefined;
  };

  const poll = async () => {
    const counts = await options.sqs.count("dlq");
    const total = counts.ready + counts.inflight + counts.delayed;
    if (last !== undefined && total > last) {
      const messages = [...failures.entries()]
        .filter(([id, count]) => count >= options.maxReceiveCount && !reported.has(id))
        .map(([messageId]) => {
          reported.add(messageId);
          failures.delete(messageId);
          const traceId = traceOf(messageId);
          return traceId ? { messageId, traceId } : { messageId };
        });
      options.onMove({ moved: total - last, waiting: total, messages });
    }
    last = total;
  };
  const check = () => {
    polling ??= poll()
      .catch(() => undefined)
      .finally(() => (polling = undefined));
    return polling;
  };
  const timer = setInterval(() => void check(), options.intervalMs ?? 1000);
  timer.unref();
  void check();
  return {
    invocation(summary) {
      for (const id of summary.failedMessageIds) failures.set(id, (failures.get(id) ?? 0) + 1);
    },
    check,
    stop: () => clearInterval(timer),
  };
}
