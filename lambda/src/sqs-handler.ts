/**
 * The SQS consumer as a factory: no side effects on import (lambda/src/handler.ts wires it to the telemetry and the
 * store). Spans follow the semantic conventions for an SQS-triggered Lambda (semantic-conventions
 * docs/faas/aws-lambda.md, "SQS Event" / "SQS Message"):
 * - per invocation one CONSUMER span `process <queue>` (`multiple_sources process` when the batch mixes queues) with
 *   `messaging.operation.type=process`, `faas.trigger=pubsub`, `faas.invocation_id`, `faas.coldstart`,
 *   `aws.lambda.invoked_arn` and `cloud.account.id` (the ARN's fifth `:` field), linking every record's context;
 * - per record one CONSUMER span `process <queue>` (`faas.trigger=pubsub`) whose parent is the record's context (the
 *   `OTEL_PROPAGATORS` fields in its message attributes, else the `AWSTraceHeader` system attribute, else a new root)
 *   and which links back to the invocation span. The convention makes the invocation span the parent and the
 *   producer a link; this project keeps each record in its producer's trace (one trace per request) instead.
 * The record's context keeps its baggage, so `processMessage` sees what the producer put there. Bad records are
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
  type Attributes,
  type Context,
  type Link,
  type Tracer,
} from "@opentelemetry/api";
import { AWSXRayPropagator, AWSXRAY_TRACE_ID_HEADER } from "@opentelemetry/propagator-aws-xray";
import { ATTR_ERROR_TYPE } from "@opentelemetry/semantic-conventions";
import {
  ATTR_AWS_LAMBDA_INVOKED_ARN,
  ATTR_CLOUD_ACCOUNT_ID,
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
  MESSAGING_SYSTEM_VALUE_AWS_SQS,
} from "../../telemetry/semconv";
import type { Logger } from "../../telemetry/logger";
import { configuredPropagation, type ResolvedPropagation } from "../../telemetry/propagation";
import type { FlushOutcome } from "../../telemetry/provider";
import { lambdaMessageAttributeGetter } from "../../telemetry/sqs-carriers";
import { validateOnboardingMessage, type OnboardingMessage } from "../../contract/onboarding";
import type { ProcessOutcome } from "./onboarding";

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
  /** How record contexts are read from message attributes. @default the process's `OTEL_PROPAGATORS` */
  readonly propagation?: ResolvedPropagation;
}

export type SqsHandler = (event: SQSEvent, context: LambdaContext) => Promise<SQSBatchResponse>;

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

/**
 * The record's producer context: the `OTEL_PROPAGATORS` fields in its message attributes (trace context and baggage),
 * else the `AWSTraceHeader` system attribute (what AWS services and X-Ray-instrumented SDKs set; skipped with
 * `OTEL_PROPAGATORS=none`), else ROOT (new trace). Baggage from the attributes is kept in every case.
 */
export function extractRecordContext(
  record: SQSRecord,
  propagation: ResolvedPropagation = configuredPropagation(),
): Context {
  try {
    return extractOrThrow(record, propagation);
  } catch {
    return ROOT_CONTEXT; // a malformed record (null, odd attribute shapes) has no usable context
  }
}

function extractOrThrow(record: SQSRecord, propagation: ResolvedPropagation): Context {
  const fromAttributes = propagation.propagator.extract(
    ROOT_CONTEXT,
    record.messageAttributes,
    lambdaMessageAttributeGetter,
  );
  if (trace.getSpanContext(fromAttributes) || propagation.names.length === 0) return fromAttributes;
  const header = record.attributes?.AWSTraceHeader;
  if (typeof header === "string" && header.length > 0) {
    const fromXray = xray.extract(fromAttributes, { [AWSXRAY_TRACE_ID_HEADER]: header }, defaultTextMapGetter);
    if (trace.getSpanContext(fromXray)) return fromXray;
  }
  return fromAttributes;
}

/** `arn:aws:lambda:eu-west-1:123456789012:function:f:alias` → `123456789012` (the fifth `:` field), if there is one. */
export function accountIdFromArn(arn: string | undefined): string | undefined {
  const account = arn?.split(":")[4];
  return account ? account : undefined;
}

/**
 * The invocation span's name and destination: `process <queue>`, or — literally as the Lambda convention spells it —
 * `multiple_sources process` without a destination when the batch mixes queues.
 */
function batchSource(records: readonly SQSRecord[]): { spanName: string; destination?: string } {
  const arns = new Set(records.map((record) => record.eventSourceARN));
  if (arns.size > 1) return { spanName: "multiple_sources process" };
  const queueName = queueNameFromArn(records[0]?.eventSourceARN);
  return { spanName: `process ${queueName}`, destination: queueName };
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
  const propagation = deps.propagation ?? configuredPropagation();
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
          [ATTR_FAAS_TRIGGER]: FAAS_TRIGGER_VALUE_PUBSUB,
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
    const source = batchSource(records);
    const parents = records.map((record) => extractRecordContext(record, propagation));
    const links: Link[] = [];
    for (const parent of parents) {
      const spanContext = trace.getSpanContext(parent);
      if (spanContext) links.push({ context: spanContext });
    }
    const invokedArn = typeof context?.invokedFunctionArn === "string" ? context.invokedFunctionArn : undefined;
    const accountId = accountIdFromArn(invokedArn);
    const attributes: Attributes = {
      [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_VALUE_AWS_SQS,
      [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
      [ATTR_MESSAGING_OPERATION_NAME]: "process",
      ...(source.destination ? { [ATTR_MESSAGING_DESTINATION_NAME]: source.destination } : {}),
      [ATTR_MESSAGING_BATCH_MESSAGE_COUNT]: received,
      [ATTR_FAAS_TRIGGER]: FAAS_TRIGGER_VALUE_PUBSUB,
      [ATTR_FAAS_COLDSTART]: coldStart,
      ...(context?.awsRequestId ? { [ATTR_FAAS_INVOCATION_ID]: context.awsRequestId } : {}),
      ...(invokedArn ? { [ATTR_AWS_LAMBDA_INVOKED_ARN]: invokedArn } : {}),
      ...(accountId ? { [ATTR_CLOUD_ACCOUNT_ID]: accountId } : {}),
    };
    const batchSpan = tracer.startSpan(source.spanName, { kind: SpanKind.CONSUMER, attributes, links }, ROOT_CONTEXT);
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
