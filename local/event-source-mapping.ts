/**
 * An SQS → Lambda event-source-mapping emulator, following what the Lambda service does for a standard queue with
 * `FunctionResponseTypes: ["ReportBatchItemFailures"]`
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html):
 *
 * - long-polls the queue (`WaitTimeSeconds`, all system and message attributes);
 * - gathers up to `batchSize` records, waiting at most `maximumBatchingWindowMs` for a fuller batch;
 * - builds `SQSRecord`s exactly as Lambda does (lowercase keys, `messageAttributes[k].stringValue`,
 *   `attributes.ApproximateReceiveCount`, `eventSource: "aws:sqs"`, `eventSourceARN`, `awsRegion`);
 * - invokes the function with a Context whose `getRemainingTimeInMillis()` counts down from the function timeout;
 *   the timeout starts when the handler is invoked in a ready environment: getting one (waiting for a free one, or a
 *   cold start with its Init phase) is not charged to it, as on Lambda
 *   (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html — the Init phase has its own 10 s
 *   limit);
 * - deletes the records that succeeded; records named in `batchItemFailures` stay in flight and reappear after the
 *   queue's visibility timeout, so a poison record reaches the DLQ after `maxReceiveCount` receives;
 * - a handler that throws, times out, or returns an invalid response fails the whole batch (nothing is deleted).
 *
 * The emulator does not know where the function runs: `invoke` is any async function (in-process handler, or an
 * IPC call into the lambda host process — see lambda-host.ts).
 */
import { randomUUID } from "node:crypto";
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from "aws-lambda";
import { LAMBDA_SERVICE_NAME } from "../packages/traced-components/src/contract/service-names";

/** Serializable facts about one invocation; {@link createLambdaContext} turns them into a Lambda `Context`. */
export interface InvocationInfo {
  readonly awsRequestId: string;
  /** Epoch milliseconds at which the function times out. */
  readonly deadlineMs: number;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
}

export type Invoke = (event: SQSEvent, info: InvocationInfo) => Promise<SQSBatchResponse | void | undefined>;

/** A ready execution environment, lent for one invocation. */
export interface EnvironmentLease {
  readonly invoke: Invoke;
  /** Set when the environment was started for this invocation (a cold start): its Init phase, in ms. */
  readonly initDurationMs?: number;
  /** Called once the invocation has settled (after a timeout, only when the handler has actually returned). */
  release(): void;
}

/**
 * Execution environments that need to be ready before an invocation (e.g. lambda-host.ts processes). `acquire()`
 * waits for an idle one or starts a fresh one; that time is not part of the function timeout.
 */
export interface ExecutionEnvironments {
  acquire(): Promise<EnvironmentLease>;
}

export interface InvocationSummary {
  readonly awsRequestId: string;
  readonly records: number;
  /** The batch's message ids, and those left for redelivery. */
  readonly messageIds: readonly string[];
  readonly failedMessageIds: readonly string[];
  /** Records deleted from the queue. */
  readonly succeeded: number;
  /** Records left for redelivery (reported failures, or the whole batch when the invocation failed). */
  readonly failed: number;
  /** From the handler's invocation to its result (the part the function timeout applies to). */
  readonly durationMs: number;
  /** The Init phase of an environment started for this invocation (a cold start), in ms. */
  readonly initDurationMs?: number;
  /** Set when the whole batch failed (throw, timeout, invalid response, failed init). */
  readonly error?: string;
}

export interface EventSourceMappingOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  /** The function: an always-ready `Invoke` (in-process), or environments that are acquired per invocation. */
  readonly invoke: Invoke | ExecutionEnvironments;
  /** Records per invocation (Lambda: 1–10 without a batching window). @default 10 */
  readonly batchSize?: number;
  /** Longest wait for a fuller batch after the first record arrives. @default 0 */
  readonly maximumBatchingWindowMs?: number;
  /** Function timeout; the invocation fails (whole batch retried) when exceeded. @default 5000 */
  readonly functionTimeoutMs?: number;
  /** Concurrent pollers / invocations. @default 1 */
  readonly concurrency?: number;
  /**
   * Long-poll duration per ReceiveMessage. Lambda uses 20 s; locally 1 s, because `stop()` lets a pending poll finish
   * rather than aborting it (an aborted long poll can still claim a message server-side and hide it for a visibility
   * timeout). @default 1
   */
  readonly waitTimeSeconds?: number;
  /** `ReportBatchItemFailures` enabled on the mapping. @default true */
  readonly reportBatchItemFailures?: boolean;
  /** @default LAMBDA_SERVICE_NAME ("onboarding-lambda") */
  readonly functionName?: string;
  /** @default 512 */
  readonly memoryLimitInMB?: number;
  readonly onInvocation?: (summary: InvocationSummary) => void;
  /** Poll errors (e.g. the SQS server went away); the poller backs off and retries. */
  readonly onError?: (error: unknown) => void;
}

