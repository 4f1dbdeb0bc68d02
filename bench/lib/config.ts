import type { OnboardRequest } from "../../contract/onboarding";

/** Bench modes: `full` (the committed numbers) and `smoke` (every section tiny, < 60 s, run by `npm test`). */
export type Mode = "full" | "smoke";

export interface BenchConfig {
  mode: Mode;
  api: { connections: number; roundSeconds: number; rounds: number; warmupSeconds: number; drainTimeoutMs: number };
  cold: { runs: number };
  flush: {
    invocations: number;
    spansPerFlush: number;
    downRecords: number;
    downTimeoutMs: number;
    /** Handler invocations per receiver-down scenario. */
    downInvocations: number;
  };
  /** The onboarding store: cold init with/without it, per-record time in-memory vs DynamoDB (dynalite). */
  store: { coldRuns: number; batches: number; warmupBatches: number };
  pipeline: {
    sustainedRate: number;
    sustainedSeconds: number;
    stepRates: number[];
    stepSeconds: number;
    drainMs: number;
  };
}

export function configFor(mode: Mode): BenchConfig {
  if (mode === "smoke") {
    return {
      mode,
      api: { connections: 4, roundSeconds: 1, rounds: 1, warmupSeconds: 0.5, drainTimeoutMs: 8000 },
      cold: { runs: 3 },
      flush: { invocations: 30, spansPerFlush: 10, downRecords: 2, downTimeoutMs: 3000, downInvocations: 1 },
      store: { coldRuns: 2, batches: 5, warmupBatches: 1 },
      pipeline: { sustainedRate: 10, sustainedSeconds: 2, stepRates: [20], stepSeconds: 1, drainMs: 10000 },
    };
  }
  return {
    mode,
    // 5 s warm-up: with 2 s the first round pairs still showed JIT warm-up (on÷off 1.2–1.3).
    api: { connections: 16, roundSeconds: 3, rounds: 12, warmupSeconds: 5, drainTimeoutMs: 10000 },
    cold: { runs: 20 },
    // 3 s = Lambda's default function timeout.
    flush: { invocations: 600, spansPerFlush: 10, downRecords: 10, downTimeoutMs: 3000, downInvocations: 3 },
    store: { coldRuns: 20, batches: 200, warmupBatches: 20 },
    pipeline: {
      sustainedRate: 100,
      sustainedSeconds: 60,
      stepRates: [25, 50, 100, 200, 300, 400, 500, 600, 800],
      stepSeconds: 8,
      drainMs: 20000,
    },
  };
}

/** A valid POST /onboard body (contract/onboarding.ts: customer_id, email, company_size, name). */
export function onboardBody(n = 1): string {
  return JSON.stringify({
    customer_id: `BENCH-${String(n).padStart(3, "0")}`,
    email: `bench${n}@example.com`,
    company_size: "medium",
    name: `Bench Customer ${n}`,
  } satisfies OnboardRequest);
}
