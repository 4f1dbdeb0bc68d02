import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import { KEY_ADMIN_ACTIONS } from "../../packages/traced-components/src/kms";
import { minimumVisibilityTimeout } from "../../packages/traced-components/src/delivery-rules";
import { TracedQueue, validateTracedQueueArgs } from "../../packages/traced-components/src/traced-queue";
import {
  grantsOf,
  inlinePolicyOfRole,
  installMocks,
  recorded,
  resourceNamed,
  resourcesOfType,
  settleAll,
} from "../../harness/mocks";

const QUEUE = "aws:sqs/queue:Queue";
const TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:alarms";
const arnOf = (name: string) => `arn:aws:sqs:eu-west-1:123456789012:${name}-mock`;
const KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/key-orders-key";

describe("TracedQueue validation", () => {
  it("accepts the defaults and a consistent consumer", () => {
    assert.deepEqual(validateTracedQueueArgs({}), []);
    assert.deepEqual(validateTracedQueueArgs({ consumer: { timeoutSeconds: 30 }, visibilityTimeoutSeconds: 180 }), []);
  });

  it("computes the visibility timeout as 6 × timeout + batching window", () => {
    assert.equal(minimumVisibilityTimeout({ timeoutSeconds: 30, batchingWindowSeconds: 5 }), 185);
    assert.equal(minimumVisibilityTimeout({ timeoutSeconds: 10 }), 60);
  });

  it("rejects a visibility timeout below 6 × timeout + window, saying how to fix it", () => {
    assert.deepEqual(
      validateTracedQueueArgs({
        consumer: { timeoutSeconds: 30, batchingWindowSeconds: 5 },
        visibilityTimeoutSeconds: 60,
      }),
      [
        "visibilityTimeoutSeconds (60) must be at least 6 × consumer.timeoutSeconds (30) + " +
          "consumer.batchingWindowSeconds (5) = 185, or a batch still being processed is delivered again. " +
          "Raise it to 185 or omit it to have it computed.",
      ],
    );
  });

  it("collects every problem before registering anything, then throws them together", async () => {
    installMocks();
    assert.throws(
      () =>
        new TracedQueue("orders", {
          messageRetentionSeconds: 14 * 86400,
          deadLetter: { maxReceiveCount: 0, retentionSeconds: 86400 },
        }),
      {
        name: "InvalidArgsError",
        message:
          'Invalid TracedQueue "orders":\n' +
          "  - deadLetter.retentionSeconds (86400) must be longer than messageRetentionSeconds (1209600), or " +
          "messages expire before anyone looks at the DLQ. Raise deadLetter.retentionSeconds (max 1209600) or lower " +
          "messageRetentionSeconds.\n" +
          "  - deadLetter.maxReceiveCount must be an integer from 1 to 1000 (got 0).",
      },
    );
    await settleAll();
    assert.deepEqual(recorded, [], "nothing is registered when args are invalid");
  });

  it("rejects out-of-range consumers", () => {
    assert.deepEqual(validateTracedQueueArgs({ consumer: { timeoutSeconds: 901, batchingWindowSeconds: 301 } }), [
      "consumer.timeoutSeconds must be an integer from 1 to 900 (got 901).",
      "consumer.batchingWindowSeconds must be an integer from 0 to 300 (got 301).",
    ]);
  });
});

