/**
 * TracedQueue: an SQS queue with its dead-letter queue, encrypted with its own customer-managed key, reachable only
 * over TLS, with alarms on the DLQ and on message age, and typed grants so callers never hand-write ARNs.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createAlarm } from "./alarms";
import { denyInsecureTransport, policyDocument, type PolicyStatement } from "./iam";
import { DEFAULT_MAX_RECEIVE_COUNT, minimumVisibilityTimeout, type QueueConsumer } from "./delivery-rules";
import { createCustomerManagedKey } from "./kms";
import { checkIntegerRange, throwIfInvalid } from "./validation";

const DAY = 24 * 60 * 60;

/** Secure, documented defaults; caller args override them field by field. */
export const QUEUE_DEFAULTS = {
  messageRetentionSeconds: 4 * DAY,
  deadLetter: { maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT, retentionSeconds: 14 * DAY },
  /** Visibility timeout when no consumer is described (SQS's own default). */
  visibilityTimeoutSeconds: 30,
  receiveWaitTimeSeconds: 20,
  alarms: { deadLetterDepth: 0, oldestMessageAgeSeconds: 300 },
} as const;

/** SQS limits. */
const MAX_RETENTION_SECONDS = 14 * DAY;
const MIN_RETENTION_SECONDS = 60;
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

/**
 * A queue as the consumer and producer components take it: a TracedQueue, or any SQS queue encrypted with a
 * customer-managed KMS key, by its ARN, URL and key ARN (plain data, so it also crosses the provider boundary).
 */
export interface QueueRef {
  /**
   * ARN of the SQS queue.
   * @example queue.arn
   */
  readonly arn: pulumi.Input<string>;
  /**
   * URL of the SQS queue (producers send to it).
   * @example queue.url
   */
  readonly url: pulumi.Input<string>;
  /**
   * ARN of the KMS key the queue is encrypted with (consumers decrypt, producers encrypt with it).
   * @example queue.keyArn
   */
  readonly keyArn: pulumi.Input<string>;
  /**
   * The queue's visibility timeout in seconds; when given, a consumer checks it is at least 6 × its timeout + its
   * batching window.
   * @default not checked
   * @example 181
   */
  readonly visibilityTimeoutSeconds?: number;
}

/** The dead-letter queue of a {@link TracedQueue}. */
export interface DeadLetterArgs {
  /**
   * Receives before a message moves to the DLQ (1 to 1000).
   * @default 5
   * @example 3
   */
  readonly maxReceiveCount?: number;
  /**
   * DLQ retention in seconds (60 to 1209600), longer than `messageRetentionSeconds`.
   * @default 1209600 (14 days)
   * @example 1036800
   */
  readonly retentionSeconds?: number;
}

/** The alarms of a {@link TracedQueue}. */
export interface QueueAlarmsArgs {
  /**
   * The SNS topic every alarm notifies.
   * @example alarmTopic.topicArn
   */
  readonly topicArn: pulumi.Input<string>;
  /**
   * Alarm when the DLQ holds more than this many messages.
   * @default 0
   * @example 10
   */
  readonly deadLetterDepth?: number;
  /**
   * Alarm when the oldest message is older than this, in seconds (60 to the queue's retention).
   * @default 300
   * @example 900
   */
  readonly oldestMessageAgeSeconds?: number;
}

