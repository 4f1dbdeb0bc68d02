/**
 * Publishes onboarding messages to SQS with a hand-written PRODUCER span and the propagation fields of
 * `OTEL_PROPAGATORS` (trace context and baggage by default; telemetry/propagation.ts) in MessageAttributes.
 * The SQS client is created once per process, with deliberate timeouts and retries so an unreachable or slow
 * queue turns into a fast, bounded failure (→ 503) instead of a hung request.
 */
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { GetQueueAttributesCommand, SQSClient, SendMessageCommand } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { SpanKind, SpanStatusCode, trace, type Context, type TextMapPropagator, type Tracer } from "@opentelemetry/api";
import { ATTR_ERROR_TYPE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from "@opentelemetry/semantic-conventions";
import { configuredPropagation } from "../../telemetry/propagation";
import {
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  MESSAGING_OPERATION_TYPE_VALUE_SEND,
  MESSAGING_SYSTEM_VALUE_AWS_SQS,
} from "../../telemetry/semconv";
import { sqsMessageAttributeSetter, type SqsMessageAttributes } from "../../telemetry/sqs-carriers";
import type { OnboardingMessage } from "../../contract/onboarding";

/** Client-side limits. Worst case for one publish ≈ `publishTimeoutMillis` (an AbortSignal caps the retries). */
export interface SqsTimeouts {
  /** TCP connect timeout per attempt. */
  readonly connectionTimeoutMillis: number;
  /** Socket inactivity timeout per attempt. */
  readonly requestTimeoutMillis: number;
  /** Total attempts (1 = no retry). */
  readonly maxAttempts: number;
  /** Hard cap on one publish, retries included. */
  readonly publishTimeoutMillis: number;
}

export const DEFAULT_SQS_TIMEOUTS: SqsTimeouts = {
  connectionTimeoutMillis: 1000,
  requestTimeoutMillis: 1500,
  maxAttempts: 2,
  publishTimeoutMillis: 2500,
};

export interface PublishResult {
  readonly messageId: string;
}

export interface Publisher {
  /** Sends one message; rejects with {@link PublishError} when SQS is unavailable. */
  publish(message: OnboardingMessage, parent: Context): Promise<PublishResult>;
  /** True when the queue answered GetQueueAttributes recently (cached). Never rejects. */
  ready(): Promise<boolean>;
  close(): void;
}

/**
 * SendMessage errors caused by the message's content, not by the queue or the API's setup: retrying cannot help, so
 * the API answers 400, not 503. SQS's JSON protocol names it `InvalidMessageContents`; query-compatible servers
 * (fauxqs, older endpoints) `AWS.SimpleQueueService.InvalidMessageContents`.
 */
const CONTENT_REJECTIONS = new Set(["InvalidMessageContents"]);

export class PublishError extends Error {
  override readonly name = "PublishError";
  /** True when SQS refused the message itself (see {@link CONTENT_REJECTIONS}): a permanent, client-caused error. */
  readonly rejectedContent: boolean;
  constructor(
    message: string,
    readonly errorType: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.rejectedContent = CONTENT_REJECTIONS.has(errorType.slice(errorType.lastIndexOf(".") + 1));
  }
}

/** `https://sqs.eu-west-1.amazonaws.com/123456789012/onboarding` → `onboarding`. */
export function queueNameFromUrl(queueUrl: string): string {
  const trimmed = queueUrl.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

export interface SqsClientOptions {
  readonly region?: string;
  readonly timeouts?: SqsTimeouts;
  /** Static credentials (tests); otherwise the default provider chain (ECS task role). */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Endpoint override; otherwise the SDK reads `AWS_ENDPOINT_URL_SQS` / `AWS_ENDPOINT_URL` itself. */
  readonly endpoint?: string;
}

/** One SQS client per process: keep-alive agents, explicit timeouts, explicit retry count. */
export function createSqsClient(options: SqsClientOptions = {}): SQSClient {
  const timeouts = options.timeouts ?? DEFAULT_SQS_TIMEOUTS;
  return new SQSClient({
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
    maxAttempts: timeouts.maxAttempts,
    // Always talk to the configured endpoint (region default, or AWS_ENDPOINT_URL_SQS), never to the QueueUrl's host:
    // identical in AWS, and local SQS servers hand out URLs with hosts like `sqs.us-east-1.localhost`.
    useQueueUrlAsEndpoint: false,
    credentials: options.credentials,
    endpoint: options.endpoint,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: timeouts.connectionTimeoutMillis,
      requestTimeout: timeouts.requestTimeoutMillis,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 128 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 128 }),
    }),
  });
}

