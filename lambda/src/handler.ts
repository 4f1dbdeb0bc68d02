/**
 * SQS consumer. Per invocation: one batch span (`receive <queue>`) linking every record's producer context; per
 * record one CONSUMER span `process <queue>` whose parent is the record's context (W3C in message attributes, else
 * the `AWSTraceHeader` system attribute, else a new root) and which links back to the batch span. Bad records are
 * reported in `batchItemFailures` (ReportBatchItemFailures) and never affect the others. Spans are flushed before
 * returning, within a deadline derived from the remaining invocation time.
 */
import type { Context as LambdaContext, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  trace,
  type Context,
  type Link,
  type Tracer,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { AWSXRayPropagator, AWSXRAY_TRACE_ID_HEADER } from "@opentelemetry/propagator-aws-xray";
import { ATTR_ERROR_TYPE } from "@opentelemetry/semantic-conventions";
import {
  ATTR_CLOUD_RESOURCE_ID,
  ATTR_FAAS_COLDSTART,
  ATTR_FAAS_INVOCATION_ID,
  ATTR_FAAS_TRIGGER,
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  FAAS_TRIGGER_VALUE_PUBSUB,
  MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
  MESSAGING_OPERATION_TYPE_VALUE_RECEIVE,
  MESSAGING_SYSTEM_VALUE_AWS_SQS,
} from "@opentelemetry/semantic-conventions/incubating";
import type { Logger } from "../../telemetry/logger";
import type { FlushOutcome } from "../../telemetry/provider";
import { lambdaMessageAttributeGetter } from "../../telemetry/sqs-carriers";
import { validateOnboardingMessage, type OnboardingMessage } from "../../app/src/onboard";
import {
  createInMemoryOnboardingStore,
  processOnboarding,
  type OnboardingStore,
  type ProcessOutcome,
} from "./onboarding";
import { createDynamoCall, createDynamoOnboardingStore } from "./store";
import { initLambdaTelemetry } from "./tracing";

export interface HandlerDeps {
  readonly tracer: Tracer;
  readonly logger: Logger;
  /** Flush spans within the given number of milliseconds; must never reject. */
  readonly flush: (deadlineMillis: number) => Promise<FlushOutcome>;
  /** The business step for one valid message; may throw (→ that record fails). */
  readonly processMessage: (message: OnboardingMessage, record: SQSRecord, ctx: Context) => Promise<ProcessOutcome>;
  /** Upper bound for the end-of-invocation flush (default 2000 ms). */
  readonly flushCapMillis?: number;
  /** Time kept free before the Lambda deadline (default 500 ms). */
  readonly flushSafetyMarginMillis?: number;
}

export type SqsHandler = (event: SQSEvent, context: LambdaContext) => Promise<SQSBatchResponse>;

const w3c = new W3CTraceContextPropagator();
const xray = new AWSXRayPropagator();

/** `arn:aws:sqs:eu-west-1:123456789012:onboarding` → `onboarding`. */
export function queueNameFromArn(arn: string | undefined): string {
  if (!arn) return "unknown";
  const parts = arn.split(":");
  return parts.length >= 6 && parts[5] ? parts[5] : arn;
}

/**
 * The id Lambda can report for a record in `batchItemFailures`: its `messageId` when that is a non-empty string.
 * Lambda fails the WHOLE batch when an `itemIdentifier` is empty, null or not in the batch, so a record without one is
 * never reported (see the handler).
 */
export function messageIdOf(record: unknown): string | undefined {
  if (record === null || typeof record !== "object") return undefined;
  const id = (record as { messageId?: unknown }).messageId;
  return typeof id === "string" && id.length > 0 ? id : undefined;
}

/** The record's producer context: W3C message attributes, else `AWSTraceHeader`, else ROOT (new trace). */
export function extractRecordContext(record: SQSRecord): Context {
  try {
    return extractOrThrow(record);
  } catch {
    return ROOT_CONTEXT; // a malformed record (null, odd attribute shapes) has no usable context
  }
}

function extractOrThrow(record: SQSRecord): Context {
  const fromAttributes = w3c.extract(ROOT_CONTEXT, record.messageAttributes, lambdaMessageAttributeGetter);
  if (trace.getSpanContext(fromAttributes)) return fromAttributes;
  const header = record.attributes?.AWSTraceHeader;
  if (typeof header === "string" && header.length > 0) {
    const fromXray = xray.extract(ROOT_CONTEXT, { [AWSXRAY_TRACE_ID_HEADER]: header }, defaultTextMapGetter);
    if (trace.getSpanContext(fromXray)) return fromXray;
  }
  return ROOT_CONTEXT;
}

class RecordError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export function createHandler(deps: HandlerDeps): SqsHandler {
  const { tracer, logger } = deps;
  const flushCap = deps.flushCapMillis ?? 2000;
  const safetyMargin = deps.flushSafetyMarginMillis ?? 500;
  let coldStart = true;

  const processRecord = async (
    record: SQSRecord,
    queueName: string,
    parent: Context,
    batchLink: Link,
  ): Promise<boolean> => {
    const span = tracer.startSpan(
      `process ${queueName}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_VALUE_AWS_SQS,
          [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
          [ATTR_MESSAGING_OPERATION_NAME]: "process",
          [ATTR_MESSAGING_DESTINATION_NAME]: queueName,
          [ATTR_MESSAGING_MESSAGE_ID]: record.messageId,
        },
        links: [batchLink],
      },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    try {
      let body: unknown;
      try {
        body = JSON.parse(record.body);
      } catch {
        throw new RecordError("invalid_json", "message body is not valid JSON");
      }
      const result = validateOnboardingMessage(body);
      if (!result.ok) throw new RecordError("invalid_message", "message failed validation", result.errors);
      const outcome = await deps.processMessage(result.value, record, ctx);
      span.setAttribute("onboarding.outcome", outcome);
      logger.info(
        outcome === "duplicate" ? "onboarding.duplicate" : "onboarding.processed",
        { message_id: record.messageId, request_id: result.value.request_id, customer_id: result.value.customer_id },
        ctx,
      );
      return true;
    } catch (error) {
      const errorType = error instanceof RecordError ? error.errorType : ((error as Error)?.name ?? "Error");
      span.setAttribute(ATTR_ERROR_TYPE, errorType);
      if (!(error instanceof RecordError)) span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message ?? String(error) });
      logger.error(
        "onboarding.record_failed",
        {
          message_id: record.messageId,
          error_type: errorType,
          error,
          ...(error instanceof RecordError && error.details ? { fields: error.details } : {}),
        },
        ctx,
      );
      return false;
    } finally {
      span.end();
    }
  };

  /**
   * Never throws: a thrown error or an unusable `itemIdentifier` would make Lambda retry the whole batch. A record
   * with a messageId that cannot be processed fails alone (batchItemFailures); a record without one cannot be named
   * to Lambda, so it is logged in full (the log is then its only copy) and skipped.
   */
  return async (event, context) => {
    const all: unknown[] = Array.isArray(event?.Records) ? event.Records : [];
    const records: SQSRecord[] = [];
    for (let index = 0; index < all.length; index++) {
      if (messageIdOf(all[index]) !== undefined) records.push(all[index] as SQSRecord);
      else logger.error("onboarding.record_unidentifiable", { index, record: all[index] });
    }
    const failures: SQSBatchItemFailure[] = [];
    const settled = new Set<string>();
    try {
      await processBatch(records, all.length, context, failures, settled);
    } catch (error) {
      // Unexpected (the per-record path catches its own errors): whatever did not finish is retried, alone.
      logger.error("onboarding.batch_failed", { error, aws_request_id: context?.awsRequestId });
      for (const record of records) {
        if (!settled.has(record.messageId)) failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };

  async function processBatch(
    records: SQSRecord[],
    received: number,
    context: LambdaContext,
    failures: SQSBatchItemFailure[],
    settled: Set<string>,
  ): Promise<void> {
    const queueName = queueNameFromArn(records[0]?.eventSourceARN);
    const parents = records.map(extractRecordContext);
    const links: Link[] = [];
    for (const parent of parents) {
      const spanContext = trace.getSpanContext(parent);
      if (spanContext) links.push({ context: spanContext });
    }
    const batchSpan = tracer.startSpan(
      `receive ${queueName}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_VALUE_AWS_SQS,
          [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_RECEIVE,
          [ATTR_MESSAGING_OPERATION_NAME]: "receive",
          [ATTR_MESSAGING_DESTINATION_NAME]: queueName,
          [ATTR_MESSAGING_BATCH_MESSAGE_COUNT]: received,
          [ATTR_FAAS_TRIGGER]: FAAS_TRIGGER_VALUE_PUBSUB,
          [ATTR_FAAS_COLDSTART]: coldStart,
          ...(context?.awsRequestId ? { [ATTR_FAAS_INVOCATION_ID]: context.awsRequestId } : {}),
          ...(context?.invokedFunctionArn ? { [ATTR_CLOUD_RESOURCE_ID]: context.invokedFunctionArn } : {}),
        },
        links,
      },
      ROOT_CONTEXT,
    );
    coldStart = false;
    const batchLink: Link = { context: batchSpan.spanContext() };
    const skipped = received - records.length;
    try {
      for (let i = 0; i < records.length; i++) {
        const record = records[i];
        const ok = await processRecord(record, queueNameFromArn(record.eventSourceARN), parents[i], batchLink);
        if (!ok) failures.push({ itemIdentifier: record.messageId });
        settled.add(record.messageId);
      }
      if (failures.length > 0 || skipped > 0) {
        batchSpan.setStatus({
          code: SpanStatusCode.ERROR,
          message: `${failures.length} record(s) failed, ${skipped} unidentifiable record(s) skipped`,
        });
      }
      logger.info(
        "onboarding.batch_done",
        { records: received, failed: failures.length, skipped, aws_request_id: context?.awsRequestId },
        trace.setSpan(ROOT_CONTEXT, batchSpan),
      );
    } finally {
      batchSpan.end();
      const remaining =
        typeof context?.getRemainingTimeInMillis === "function" ? context.getRemainingTimeInMillis() : flushCap;
      const deadline = Math.max(0, Math.min(remaining - safetyMargin, flushCap));
      try {
        const outcome = await deps.flush(deadline);
        if (outcome !== "flushed") logger.warn("telemetry.flush_incomplete", { outcome, deadline_ms: deadline });
      } catch {
        // flush must never fail the invocation
      }
    }
  }
}

const telemetry = initLambdaTelemetry();

/**
 * The store for this environment: the DynamoDB table named by `ONBOARDING_TABLE_NAME` (what the stack and the local
 * stack set), else an in-memory one (per environment only: duplicates across environments are not detected), for unit tests.
 */
function createStore(env: NodeJS.ProcessEnv = process.env): OnboardingStore {
  const tableName = env.ONBOARDING_TABLE_NAME?.trim();
  if (tableName)
    return createDynamoOnboardingStore({ call: createDynamoCall(env), tableName, tracer: telemetry.tracer });
  return createInMemoryOnboardingStore();
}
const store = createStore();

/** Settles when the init phase's telemetry setup (secret read, exporter created) is done; never rejects. */
export const telemetryReady: Promise<void> = telemetry.ready;

/** The Lambda entrypoint (`CMD ["handler.handler"]`). */
export const handler: SqsHandler = createHandler({
  tracer: telemetry.tracer,
  logger: telemetry.logger,
  flush: telemetry.flush,
  processMessage: (message, _record, ctx) => processOnboarding(message, store, ctx),
});