export interface EventSourceMapping {
  readonly invocations: InvocationSummary[];
  /** Resolves once no invocation is running and the pollers have stopped. */
  stop(): Promise<void>;
}

/** Converts SDK message attributes (ReceiveMessage) into Lambda's lowercase record shape. */
export function toLambdaMessageAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    out[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString("base64") } : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((bytes) => Buffer.from(bytes).toString("base64")),
      dataType: value.DataType ?? "String",
    };
  }
  return out;
}

/** Builds the `SQSRecord` Lambda would deliver for a received message. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const system = message.Attributes ?? {};
  const attributes: SQSRecord["attributes"] = {
    ApproximateReceiveCount: system.ApproximateReceiveCount ?? "1",
    SentTimestamp: system.SentTimestamp ?? String(Date.now()),
    SenderId: system.SenderId ?? "000000000000",
    ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  };
  if (system.AWSTraceHeader !== undefined) attributes.AWSTraceHeader = system.AWSTraceHeader;
  if (system.SequenceNumber !== undefined) attributes.SequenceNumber = system.SequenceNumber;
  if (system.MessageGroupId !== undefined) attributes.MessageGroupId = system.MessageGroupId;
  if (system.MessageDeduplicationId !== undefined) attributes.MessageDeduplicationId = system.MessageDeduplicationId;
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes,
    messageAttributes: toLambdaMessageAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? "",
    ...(message.MD5OfMessageAttributes !== undefined ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** A Lambda `Context` for one invocation; `getRemainingTimeInMillis()` counts down to `info.deadlineMs`. */