describe("TracedQueue", () => {
  let queue: TracedQueue;
  before(async () => {
    installMocks();
    queue = new TracedQueue("orders", {
      consumer: { timeoutSeconds: 30, batchingWindowSeconds: 2 },
      deadLetter: { maxReceiveCount: 3 },
      alarms: { topicArn: TOPIC_ARN },
    });
    const role = new aws.iam.Role("producer", { assumeRolePolicy: "{}" });
    queue.grantSend("producer-send", role);
    const consumerRole = new aws.iam.Role("consumer", { assumeRolePolicy: "{}" });
    queue.grantConsume("consumer-consume", consumerRole);
    await settleAll();
  });

  it("encrypts both queues with its own customer-managed key and redrives to the DLQ", () => {
    const main = resourceNamed(QUEUE, "orders").inputs;
    const dlq = resourceNamed(QUEUE, "orders-dlq").inputs;
    assert.equal(main.kmsMasterKeyId, KEY_ARN);
    assert.equal(dlq.kmsMasterKeyId, KEY_ARN);
    assert.deepEqual(JSON.parse(main.redrivePolicy), { deadLetterTargetArn: arnOf("orders-dlq"), maxReceiveCount: 3 });
    assert.equal(main.visibilityTimeoutSeconds, 182);
    assert.equal(queue.visibilityTimeoutSeconds, 182);
    assert.equal(main.messageRetentionSeconds, 4 * 86400);
    assert.equal(dlq.messageRetentionSeconds, 14 * 86400);
  });

  it("has a rotating key that the account administers and uses only through SQS", () => {
    const key = resourceNamed("aws:kms/key:Key", "orders-key").inputs;
    assert.equal(key.enableKeyRotation, true);
    const policy = JSON.parse(key.policy);
    const [admin, use] = policy.Statement;
    assert.deepEqual(admin.Action, [...KEY_ADMIN_ACTIONS]);
    assert.ok(!admin.Action.some((a: string) => /Decrypt|Encrypt|GenerateDataKey|kms:\*/.test(a)));
    assert.deepEqual(admin.Principal, { AWS: "arn:aws:iam::123456789012:root" });
    assert.deepEqual(use.Action, ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"]);
    assert.deepEqual(use.Condition.StringEquals, {
      "kms:ViaService": "sqs.eu-west-1.amazonaws.com",
      "kms:CallerAccount": "123456789012",
    });
  });

  it("denies every request without TLS on both queues", () => {
    const policies = resourcesOfType("aws:sqs/queuePolicy:QueuePolicy");
    assert.deepEqual(policies.map((p) => p.name).sort(), ["orders-dlq-tls-only", "orders-queue-tls-only"]);
    for (const p of policies) {
      const [statement] = JSON.parse(p.inputs.policy).Statement;
      assert.equal(statement.Effect, "Deny");
      assert.equal(statement.Principal, "*");
      assert.deepEqual(statement.Condition, { Bool: { "aws:SecureTransport": "false" } });
    }
    const main = resourceNamed("aws:sqs/queuePolicy:QueuePolicy", "orders-queue-tls-only").inputs;
    assert.equal(JSON.parse(main.policy).Statement[0].Resource, arnOf("orders"));
  });

  it("grantSend allows exactly SendMessage and GetQueueAttributes on this queue and the key operations on its key", () => {
    assert.deepEqual(grantsOf(inlinePolicyOfRole("producer")), {
      SendToQueue: {
        effect: "Allow",
        actions: ["sqs:SendMessage", "sqs:GetQueueAttributes"],
        resources: [arnOf("orders")],
      },
      EncryptForQueue: { effect: "Allow", actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [KEY_ARN] },
    });
  });

  it("grantConsume allows exactly what an event source mapping needs", () => {
    assert.deepEqual(grantsOf(inlinePolicyOfRole("consumer")), {
      ConsumeQueue: {
        effect: "Allow",
        actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        resources: [arnOf("orders")],
      },
      DecryptFromQueue: { effect: "Allow", actions: ["kms:Decrypt"], resources: [KEY_ARN] },
    });
  });

  it("alarms on DLQ depth and oldest-message age, notifying the topic", () => {
    const depth = resourceNamed("aws:cloudwatch/metricAlarm:MetricAlarm", "orders-dlq-depth").inputs;
    assert.equal(depth.metricName, "ApproximateNumberOfMessagesVisible");
    assert.deepEqual(depth.dimensions, { QueueName: "orders-dlq-mock" });
    assert.equal(depth.threshold, 0);
    assert.equal(depth.comparisonOperator, "GreaterThanThreshold");
    assert.deepEqual(depth.alarmActions, [TOPIC_ARN]);
    const age = resourceNamed("aws:cloudwatch/metricAlarm:MetricAlarm", "orders-oldest-message-age").inputs;
    assert.equal(age.metricName, "ApproximateAgeOfOldestMessage");
    assert.deepEqual(age.dimensions, { QueueName: "orders-mock" });
    assert.equal(age.threshold, 300);
    assert.deepEqual(age.alarmActions, [TOPIC_ARN]);
  });

  it("creates no alarms when alarms is false", async () => {
    installMocks();
    new TracedQueue("quiet", {});
    await settleAll();
    assert.equal(resourcesOfType("aws:cloudwatch/metricAlarm:MetricAlarm").length, 0);
    assert.equal(resourceNamed(QUEUE, "quiet").inputs.visibilityTimeoutSeconds, 30);
  });
});
