import assert from "node:assert/strict";
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import {
  DEFAULT_MAX_RECEIVE_COUNT,
  minimumVisibilityTimeout,
} from "../../packages/traced-components/src/delivery-rules";
import { LOCAL_DEFAULTS } from "../../local/stack";
import { startLocalSqs, type LocalSqs } from "../../local/sqs";

describe("local SQS (fauxqs through its public API)", function () {
  this.timeout(20_000);
  let sqs: LocalSqs | undefined;

  afterEach(async () => {
    await sqs?.stop();
    sqs = undefined;
  });

  it("names queues as fauxqs does and serves them on the loopback endpoint through createClient()", async () => {
    sqs = await startLocalSqs({ queueName: "orders" });
    assert.match(sqs.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    // fauxqs's own AWS-shaped URL (no store swapped in behind its back), the same one GetQueueUrl answers.
    assert.equal(sqs.queueUrl, `http://sqs.us-east-1.localhost:${sqs.port}/000000000000/orders`);
    assert.equal(sqs.dlqUrl, `http://sqs.us-east-1.localhost:${sqs.port}/000000000000/orders-dlq`);
    assert.equal(sqs.queueArn, "arn:aws:sqs:us-east-1:000000000000:orders");

    const client = sqs.createClient();
    try {
      assert.equal(client.config.useQueueUrlAsEndpoint, false);
      assert.equal(
        (await client.send(new GetQueueUrlCommand({ QueueName: "orders" }))).QueueUrl,
        sqs.queueUrl,
        "GetQueueUrl answers the URL startLocalSqs reports",
      );
      await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: "hello" }));
      assert.deepEqual(await sqs.count("main"), { ready: 1, inflight: 0, delayed: 0 });
      const received = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, WaitTimeSeconds: 0 }));
      assert.deepEqual(
        received.Messages?.map((m) => m.Body),
        ["hello"],
      );
    } finally {
      client.destroy();
    }
  });

  it("accepts characters above U+FFFF (emoji) as SQS does, and still rejects what SQS rejects", async () => {
    sqs = await startLocalSqs();
    assert.notEqual(sqs.supplementaryCharacters, "rejected");
    const client = sqs.createClient();
    const body = JSON.stringify({ name: "Zoë 😀 𝄞 Ω" });
    try {
      // The SDK checks the MD5 of what it sent against the server's, so the body is stored as sent.
      await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: body }));
      const batch = await client.send(
        new SendMessageBatchCommand({
          QueueUrl: sqs.queueUrl,
          Entries: [
            { Id: "emoji", MessageBody: "🚀" },
            { Id: "lone-surrogate", MessageBody: "a\uD83Db" },
            { Id: "noncharacter", MessageBody: "a\uFFFFb" },
          ],
        }),
      );
      assert.deepEqual(
        batch.Successful?.map((entry) => entry.Id),
        ["emoji"],
      );
      assert.deepEqual(
        batch.Failed?.map((entry) => [entry.Id, entry.Code]),
        [
          ["lone-surrogate", "InvalidMessageContents"],
          ["noncharacter", "InvalidMessageContents"],
        ],
      );
      await assert.rejects(
        client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: "\u0000" })),
        (error: Error) => /InvalidMessageContents/.test(error.name),
      );
      const received = await client.send(
        new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      assert.deepEqual(received.Messages?.map((m) => m.Body).sort(), [body, "🚀"].sort());
    } finally {
      client.destroy();
    }
  });

  // Otherwise `npm start` would show behaviour (double deliveries, another road to the DLQ) that production has not.
  it("creates the queue by the stack's delivery rules: visibility from the consumer, the stack's maxReceiveCount", async () => {
    const consumer = {
      timeoutSeconds: LOCAL_DEFAULTS.functionTimeoutMs / 1000,
      batchingWindowSeconds: LOCAL_DEFAULTS.maximumBatchingWindowMs / 1000,
    };
    sqs = await startLocalSqs({ consumer });
    const client = sqs.createClient();
    try {
      const { Attributes } = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, AttributeNames: ["All"] }),
      );
      const visibility = Number(Attributes?.VisibilityTimeout);
      assert.ok(
        Number.isInteger(visibility) && visibility >= minimumVisibilityTimeout(consumer),
        `visibility ${visibility}`,
      );
      assert.ok(visibility < minimumVisibilityTimeout(consumer) + 1, "the least whole number of seconds");
      assert.equal(sqs.visibilityTimeoutSeconds, visibility);
      const redrive = JSON.parse(Attributes?.RedrivePolicy ?? "{}") as { maxReceiveCount?: number | string };
      assert.equal(Number(redrive.maxReceiveCount), DEFAULT_MAX_RECEIVE_COUNT);
      assert.equal(sqs.maxReceiveCount, DEFAULT_MAX_RECEIVE_COUNT);
    } finally {
      client.destroy();
    }
  });

  it("keeps the server's own visibility timeout (SQS: 30 s) when no consumer is described, as the stack's queue does", async () => {
    sqs = await startLocalSqs();
    assert.equal(sqs.visibilityTimeoutSeconds, 30);
  });
});
