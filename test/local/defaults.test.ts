// The local stack's queue must follow the deployed stack's delivery rules, or `npm start` shows behaviour (double
// deliveries, a different road to the DLQ) that production does not have.
import assert from "node:assert/strict";
import { minimumVisibilityTimeout } from "../../packages/traced-components/src/delivery-rules";
import { QUEUE_DEFAULTS } from "../../packages/traced-components/src/traced-queue";
import { LOCAL_DEFAULTS } from "../../local/stack";

describe("local stack defaults", () => {
  it("keep visibility ≥ 6 × function timeout + batching window", () => {
    const minimum = minimumVisibilityTimeout({
      timeoutSeconds: LOCAL_DEFAULTS.functionTimeoutMs / 1000,
      batchingWindowSeconds: LOCAL_DEFAULTS.maximumBatchingWindowMs / 1000,
    });
    assert.ok(
      LOCAL_DEFAULTS.visibilityTimeoutSeconds >= minimum,
      `visibility ${LOCAL_DEFAULTS.visibilityTimeoutSeconds} s < ${minimum} s`,
    );
  });

  it("use the stack's maxReceiveCount", () => {
    assert.equal(LOCAL_DEFAULTS.maxReceiveCount, QUEUE_DEFAULTS.deadLetter.maxReceiveCount);
  });
});
