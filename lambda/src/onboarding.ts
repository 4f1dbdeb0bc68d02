/**
 * Business logic of the consumer: record an accepted onboarding exactly once per `request_id`.
 *
 * SQS delivers at least once, so the same message (same `request_id`) can arrive again, in the same batch or later,
 * in this or another execution environment. The store's `record` is one atomic conditional write keyed by
 * `request_id` (DynamoDB in lambda/src/store.ts): the first delivery creates the record (`processed`), every later
 * one finds it and is `duplicate`. A failed write records nothing, so the retry does the work. The in-memory store is
 * the unit-test stand-in (per process only).
 */
import type { Context } from "@opentelemetry/api";
import type { OnboardingMessage } from "../../contract/onboarding";

export interface OnboardingRecord {
  readonly request_id: string;
  readonly customer_id: string;
  readonly email: string;
  readonly company_size: OnboardingMessage["company_size"];
  readonly name: string;
  readonly accepted_at: string;
  readonly processed_at: string;
}

export type RecordOutcome = "processed" | "duplicate";
export type ProcessOutcome = RecordOutcome;

export interface OnboardingStore {
  /** Atomically records the request unless it was already processed: `duplicate` then, never an error. */
  record(record: OnboardingRecord, parent: Context): Promise<RecordOutcome>;
}

/** Bounded in-memory store (oldest entries evicted first); per process only. */
export function createInMemoryOnboardingStore(maxEntries = 10_000): OnboardingStore & { size(): number } {
  const records = new Map<string, OnboardingRecord>();
  return {
    record: (record) => {
      if (records.has(record.request_id)) return Promise.resolve("duplicate");
      records.set(record.request_id, record);
      if (records.size > maxEntries) records.delete(records.keys().next().value as string);
      return Promise.resolve("processed");
    },
    size: () => records.size,
  };
}

export function processOnboarding(
  message: OnboardingMessage,
  store: OnboardingStore,
  parent: Context,
  now: () => Date = () => new Date(),
): Promise<ProcessOutcome> {
  return store.record(
    {
      request_id: message.request_id,
      customer_id: message.customer_id,
      email: message.email,
      company_size: message.company_size,
      name: message.name,
      accepted_at: message.accepted_at,
      processed_at: now().toISOString(),
    },
    parent,
  );
}
