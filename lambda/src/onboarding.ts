/**
 * Business logic of the consumer: record an accepted onboarding exactly once per `request_id`.
 *
 * SQS delivers at least once, so the same message (same `request_id`) can arrive again, in the same batch or
 * later. Processing is keyed by `request_id` and "check, do, then mark": a duplicate of a completed request is
 * acknowledged without redoing work; a failed attempt is not marked, so the retry does the work. The store is an
 * interface: the in-memory one (per execution environment) is the local/test stand-in; production would use a
 * conditional write (e.g. DynamoDB `attribute_not_exists(request_id)`).
 */
import type { OnboardingMessage } from "../../app/src/onboard";

export interface OnboardingRecord {
  readonly request_id: string;
  readonly customer_id: string;
  readonly email: string;
  readonly company_size: OnboardingMessage["company_size"];
  readonly name: string;
  readonly accepted_at: string;
  readonly processed_at: string;
}

export interface OnboardingStore {
  has(requestId: string): Promise<boolean>;
  /** Idempotent: writing the same request twice leaves one record. */
  put(record: OnboardingRecord): Promise<void>;
}

/** Bounded in-memory store (oldest entries evicted first). */
export function createInMemoryOnboardingStore(maxEntries = 10_000): OnboardingStore & { size(): number } {
  const records = new Map<string, OnboardingRecord>();
  return {
    has: (requestId) => Promise.resolve(records.has(requestId)),
    put: (record) => {
      if (!records.has(record.request_id)) {
        records.set(record.request_id, record);
        if (records.size > maxEntries) records.delete(records.keys().next().value as string);
      }
      return Promise.resolve();
    },
    size: () => records.size,
  };
}

export type ProcessOutcome = "processed" | "duplicate";

export async function processOnboarding(
  message: OnboardingMessage,
  store: OnboardingStore,
  now: () => Date = () => new Date(),
): Promise<ProcessOutcome> {
  if (await store.has(message.request_id)) return "duplicate";
  await store.put({
    request_id: message.request_id,
    customer_id: message.customer_id,
    email: message.email,
    company_size: message.company_size,
    name: message.name,
    accepted_at: message.accepted_at,
    processed_at: now().toISOString(),
  });
  return "processed";
}
