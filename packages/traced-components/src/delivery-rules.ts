/**
 * The delivery rules every consumer of a TracedQueue follows, with no Pulumi imports, so the local stack
 * (`npm start`) applies the same rules as the deployed stack without loading the Pulumi SDK.
 */

/** Receives before a message moves to the dead-letter queue. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;

/** The queue's consumer, which decides the minimum visibility timeout. */
export interface QueueConsumer {
  /**
   * The consumer function's timeout in seconds.
   * @example 30
   */
  readonly timeoutSeconds: number;
  /**
   * The event source mapping's batching window in seconds.
   * @default 0
   * @example 1
   */
  readonly batchingWindowSeconds?: number;
}

/** The minimum visibility timeout for a consumer: 6 × timeout + batching window. */
export function minimumVisibilityTimeout(consumer: QueueConsumer): number {
  return 6 * consumer.timeoutSeconds + (consumer.batchingWindowSeconds ?? 0);
}