export interface SqsPublisherOptions {
  readonly queueUrl: string;
  readonly tracer: Tracer;
  readonly client?: SQSClient;
  readonly clientOptions?: SqsClientOptions;
  /** How long a readiness answer is reused. */
  readonly readinessCacheMillis?: number;
  /** What goes into the message attributes. @default the process's `OTEL_PROPAGATORS` */
  readonly propagator?: TextMapPropagator;
}
const READINESS_TIMEOUT_MS = 1000;

export function createSqsPublisher(options: SqsPublisherOptions): Publisher {
  const { queueUrl, tracer } = options;
  const propagator = options.propagator ?? configuredPropagation().propagator;
  const timeouts = options.clientOptions?.timeouts ?? DEFAULT_SQS_TIMEOUTS;
  const client = options.client ?? createSqsClient(options.clientOptions);
  const queueName = queueNameFromUrl(queueUrl);
  const spanName = `send ${queueName}`;
  let serverAddress: string | undefined;
  let serverPort: number | undefined;
  try {
    const url = new URL(queueUrl);
    serverAddress = url.hostname;
    serverPort = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  } catch {
    // not a URL: leave server.* unset
  }
  const baseAttributes = {
    [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_VALUE_AWS_SQS,
    [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_SEND,
    [ATTR_MESSAGING_OPERATION_NAME]: "SendMessage",
    [ATTR_MESSAGING_DESTINATION_NAME]: queueName,
    ...(serverAddress ? { [ATTR_SERVER_ADDRESS]: serverAddress, [ATTR_SERVER_PORT]: serverPort } : {}),
  };

  const readinessCacheMillis = options.readinessCacheMillis ?? 5000;
  let readyCache: { value: boolean; until: number } | undefined;
  let readyInFlight: Promise<boolean> | undefined;

  return {
    async publish(message, parent) {
      const span = tracer.startSpan(spanName, { kind: SpanKind.PRODUCER, attributes: baseAttributes }, parent);
      const attributes: SqsMessageAttributes = {};
      propagator.inject(trace.setSpan(parent, span), attributes, sqsMessageAttributeSetter);
      try {
        const output = await client.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: JSON.stringify(message),
            MessageAttributes: attributes,
          }),
          { abortSignal: AbortSignal.timeout(timeouts.publishTimeoutMillis) },
        );
        const messageId = output.MessageId ?? "";
        span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, messageId);
        return { messageId };
      } catch (error) {
        const errorType = (error as { name?: string } | undefined)?.name ?? "Error";
        span.setAttribute(ATTR_ERROR_TYPE, errorType);
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: `SendMessage failed: ${errorType}` });
        throw new PublishError(`SQS SendMessage failed: ${(error as Error)?.message ?? errorType}`, errorType, {
          cause: error,
        });
      } finally {
        span.end();
      }
    },

    ready() {
      const now = Date.now();
      if (readyCache && readyCache.until > now) return Promise.resolve(readyCache.value);
      if (readyInFlight) return readyInFlight;
      readyInFlight = client
        .send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }), {
          // A probe must answer quickly (ALB/ECS health checks time out); "not ready" is the honest answer.
          abortSignal: AbortSignal.timeout(READINESS_TIMEOUT_MS),
        })
        .then(
          () => true,
          () => false,
        )
        .then((value) => {
          // Failures are re-checked sooner than successes.
          readyCache = { value, until: Date.now() + (value ? readinessCacheMillis : 1000) };
          readyInFlight = undefined;
          return value;
        });
      return readyInFlight;
    },

    close() {
      client.destroy();
    },
  };
}
