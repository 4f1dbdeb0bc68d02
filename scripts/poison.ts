/**
 * `npm run poison` — puts one poison message on the running local stack's queue (`npm start` in another terminal),
 * straight through SQS, since the API validates every request and can never send one. The message carries a fresh
 * W3C `traceparent`, so its failed `process` spans form one trace; the Lambda rejects it (`invalid_message`) on
 * every receive and after `maxReceiveCount` receives (5, about 35 s) `npm start` prints the move to the DLQ.
 *
 * Environment: SQS_PORT (4566), TRACE_VIEW_PORT (16686) — the same as `npm start`'s.
 */
import { randomBytes } from "node:crypto";
import { GetQueueUrlCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { createLocalSqsClient } from "../local/sqs";
import { LOCAL_DEFAULTS } from "../local/stack";

export const POISON_BODY = '{"customer_id":"POISON"}';

/** Sends the poison message; resolves with its SQS message id and the trace id in its traceparent. */
export async function sendPoison(options: {
  sqsEndpoint: string;
  queueName?: string;
  region?: string;
}): Promise<{ messageId: string; traceId: string; queueUrl: string }> {
  const client = createLocalSqsClient(options.sqsEndpoint, options.region ?? LOCAL_DEFAULTS.region);
  try {
    const { QueueUrl } = await client.send(
      new GetQueueUrlCommand({ QueueName: options.queueName ?? LOCAL_DEFAULTS.queueName }),
    );
    const traceId = randomBytes(16).toString("hex");
    const traceparent = `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: POISON_BODY,
        MessageAttributes: { traceparent: { DataType: "String", StringValue: traceparent } },
      }),
    );
    return { messageId: sent.MessageId ?? "", traceId, queueUrl: QueueUrl ?? "" };
  } finally {
    client.destroy();
  }
}

if (require.main === module) {
  const sqsPort = process.env.SQS_PORT?.trim() || "4566";
  const viewPort = process.env.TRACE_VIEW_PORT?.trim() || "16686";
  sendPoison({ sqsEndpoint: `http://127.0.0.1:${sqsPort}` }).then(
    ({ messageId, traceId }) => {
      console.log(`sent a poison message ${messageId} (body ${POISON_BODY}) in trace ${traceId}`);
      console.log(
        `the Lambda fails it on every receive; after ${LOCAL_DEFAULTS.maxReceiveCount} receives (about ` +
          `${LOCAL_DEFAULTS.maxReceiveCount * LOCAL_DEFAULTS.visibilityTimeoutSeconds} s) npm start prints its move to the DLQ`,
      );
      console.log(`follow it: http://127.0.0.1:${viewPort}/trace/${traceId}`);
    },
    (error: unknown) => {
      console.error(
        `could not reach the local SQS server at 127.0.0.1:${sqsPort} — is \`npm start\` running? ` +
          `(${error instanceof Error ? error.message : String(error)})`,
      );
      process.exit(1);
    },
  );
}
