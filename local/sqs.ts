/**
 * The local SQS: fauxqs (an SQS-protocol server) in-process on loopback, with the onboarding queue and its DLQ
 * wired by a RedrivePolicy, like the stack's TracedQueue. Queues are created and inspected through the SQS API
 * itself (CreateQueue, GetQueueAttributes), like any client would.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";

export interface LocalSqsOptions {
  /** 0 = ephemeral. @default 0 */
  readonly port?: number;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** @default "us-east-1" */
  readonly region?: string;
  /** Main queue name; the DLQ is `<queueName>-dlq`. @default "onboarding" */
  readonly queueName?: string;
  /**
   * Seconds a received message stays invisible. The stack derives it from the function timeout
   * (≥ 6 × timeout + batching window); locally it is short so redelivery of a failed record is visible in seconds.
   * @default 5
   */
  readonly visibilityTimeoutSeconds?: number;
  /** Receives before a message moves to the DLQ. @default 3 */
  readonly maxReceiveCount?: number;
}

export interface LocalSqs {
  /** `http://127.0.0.1:<port>` — the value for `AWS_ENDPOINT_URL_SQS`. */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  /**
   * As fauxqs names it: `http://sqs.<region>.localhost:<port>/000000000000/<name>`. Use it with a client that sends
   * to {@link endpoint} whatever the URL's host ({@link createClient}, or any SQSClient with
   * `useQueueUrlAsEndpoint: false`).
   */
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly queueName: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
  readonly dlqName: string;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  /** Messages by state (ApproximateNumberOfMessages[NotVisible|Delayed]), read without receiving them. */
  count(queue: "main" | "dlq"): Promise<{ ready: number; inflight: number; delayed: number }>;
  /** A client for this server (dummy credentials); the caller destroys it. */
  createClient(): SQSClient;
  stop(): Promise<void>;
}

/** Dummy credentials: fauxqs accepts any; children get them as AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. */
export const LOCAL_AWS_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

/**
 * An SQS client for the local server. fauxqs hands out AWS-shaped queue URLs (`http://sqs.<region>.localhost:<port>/…`)
 * whose host does not resolve everywhere; `useQueueUrlAsEndpoint: false` keeps every call on `endpoint` (the API's
 * own client does the same, see app/src/publisher.ts). fauxqs finds the queue by the URL's region and name.
 */
export function createLocalSqsClient(endpoint: string, region: string): SQSClient {
  return new SQSClient({ endpoint, region, credentials: LOCAL_AWS_CREDENTIALS, useQueueUrlAsEndpoint: false });
}

export async function startLocalSqs(options: LocalSqsOptions = {}): Promise<LocalSqs> {
  const host = options.host ?? "127.0.0.1";
  const region = options.region ?? "us-east-1";
  const queueName = options.queueName ?? "onboarding";
  const dlqName = `${queueName}-dlq`;
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 5;
  const maxReceiveCount = options.maxReceiveCount ?? 3;

  // fauxqs is ESM-only (its package exports have only an "import" condition), so load it with a real import().
  // buildApp + our own listen(): startFauxqs() always binds 0.0.0.0, and the local stack stays on loopback.
  const { buildApp } = await import("fauxqs");
  const app = buildApp({ logger: false, defaultRegion: region });
  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const endpoint = `http://${host}:${port}`;

  const client = createLocalSqsClient(endpoint, region);
  const attributesOf = async (queueUrl: string) =>
    (await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }))).Attributes ??
    {};
  let dlqUrl: string, dlqArn: string, queueUrl: string, queueArn: string;
  try {
    dlqUrl = (
      await client.send(
        new CreateQueueCommand({ QueueName: dlqName, Attributes: { MessageRetentionPeriod: "1209600" } }),
      )
    ).QueueUrl!;
    dlqArn = (await attributesOf(dlqUrl)).QueueArn!;
    queueUrl = (
      await client.send(
        new CreateQueueCommand({
          QueueName: queueName,
          Attributes: {
            VisibilityTimeout: String(visibilityTimeoutSeconds),
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
          },
        }),
      )
    ).QueueUrl!;
    queueArn = (await attributesOf(queueUrl)).QueueArn!;
  } catch (error) {
    client.destroy();
    await app.close();
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port,
    region,
    queueUrl,
    queueArn,
    queueName,
    dlqUrl,
    dlqArn,
    dlqName,
    visibilityTimeoutSeconds,
    maxReceiveCount,
    async count(which) {
      const attributes = await attributesOf(which === "main" ? queueUrl : dlqUrl);
      return {
        ready: Number(attributes.ApproximateNumberOfMessages ?? 0),
        inflight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
      };
    },
    createClient() {
      return createLocalSqsClient(endpoint, region);
    },
    stop() {
      stopped ??= (async () => {
        client.destroy();
        await app.close();
      })();
      return stopped;
    },
  };
}