export function createLambdaContext(info: InvocationInfo): Context {
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name}() is not supported by the local Lambda emulator (deprecated callback style)`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: info.functionName,
    functionVersion: info.functionVersion,
    invokedFunctionArn: info.invokedFunctionArn,
    memoryLimitInMB: info.memoryLimitInMB,
    awsRequestId: info.awsRequestId,
    logGroupName: info.logGroupName,
    logStreamName: info.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, info.deadlineMs - Date.now()),
    done: unsupported("done"),
    fail: unsupported("fail"),
    succeed: unsupported("succeed"),
  };
}

/** Adapter for a handler running in this process. */
export function invokeInProcess(
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>,
): Invoke {
  return (event, info) => handler(event, createLambdaContext(info));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts polling; call `stop()` to end it. */
export function startEventSourceMapping(options: EventSourceMappingOptions): EventSourceMapping {
  const batchSize = options.batchSize ?? 10;
  const windowMs = options.maximumBatchingWindowMs ?? 0;
  const timeoutMs = options.functionTimeoutMs ?? 5000;
  const concurrency = options.concurrency ?? 1;
  const waitTimeSeconds = options.waitTimeSeconds ?? 1;
  const reportBatchItemFailures = options.reportBatchItemFailures ?? true;
  const functionName = options.functionName ?? LAMBDA_SERVICE_NAME;
  const accountId = options.queueArn.split(":")[4] ?? "000000000000";
  if (batchSize < 1 || (windowMs === 0 && batchSize > 10)) {
    throw new Error(`batchSize must be 1–10 without a batching window (got ${batchSize})`);
  }

  let stopping = false;
  const invocations: InvocationSummary[] = [];

  async function receive(max: number, waitSeconds: number): Promise<Message[]> {
    const result = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: Math.min(10, max),
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    return result.Messages ?? [];
  }

  /** One batch: the first receive long-polls, then the batching window tops it up. */
  async function gatherBatch(): Promise<Message[]> {
    const batch = await receive(batchSize, waitTimeSeconds);
    if (batch.length === 0 || windowMs <= 0) return batch;
    const windowEnd = Date.now() + windowMs;
    while (batch.length < batchSize && !stopping) {
      const remaining = windowEnd - Date.now();
      if (remaining <= 0) break;
      const more = await receive(batchSize - batch.length, Math.floor(remaining / 1000));
      batch.push(...more);
      if (more.length === 0) await sleep(Math.min(20, remaining));
    }
    return batch;
  }

  const environments: ExecutionEnvironments =
    typeof options.invoke === "function"
      ? { acquire: async () => ({ invoke: options.invoke as Invoke, release: () => undefined }) }
      : options.invoke;

  async function runInvocation(messages: Message[]): Promise<void> {
    const records = messages.map((message) => toSqsRecord(message, options.queueArn, options.region));
    const awsRequestId = randomUUID();
    let lease: EnvironmentLease | undefined;
    let initError: string | undefined;
    try {
      lease = await environments.acquire();
    } catch (caught) {
      initError = `Init failed: ${caught instanceof Error ? caught.message : String(caught)}`;
    }
    // The function timeout starts here, in a ready environment.
    const started = Date.now();
    const info: InvocationInfo = {
      awsRequestId,
      deadlineMs: started + timeoutMs,
      functionName,
      functionVersion: "$LATEST",
      invokedFunctionArn: `arn:aws:lambda:${options.region}:${accountId}:function:${functionName}`,
      memoryLimitInMB: String(options.memoryLimitInMB ?? 512),
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: `local/[$LATEST]${randomUUID().replace(/-/g, "")}`,
    };

    let failedIds: Set<string>;
    let error: string | undefined;
    try {
      if (!lease) throw new Error(initError);
      const { invoke } = lease;
      const invocation = (async () => invoke({ Records: records }, info))();
      // The environment stays busy until the handler returns, even after a timeout.
      const release = lease.release.bind(lease);
      invocation.then(release, release);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`)),
          timeoutMs,
        );
      });
      const response = await Promise.race([invocation, timeout]).finally(() => clearTimeout(timer));
      failedIds = reportBatchItemFailures ? failuresFrom(response, records) : new Set();
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
      failedIds = new Set(records.map((record) => record.messageId));
    }

    const succeeded = records.filter((record) => !failedIds.has(record.messageId));
    for (let i = 0; i < succeeded.length; i += 10) {
      const chunk = succeeded.slice(i, i + 10);
      await options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: chunk.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
        }),
      );
    }
    // Failed records are left alone: they become visible again when the visibility timeout expires.
    const summary: InvocationSummary = {
      awsRequestId: info.awsRequestId,
      records: records.length,
      messageIds: records.map((record) => record.messageId),
      failedMessageIds: records.filter((record) => failedIds.has(record.messageId)).map((record) => record.messageId),
      succeeded: succeeded.length,
      failed: records.length - succeeded.length,
      durationMs: Date.now() - started,
      ...(lease?.initDurationMs !== undefined ? { initDurationMs: lease.initDurationMs } : {}),
      ...(error !== undefined ? { error } : {}),
    };
    invocations.push(summary);
    options.onInvocation?.(summary);
  }

  async function poller(): Promise<void> {
    let backoffMs = 100;
    while (!stopping) {
      try {
        const batch = await gatherBatch();
        if (batch.length > 0) await runInvocation(batch);
        backoffMs = 100;
      } catch (caught) {
        if (stopping) break;
        options.onError?.(caught);
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 2000);
      }
    }
  }

  const pollers = Array.from({ length: concurrency }, () => poller());
  let stopped: Promise<void> | undefined;
  return {
    invocations,
    stop() {
      if (!stopped) {
        stopping = true;
        stopped = Promise.all(pollers).then(() => undefined);
      }
      return stopped;
    },
  };
}

/**
 * Lambda's partial-batch rules: an empty/absent response or empty `batchItemFailures` means all succeeded; an entry
 * whose `itemIdentifier` is missing or names no record in the batch fails the whole batch.
 */
function failuresFrom(response: SQSBatchResponse | void | undefined, records: SQSRecord[]): Set<string> {
  const failures = response?.batchItemFailures ?? [];
  const ids = new Set(records.map((record) => record.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    if (!failure?.itemIdentifier || !ids.has(failure.itemIdentifier)) {
      throw new Error(`invalid batchItemFailures entry: ${JSON.stringify(failure)}`);
    }
    failed.add(failure.itemIdentifier);
  }
  return failed;
}
