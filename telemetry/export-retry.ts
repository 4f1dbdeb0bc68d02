/**
 * Which export failures are retried, and when — the OTLP/gRPC exporter spec (opentelemetry-proto
 * docs/specification.md, "OTLP/gRPC Response" → "Failures"): CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
 * UNAVAILABLE and DATA_LOSS are retryable; RESOURCE_EXHAUSTED only when the server sends `RetryInfo` (then after its
 * `retry_delay`); every other code is not. HTTP statuses without a gRPC status follow gRPC's
 * http-grpc-status-mapping.md (429/502/503/504 → UNAVAILABLE, the rest are permanent). Streams the server never
 * processed (REFUSED_STREAM, refused by GOAWAY) are retried at once on a new connection, as grpc-js does for
 * "transparent retries"; connection-level errors (reset, refused, DNS) are UNAVAILABLE in every gRPC client.
 *
 * Backoff is exponential with ±20 % jitter like `@opentelemetry/otlp-exporter-base`'s RetryingTransport (which the
 * official gRPC exporter 0.301 does not even use: its transport reports every error as a plain failure), but starts at
 * 50 ms instead of 1 s: the Lambda's whole export deadline is 2 s, and a retry that does not fit in the deadline is
 * not tried at all.
 */

/** gRPC status codes (grpc/doc/statuscodes.md). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const RETRYABLE_GRPC_CODES: ReadonlySet<number> = new Set([
  GrpcStatus.CANCELLED,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.ABORTED,
  GrpcStatus.OUT_OF_RANGE,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DATA_LOSS,
]);

/** The result of one Export attempt. */
export type AttemptOutcome =
  | { readonly ok: true; readonly response: Uint8Array | undefined }
  | {
      readonly ok: false;
      readonly error: Error;
      readonly retryable: boolean;
      /** Server-requested delay (RetryInfo); replaces the backoff. */
      readonly retryAfterMillis?: number;
      /** Never reached the server's handler (refused stream / GOAWAY): retry at once, on a new session. */
      readonly refused?: boolean;
    };

/** A gRPC status (from trailers, or the headers of a trailers-only response) as an outcome. */
export function grpcStatusOutcome(
  code: number,
  message: string,
  retryDelayMillis: number | undefined,
): AttemptOutcome & { ok: false } {
  const error = new Error(`gRPC status ${code}${message ? `: ${message}` : ""}`);
  if (code === GrpcStatus.RESOURCE_EXHAUSTED) {
    return retryDelayMillis === undefined
      ? { ok: false, error, retryable: false }
      : { ok: false, error, retryable: true, retryAfterMillis: retryDelayMillis };
  }
  return { ok: false, error, retryable: RETRYABLE_GRPC_CODES.has(code) };
}

/** An HTTP status other than 200 without a gRPC status (a proxy or load balancer answered). */
export function httpStatusOutcome(status: number): AttemptOutcome & { ok: false } {
  const retryable = status === 429 || status === 502 || status === 503 || status === 504;
  return { ok: false, error: new Error(`OTLP endpoint answered HTTP ${status}`), retryable };
}

/** TLS verification failures are configuration, not weather: retrying cannot fix them. */
const PERMANENT_ERROR_CODE = /^(CERT_|ERR_TLS_CERT|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_SSL_|ERR_INVALID_)/;

/** A socket/session/stream error (ECONNRESET, ECONNREFUSED, EPIPE, EAI_AGAIN, ERR_HTTP2_*…). */
export function networkErrorOutcome(error: Error): AttemptOutcome & { ok: false } {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (PERMANENT_ERROR_CODE.test(code)) return { ok: false, error, retryable: false };
  const refused =
    code === "ERR_HTTP2_GOAWAY_SESSION" ||
    /REFUSED_STREAM/.test(error.message) ||
    (code === "ERR_HTTP2_STREAM_ERROR" && /NGHTTP2_REFUSED_STREAM/.test(error.message));
  return { ok: false, error, retryable: true, ...(refused ? { refused: true } : {}) };
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialBackoffMillis: number;
  readonly maxBackoffMillis: number;
  readonly multiplier: number;
  /** ± this fraction of the backoff. */
  readonly jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  initialBackoffMillis: 50,
  maxBackoffMillis: 1000,
  multiplier: 2,
  jitter: 0.2,
};

/** Delay before retry number `retry` (0 = the first retry); `random` is in [0, 1). */
export function backoffMillis(policy: RetryPolicy, retry: number, random: number): number {
  const base = Math.min(policy.initialBackoffMillis * policy.multiplier ** retry, policy.maxBackoffMillis);
  return Math.max(0, base * (1 + (random * 2 - 1) * policy.jitter));
}

export interface RetryClock {
  now(): number;
  sleep(millis: number): Promise<void>;
  random(): number;
}

export const REAL_CLOCK: RetryClock = {
  now: () => performance.now(),
  sleep: (millis) => new Promise((resolve) => setTimeout(resolve, millis)),
  random: Math.random,
};

export interface RetriedOutcome {
  readonly outcome: AttemptOutcome;
  readonly attempts: number;
}

/**
 * Runs `attempt` (which must itself respect `deadline`, a `clock.now()` instant) until it succeeds, fails for good,
 * runs out of attempts, or the next retry would start after the deadline. Never throws unless `attempt` does.
 */
export async function withRetries(
  attempt: (deadline: number) => Promise<AttemptOutcome>,
  deadline: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  clock: RetryClock = REAL_CLOCK,
): Promise<RetriedOutcome> {
  let backoffs = 0;
  let refusedRetried = false;
  for (let attempts = 1; ; attempts++) {
    const outcome = await attempt(deadline);
    if (outcome.ok || !outcome.retryable || attempts >= policy.maxAttempts) return { outcome, attempts };
    // One immediate retry for a refused stream (the server did no work); after that, back off like any failure.
    const immediate = outcome.refused === true && !refusedRetried;
    if (immediate) refusedRetried = true;
    const delay = immediate ? 0 : (outcome.retryAfterMillis ?? backoffMillis(policy, backoffs++, clock.random()));
    if (clock.now() + delay >= deadline) return { outcome, attempts };
    if (delay > 0) await clock.sleep(delay);
  }
}