export interface TracedQueueArgs {
  /**
   * The consumer of this queue. The visibility timeout is computed from it as
   * `6 × timeoutSeconds + batchingWindowSeconds` (AWS's guidance for Lambda event sources), so a slow batch is not
   * delivered twice.
   * @default no consumer: visibility timeout 30 s
   * @example { timeoutSeconds: 30, batchingWindowSeconds: 1 }
   */
  readonly consumer?: QueueConsumer;
  /**
   * Explicit visibility timeout in seconds. When `consumer` is given it must be at least
   * `6 × consumer.timeoutSeconds + consumer.batchingWindowSeconds`.
   * @default computed from `consumer`, else 30
   * @example 240
   */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * How long an unconsumed message stays on the queue, in seconds (60 to 1209600).
   * @default 345600 (4 days)
   * @example 86400
   */
  readonly messageRetentionSeconds?: number;
  /**
   * The dead-letter queue. A message received `maxReceiveCount` times without being deleted moves there.
   * Its retention must be longer than the queue's, so a message never expires on the way.
   * @default { maxReceiveCount: 5, retentionSeconds: 1209600 }
   * @example { maxReceiveCount: 3 }
   */
  readonly deadLetter?: DeadLetterArgs;
  /**
   * Alarms on DLQ depth and oldest-message age, notifying `topicArn`.
   * @default no alarms
   * @example { topicArn: alarmTopic.topicArn }
   */
  readonly alarms?: QueueAlarmsArgs;
}

/** The visibility timeout the queue gets: the explicit one, else computed from the consumer, else 30. */
export function resolveVisibilityTimeout(args: TracedQueueArgs): number {
  if (args.visibilityTimeoutSeconds !== undefined) return args.visibilityTimeoutSeconds;
  if (args.consumer) return minimumVisibilityTimeout(args.consumer);
  return QUEUE_DEFAULTS.visibilityTimeoutSeconds;
}

/** Every problem with the args (empty when valid). Pure, so it is tested without Pulumi. */
export function validateTracedQueueArgs(args: TracedQueueArgs): string[] {
  const problems: string[] = [];
  const retention = args.messageRetentionSeconds ?? QUEUE_DEFAULTS.messageRetentionSeconds;
  const dlqRetention = args.deadLetter?.retentionSeconds ?? QUEUE_DEFAULTS.deadLetter.retentionSeconds;
  checkIntegerRange(problems, "messageRetentionSeconds", retention, MIN_RETENTION_SECONDS, MAX_RETENTION_SECONDS);
  checkIntegerRange(
    problems,
    "deadLetter.retentionSeconds",
    dlqRetention,
    MIN_RETENTION_SECONDS,
    MAX_RETENTION_SECONDS,
  );
  if (dlqRetention <= retention) {
    problems.push(
      `deadLetter.retentionSeconds (${dlqRetention}) must be longer than messageRetentionSeconds (${retention}), ` +
        `or messages expire before anyone looks at the DLQ. Raise deadLetter.retentionSeconds (max ` +
        `${MAX_RETENTION_SECONDS}) or lower messageRetentionSeconds.`,
    );
  }
  checkIntegerRange(problems, "deadLetter.maxReceiveCount", args.deadLetter?.maxReceiveCount, 1, 1000);
  if (args.consumer) {
    checkIntegerRange(problems, "consumer.timeoutSeconds", args.consumer.timeoutSeconds, 1, 900);
    checkIntegerRange(problems, "consumer.batchingWindowSeconds", args.consumer.batchingWindowSeconds, 0, 300);
  }
  const visibility = resolveVisibilityTimeout(args);
  checkIntegerRange(problems, "visibilityTimeoutSeconds", visibility, 0, MAX_VISIBILITY_SECONDS);
  if (args.consumer && args.visibilityTimeoutSeconds !== undefined) {
    const minimum = minimumVisibilityTimeout(args.consumer);
    if (args.visibilityTimeoutSeconds < minimum) {
      problems.push(
        `visibilityTimeoutSeconds (${args.visibilityTimeoutSeconds}) must be at least 6 × consumer.timeoutSeconds ` +
          `(${args.consumer.timeoutSeconds}) + consumer.batchingWindowSeconds ` +
          `(${args.consumer.batchingWindowSeconds ?? 0}) = ${minimum}, or a batch still being processed is ` +
          `delivered again. Raise it to ${minimum} or omit it to have it computed.`,
      );
    }
  }
  if (args.alarms) {
    checkIntegerRange(problems, "alarms.deadLetterDepth", args.alarms.deadLetterDepth, 0, 1_000_000);
    checkIntegerRange(problems, "alarms.oldestMessageAgeSeconds", args.alarms.oldestMessageAgeSeconds, 60, retention);
  }
  return problems;
}

