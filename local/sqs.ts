/**
 * The local SQS: fauxqs (an SQS-protocol server) in-process on loopback, with the onboarding queue and its DLQ
 * wired by a RedrivePolicy, like the stack's TracedQueue. Queues are created and inspected through the SQS API
 * itself (CreateQueue, GetQueueAttributes), like any client would.
 */
import { realpathSync } from "node:fs";
import { findPackageJSON } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  DEFAULT_MAX_RECEIVE_COUNT,
  minimumVisibilityTimeout,
  type QueueConsumer,
} from "../packages/traced-components/src/delivery-rules";

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
   * The queue's consumer. As on the stack's queue, it sets the visibility timeout by the delivery rules
   * (packages/traced-components/src/delivery-rules.ts: 6 × its timeout + batching window), so a short local function timeout
   * makes redelivery of a failed record visible in seconds.
   */
  readonly consumer?: QueueConsumer;
  /**
   * Seconds a received message stays invisible, overriding what `consumer` gives (tests that want redelivery at once).
   * @default from `consumer`, else the server's own (SQS: 30), as the stack's queue without a consumer
   */
  readonly visibilityTimeoutSeconds?: number;
  /** Receives before a message moves to the DLQ. @default the delivery rules' (5) */
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
  /**
   * How message bodies with characters above U+FFFF (emoji) are handled: `"native"` when fauxqs accepts them,
   * `"patched"` when its character check was corrected here (see {@link allowSupplementaryCharacters}),
   * `"rejected"` when neither worked (fauxqs changed; SendMessage fails where SQS would accept).
   */
  readonly supplementaryCharacters: SupplementaryCharacters;
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

/**
 * The characters SQS accepts in a message body, per code point
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html):
 * `#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`. Lone surrogates are invalid.
 */
// eslint-disable-next-line no-control-regex
export const SQS_INVALID_BODY_CHARACTER = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export type SupplementaryCharacters = "native" | "patched" | "rejected";
let supplementaryCharacters: Promise<SupplementaryCharacters> | undefined;

/**
 * fauxqs 2.4.1 checks message bodies with `/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/` — without the `u` flag and
 * without the #x10000–#x10FFFF range — so anything above U+FFFF (an emoji is a surrogate pair) is rejected with
 * InvalidMessageContents where SQS accepts it. Fixed upstream (kibertoad/fauxqs#278, merged, not yet released as of
 * 2.4.1) by exactly {@link SQS_INVALID_BODY_CHARACTER}.
 *
 * fauxqs has no public hook for it: `buildApp()` options cover logging, region, stores and S3 rules, and the check
 * runs inside its SendMessage/SendMessageBatch handlers after every Fastify hook. So this corrects the one shared
 * `RegExp` those handlers use (dist/sqs/sqsTypes.js, `INVALID_MESSAGE_BODY_CHAR`), making its `test` the upstream
 * check; everything else — storage, MD5s, the DLQ — stays fauxqs's own. It does nothing once the installed fauxqs
 * accepts the characters itself, and does nothing (`"rejected"`) if that module no longer looks as expected.
 */
export function allowSupplementaryCharacters(): Promise<SupplementaryCharacters> {
  supplementaryCharacters ??= (async () => {
    const emoji = "\u{1F600}";
    let check: unknown;
    try {
      const packageJson = findPackageJSON("fauxqs", pathToFileURL(__filename));
      if (!packageJson) return "rejected";
      const file = realpathSync(path.join(path.dirname(packageJson), "dist/sqs/sqsTypes.js"));
      check = ((await import(pathToFileURL(file).href)) as { INVALID_MESSAGE_BODY_CHAR?: unknown })
        .INVALID_MESSAGE_BODY_CHAR;
    } catch {
      return "rejected";
    }
    if (!(check instanceof RegExp)) return "rejected";
    if (!check.test(emoji)) return "native";
    Object.defineProperty(check, "test", {
      value: (text: string) => SQS_INVALID_BODY_CHARACTER.test(text),
      configurable: true,
    });
    return check.test(emoji) ? "rejected" : "patched";
  })();
  return supplementaryCharacters;
}

export async function startLocalSqs(options: LocalSqsOptions = {}): Promise<LocalSqs> {
  const host = options.host ?? "127.0.0.1";
  const region = options.region ?? "us-east-1";
  const queueName = options.queueName ?? "onboarding";
  const dlqName = `${queueName}-dlq`;
  // SQS takes whole seconds; the rules' minimum may have a fraction (a batching window under a second).
  const visibility =
    options.visibilityTimeoutSeconds ??
    (options.consumer ? Math.ceil(minimumVisibilityTimeout(options.consumer)) : undefined);
  const maxReceiveCount = options.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT;

  // fauxqs is ESM-only (its package exports have only an "import" condition), so load it with a real import().
  // buildApp + our own listen(): startFauxqs() always binds 0.0.0.0, and the local stack stays on loopback.
  const { buildApp } = await import("fauxqs");
  const supplementary = await allowSupplementaryCharacters();
  const app = buildApp({ logger: false, defaultRegion: region });
  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const endpoint = `http://${host}:${port}`;

  const client = createLocalSqsClient(endpoint, region);
  const attributesOf = async (queueUrl: string) =>
    (await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }))).Attributes ??
    {};
  let dlqUrl: string, dlqArn: string, queueUrl: string, queueArn: string, visibilityTimeoutSeconds: number;
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
            ...(visibility === undefined ? {} : { VisibilityTimeout: String(visibility) }),
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
          },
        }),
      )
    ).QueueUrl!;
    const attributes = await attributesOf(queueUrl);
    queueArn = attributes.QueueArn!;
    visibilityTimeoutSeconds = Number(attributes.VisibilityTimeout);
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
    supplementaryCharacters: supplementary,
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
