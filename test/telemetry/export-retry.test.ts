/** Which export outcomes are retried (the OTLP spec's table) and how the retries fit inside the deadline. */
import assert from "node:assert/strict";
import {
  DEFAULT_RETRY_POLICY,
  GrpcStatus,
  backoffMillis,
  grpcStatusOutcome,
  httpStatusOutcome,
  networkErrorOutcome,
  withRetries,
  type AttemptOutcome,
  type RetryClock,
} from "../../telemetry/export-retry";

/** A clock that only moves when the code under test sleeps (or an attempt says it took time). */
function fakeClock(random = 0.5): RetryClock & { sleeps: number[]; advance(ms: number): void } {
  let t = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    advance: (ms) => (t += ms),
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    random: () => random,
  };
}

const unavailable = (): AttemptOutcome => grpcStatusOutcome(GrpcStatus.UNAVAILABLE, "down", undefined);

describe("telemetry: export retry policy", () => {
  it("retries exactly the codes the OTLP spec lists; RESOURCE_EXHAUSTED only with RetryInfo", () => {
    const retryable = [1, 4, 10, 11, 14, 15];
    for (let code = 1; code <= 16; code++) {
      const outcome = grpcStatusOutcome(code, "", undefined);
      assert.equal(outcome.retryable, retryable.includes(code), `gRPC code ${code}`);
    }
    const throttled = grpcStatusOutcome(GrpcStatus.RESOURCE_EXHAUSTED, "slow down", 250);
    assert.equal(throttled.retryable, true);
    assert.equal(throttled.retryAfterMillis, 250);
    assert.match(throttled.error.message, /gRPC status 8: slow down/);
  });

  it("maps bare HTTP statuses like gRPC does: 429/502/503/504 retryable, others permanent", () => {
    for (const status of [429, 502, 503, 504]) assert.equal(httpStatusOutcome(status).retryable, true, `${status}`);
    for (const status of [400, 401, 403, 404, 500])
      assert.equal(httpStatusOutcome(status).retryable, false, `${status}`);
  });

  it("retries socket errors, flags refused streams, never retries TLS verification failures", () => {
    const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });
    assert.equal(networkErrorOutcome(withCode("ECONNRESET")).retryable, true);
    assert.equal(networkErrorOutcome(withCode("ECONNREFUSED")).retryable, true);
    assert.equal(networkErrorOutcome(withCode("ERR_HTTP2_GOAWAY_SESSION")).refused, true);
    const refused = withCode("ERR_HTTP2_STREAM_ERROR", "Stream closed with error code NGHTTP2_REFUSED_STREAM");
    assert.equal(networkErrorOutcome(refused).refused, true);
    assert.equal(networkErrorOutcome(withCode("UNABLE_TO_VERIFY_LEAF_SIGNATURE")).retryable, false);
    assert.equal(networkErrorOutcome(withCode("ERR_TLS_CERT_ALTNAME_INVALID")).retryable, false);
  });

  it("backs off exponentially with ±20 % jitter, capped", () => {
    assert.equal(backoffMillis(DEFAULT_RETRY_POLICY, 0, 0.5), 50);
    assert.equal(backoffMillis(DEFAULT_RETRY_POLICY, 3, 0.5), 400);
    assert.equal(backoffMillis(DEFAULT_RETRY_POLICY, 10, 0.5), 1000);
    assert.equal(backoffMillis(DEFAULT_RETRY_POLICY, 0, 0), 40);
    assert.ok(backoffMillis(DEFAULT_RETRY_POLICY, 0, 0.999999) < 60);
  });

  it("stops before a retry that would start after the deadline", async () => {
    const clock = fakeClock();
    let attempts = 0;
    const { outcome, attempts: made } = await withRetries(
      async () => (attempts++, unavailable()),
      120,
      DEFAULT_RETRY_POLICY,
      clock,
    );
    // 50 ms, then 100 ms would end at 150 > 120: two attempts, one sleep.
    assert.equal(made, 2);
    assert.equal(attempts, 2);
    assert.deepEqual(clock.sleeps, [50]);
    assert.equal(outcome.ok, false);
  });

  it("never retries a permanent failure, and gives up after maxAttempts", async () => {
    const clock = fakeClock();
    const permanent = await withRetries(
      async () => grpcStatusOutcome(GrpcStatus.UNAUTHENTICATED, "bad key", undefined),
      10_000,
      DEFAULT_RETRY_POLICY,
      clock,
    );
    assert.equal(permanent.attempts, 1);
    const capped = await withRetries(async () => unavailable(), 1e9, DEFAULT_RETRY_POLICY, clock);
    assert.equal(capped.attempts, DEFAULT_RETRY_POLICY.maxAttempts);
  });

  it("retries a refused stream at once (the server did no work), then backs off; honours RetryInfo's delay", async () => {
    const clock = fakeClock();
    const refused: AttemptOutcome = { ok: false, retryable: true, refused: true, error: new Error("refused") };
    const outcomes = [refused, refused, { ok: true, response: undefined } as const];
    const result = await withRetries(async () => outcomes.shift()!, 1000, DEFAULT_RETRY_POLICY, clock);
    assert.equal(result.outcome.ok, true);
    assert.deepEqual(clock.sleeps, [50]); // the first retry had no delay

    const throttledClock = fakeClock();
    const throttled = [grpcStatusOutcome(8, "", 300), { ok: true, response: undefined } as const];
    await withRetries(async () => throttled.shift()!, 1000, DEFAULT_RETRY_POLICY, throttledClock);
    assert.deepEqual(throttledClock.sleeps, [300]);
  });
});