/** An SQS work queue and its dead-letter queue, encrypted with their own KMS key, TLS-only, with optional alarms. */
export class TracedQueue extends pulumi.ComponentResource {
  /** The work queue. */
  readonly queue: aws.sqs.Queue;
  /** The dead-letter queue. */
  readonly deadLetterQueue: aws.sqs.Queue;
  /** The customer-managed key encrypting both queues. */
  readonly key: aws.kms.Key;
  readonly url: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;
  readonly deadLetterUrl: pulumi.Output<string>;
  readonly deadLetterArn: pulumi.Output<string>;
  readonly deadLetterName: pulumi.Output<string>;
  readonly keyArn: pulumi.Output<string>;
  /** The visibility timeout in effect (plain, so consumers can validate against it). */
  readonly visibilityTimeoutSeconds: number;
  /** The alarms created (empty when `alarms` is false). */
  readonly alarms: aws.cloudwatch.MetricAlarm[];

  constructor(name: string, args: TracedQueueArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("TracedQueue", name, validateTracedQueueArgs(args));
    super("traced:aws:TracedQueue", name, {}, opts);
    this.visibilityTimeoutSeconds = resolveVisibilityTimeout(args);

    this.key = createCustomerManagedKey(
      `${name}-key`,
      { description: `Encrypts the ${name} queue and its dead-letter queue`, viaServices: ["sqs"] },
      this,
    );
    this.deadLetterQueue = this.createDeadLetterQueue(name, args);
    this.queue = this.createQueue(name, args);
    this.denyInsecureTransport(name, this.queue, "queue");
    this.denyInsecureTransport(name, this.deadLetterQueue, "dlq");
    this.alarms = args.alarms ? this.createAlarms(name, args.alarms) : [];

    this.url = this.queue.url;
    this.arn = this.queue.arn;
    this.name = this.queue.name;
    this.deadLetterUrl = this.deadLetterQueue.url;
    this.deadLetterArn = this.deadLetterQueue.arn;
    this.deadLetterName = this.deadLetterQueue.name;
    this.keyArn = this.key.arn;
    this.registerOutputs({
      url: this.url,
      arn: this.arn,
      deadLetterUrl: this.deadLetterUrl,
      deadLetterArn: this.deadLetterArn,
      keyArn: this.keyArn,
    });
  }

  /** See {@link queueSendStatements}. */
  get sendStatements(): PolicyStatement[] {
    return queueSendStatements(this);
  }

  /** See {@link queueConsumeStatements}. */
  get consumeStatements(): PolicyStatement[] {
    return queueConsumeStatements(this);
  }

  /** Attaches an inline policy to `role` allowing it to send to this queue. */
  grantSend(name: string, role: aws.iam.Role, opts?: pulumi.CustomResourceOptions): aws.iam.RolePolicy {
    return this.grant(name, role, this.sendStatements, opts);
  }

  /** Attaches an inline policy to `role` allowing it to consume this queue. */
  grantConsume(name: string, role: aws.iam.Role, opts?: pulumi.CustomResourceOptions): aws.iam.RolePolicy {
    return this.grant(name, role, this.consumeStatements, opts);
  }

  private grant(
    name: string,
    role: aws.iam.Role,
    statements: PolicyStatement[],
    opts?: pulumi.CustomResourceOptions,
  ): aws.iam.RolePolicy {
    const parent = opts?.parent ?? role;
    return new aws.iam.RolePolicy(
      name,
      { role: role.name, policy: policyDocument(statements, { parent }) },
      { parent, ...opts },
    );
  }

  private createDeadLetterQueue(name: string, args: TracedQueueArgs): aws.sqs.Queue {
    return new aws.sqs.Queue(
      `${name}-dlq`,
      {
        messageRetentionSeconds: args.deadLetter?.retentionSeconds ?? QUEUE_DEFAULTS.deadLetter.retentionSeconds,
        kmsMasterKeyId: this.key.arn,
        kmsDataKeyReusePeriodSeconds: 300,
      },
      { parent: this },
    );
  }

