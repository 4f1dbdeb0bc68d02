/**
 * The local SQS: fauxqs (an SQS-protocol server) in-process on loopback, with the onboarding queue and its DLQ
 * wired by a RedrivePolicy, like the stack's TracedQueue.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import type { FauxqsServer } from "fauxqs" with { "resolution-mode": "import" };

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
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly queueName: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
  readonly dlqName: string;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  /** The embedded fauxqs server (inspectQueue, reset, …). */
  readonly server: FauxqsServer;
  /** Messages by state, read without changing visibility. */
  count(queue: "main" | "dlq"): { ready: number; inflight: number; delayed: number };
  /** A client for this server (dummy credentials); the caller destroys it. */
  createClient(): SQSClient;
  stop(): Promise<void>;
}

/** Dummy credentials: fauxqs accepts any; children get them as AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. */
export const LOCAL_AWS_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

export async function startLocalSqs(options: LocalSqsOptions = {}): Promise<LocalSqs> {
  const host = options.host ?? "127.0.0.1";
  const region = options.region ?? "us-east-1";
  const queueName = options.queueName ?? "onboarding";
  const dlqName = `${queueName}-dlq`;
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 5;
  const maxReceiveCount = options.maxReceiveCount ?? 3;

  // fauxqs is ESM-only (its package exports have only an "import" condition), so load it with a real import().
  const { startFauxqs } = await import("fauxqs");
  const server = await startFauxqs({ port: options.port ?? 0, host, logger: false, defaultRegion: region });
  const dlq = server.createQueue(dlqName, { region, attributes: { MessageRetentionPeriod: "1209600" } });
  const queue = server.createQueue(queueName, {
    region,
    attributes: {
      VisibilityTimeout: String(visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount }),
    },
  });
  const endpoint = `http://${host}:${server.port}`;

  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port: server.port,
    region,
    queueUrl: queue.queueUrl,
    queueArn: queue.queueArn,
    queueName,
    dlqUrl: dlq.queueUrl,
    dlqArn: dlq.queueArn,
    dlqName,
    visibilityTimeoutSeconds,
    maxReceiveCount,
    server,
    count(which) {
      const inspected = server.inspectQueue(which === "main" ? queueName : dlqName);
      return {
        ready: inspected?.messages.ready.length ?? 0,
        inflight: inspected?.messages.inflight.length ?? 0,
        delayed: inspected?.messages.delayed.length ?? 0,
      };
    },
    createClient() {
      return new SQSClient({ endpoint, region, credentials: LOCAL_AWS_CREDENTIALS });
    },
    stop() {
      stopped ??= server.stop();
      return stopped;
    },
  };
}