  private createQueue(name: string, args: TracedQueueArgs): aws.sqs.Queue {
    const maxReceiveCount = args.deadLetter?.maxReceiveCount ?? QUEUE_DEFAULTS.deadLetter.maxReceiveCount;
    const queueArgs: aws.sqs.QueueArgs = {
      visibilityTimeoutSeconds: this.visibilityTimeoutSeconds,
      messageRetentionSeconds: args.messageRetentionSeconds ?? QUEUE_DEFAULTS.messageRetentionSeconds,
      receiveWaitTimeSeconds: QUEUE_DEFAULTS.receiveWaitTimeSeconds,
      kmsMasterKeyId: this.key.arn,
      kmsDataKeyReusePeriodSeconds: 300,
      redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: this.deadLetterQueue.arn, maxReceiveCount }),
    };
    return new aws.sqs.Queue(name, queueArgs, { parent: this });
  }

  /** A queue policy denying every request made without TLS. */
  private denyInsecureTransport(name: string, queue: aws.sqs.Queue, suffix: string): aws.sqs.QueuePolicy {
    const policy = policyDocument([denyInsecureTransport(["sqs:*"], [queue.arn])], { parent: this });
    return new aws.sqs.QueuePolicy(`${name}-${suffix}-tls-only`, { queueUrl: queue.url, policy }, { parent: this });
  }

  private createAlarms(
    name: string,
    alarms: Exclude<TracedQueueArgs["alarms"], false | undefined>,
  ): aws.cloudwatch.MetricAlarm[] {
    const depth = alarms.deadLetterDepth ?? QUEUE_DEFAULTS.alarms.deadLetterDepth;
    const age = alarms.oldestMessageAgeSeconds ?? QUEUE_DEFAULTS.alarms.oldestMessageAgeSeconds;
    return [
      createAlarm(
        `${name}-dlq-depth`,
        alarms.topicArn,
        {
          alarmDescription: `Messages are landing in the ${name} dead-letter queue: inspect and redrive them.`,
          namespace: "AWS/SQS",
          metricName: "ApproximateNumberOfMessagesVisible",
          dimensions: { QueueName: this.deadLetterQueue.name },
          statistic: "Maximum",
          threshold: depth,
          // One message in the DLQ is already worth a look.
          evaluationPeriods: 1,
          datapointsToAlarm: 1,
        },
        this,
      ),
      createAlarm(
        `${name}-oldest-message-age`,
        alarms.topicArn,
        {
          alarmDescription: `The oldest message on ${name} is older than ${age} s: the consumer is falling behind.`,
          namespace: "AWS/SQS",
          metricName: "ApproximateAgeOfOldestMessage",
          dimensions: { QueueName: this.queue.name },
          statistic: "Maximum",
          threshold: age,
        },
        this,
      ),
    ];
  }
}

/**
 * Statements allowing `SendMessage` to `queue` (and the key operations SSE-KMS needs for it), plus
 * `GetQueueAttributes`: a producer's readiness check asks the queue for an attribute (the API's `/readyz`,
 * app/src/publisher.ts `ready()`), and without it answers 503 forever.
 */
export function queueSendStatements(queue: QueueRef): PolicyStatement[] {
  return [
    { sid: "SendToQueue", actions: ["sqs:SendMessage", "sqs:GetQueueAttributes"], resources: [queue.arn] },
    { sid: "EncryptForQueue", actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [queue.keyArn] },
  ];
}

/** Statements a Lambda event source mapping needs to consume `queue` (and decrypt its messages). */
export function queueConsumeStatements(queue: QueueRef): PolicyStatement[] {
  return [
    {
      sid: "ConsumeQueue",
      actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
      resources: [queue.arn],
    },
    { sid: "DecryptFromQueue", actions: ["kms:Decrypt"], resources: [queue.keyArn] },
  ];
}
