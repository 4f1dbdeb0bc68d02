import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import {
  invokeInProcess,
  startEventSourceMapping,
  type EventSourceMapping,
  type EventSourceMappingOptions,
} from "../../local/event-source-mapping";
import { startLocalSqs, type LocalSqs } from "../../local/sqs";
import { EMPTY, waitFor } from "./helpers";

describe("local event-source-mapping emulator (fauxqs + in-process handler)", function () {
  this.timeout(20_000);
  let sqs: LocalSqs;
  let client: SQSClient;
  let mapping: EventSourceMapping | undefined;

  beforeEach(async () => {
    sqs = await startLocalSqs({ visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
    client = sqs.createClient();
  });
  afterEach(async () => {
    await mapping?.stop();
    mapping = undefined;
    client.destroy();
    await sqs.stop();
  });

  function start(
    handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>,
    overrides: Partial<EventSourceMappingOptions> = {},
  ): EventSourceMapping {
    mapping = startEventSourceMapping({
      sqs: client,
      queueUrl: sqs.queueUrl,
      queueArn: sqs.queueArn,
      region: sqs.region,
      invoke: invokeInProcess(handler),
      waitTimeSeconds: 1,
      ...overrides,
    });
    return mapping;
  }

  it("delivers records shaped like Lambda's, with a counting-down context, and deletes them", async () => {
    const events: SQSEvent[] = [];
    const remaining: number[] = [];
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl: sqs.queueUrl,
        MessageBody: '{"customer_id":"TEST-001"}',
        MessageAttributes: {
          traceparent: { DataType: "String", StringValue: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
          attempt: { DataType: "Number", StringValue: "2" },
          blob: { DataType: "Binary", BinaryValue: Buffer.from("hi") },
        },
      }),
    );
    const esm = start(
      async (event, context) => {
        events.push(event);
        remaining.push(context.getRemainingTimeInMillis());
        assert.equal(context.functionName, "onboarding-lambda");
        return { batchItemFailures: [] };
      },
      { functionTimeoutMs: 3000 },
    );
    await waitFor(() => esm.invocations.length === 1, 5000, "one invocation");

    assert.equal(events.length, 1);
    const [record] = events[0]!.Records;
    assert.ok(record);
    assert.equal(record.messageId, sent.MessageId);
    assert.equal(record.body, '{"customer_id":"TEST-001"}');
    assert.equal(record.md5OfBody, createHash("md5").update('{"customer_id":"TEST-001"}').digest("hex"));
    assert.equal(record.eventSource, "aws:sqs");
    assert.equal(record.eventSourceARN, sqs.queueArn);
    assert.equal(record.awsRegion, "us-east-1");
    assert.ok(record.receiptHandle.length > 0);
    assert.equal(record.attributes.ApproximateReceiveCount, "1");
    assert.match(record.attributes.SentTimestamp, /^\d{13}$/);
    assert.match(record.attributes.ApproximateFirstReceiveTimestamp, /^\d{13}$/);
    assert.ok(record.attributes.SenderId);
    assert.deepEqual(record.messageAttributes, {
      traceparent: {
        stringValue: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        stringListValues: [],
        binaryListValues: [],
        dataType: "String",
      },
      attempt: { stringValue: "2", stringListValues: [], binaryListValues: [], dataType: "Number" },
      blob: {
        binaryValue: Buffer.from("hi").toString("base64"),
        stringListValues: [],
        binaryListValues: [],
        dataType: "Binary",
      },
    });
    assert.ok(remaining[0]! > 2500 && remaining[0]! <= 3000, `remaining ${remaining[0]}`);
    assert.deepEqual(esm.invocations[0]!.error, undefined);
    await waitFor(async () => (await sqs.count("main")).inflight === 0, 2000, "the record to be deleted");
    assert.deepEqual(await sqs.count("main"), EMPTY);
  });

  it("honours batch size, also with a batching window (batches never exceed it)", async () => {
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: sqs.queueUrl,
        Entries: Array.from({ length: 7 }, (_, i) => ({ Id: String(i), MessageBody: `m${i}` })),
      }),
    );
    const sizes: number[] = [];
    const esm = start(async (event) => void sizes.push(event.Records.length), {
      batchSize: 3,
      maximumBatchingWindowMs: 300,
    });
    await waitFor(() => sizes.reduce((a, b) => a + b, 0) === 7, 5000, "all 7 records");
    assert.ok(
      sizes.every((size) => size <= 3),
      `batch sizes ${sizes}`,
    );
    assert.ok(sizes.filter((size) => size === 3).length >= 2, `batch sizes ${sizes}`);
    await esm.stop();
  });

  /**
   * Sends one message, then a second `gapMs` after it, with the poller already long-polling; returns each
   * invocation's record bodies once both records have been delivered.
   */
  async function deliverTwoWithGap(maximumBatchingWindowMs: number, gapMs: number): Promise<string[][]> {
    // A queue whose visibility timeout exceeds the window, as the stack requires (≥ 6 × timeout + window): with the
    // 1 s default here, a 1.5 s window would see its own records reappear and receive them twice.
    client.destroy();
    await sqs.stop();
    sqs = await startLocalSqs({ visibilityTimeoutSeconds: 10, maxReceiveCount: 2 });
    client = sqs.createClient();
    // Warm the new client up (first-request setup), so the poller's first long poll is promptly in place.
    await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, WaitTimeSeconds: 0 }));
    const batches: string[][] = [];
    start(async (event) => void batches.push(event.Records.map((record) => record.body)), {
      batchSize: 10,
      maximumBatchingWindowMs,
    });
    // Let the first ReceiveMessage long poll start, so the first message is picked up as soon as it is sent.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: "first" }));
    await new Promise((resolve) => setTimeout(resolve, gapMs));
    await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: "second" }));
    await waitFor(() => batches.flat().length >= 2, 5000, "both records");
    return batches;
  }

  it("a batching window waits for a fuller batch: a record sent 150 ms after the first joins its invocation", async () => {
    // Window 1000 ms vs a 150 ms gap: the second record arrives well inside the window even on a loaded machine.
    const batches = await deliverTwoWithGap(1000, 150);
    assert.deepEqual(batches, [["first", "second"]]);
  });

  it("without a batching window the first record is invoked alone, at once", async () => {
    // A 300 ms gap: the first invocation is long over (in-process handler) before the second record is sent.
    const batches = await deliverTwoWithGap(0, 300);
    assert.deepEqual(batches, [["first"], ["second"]]);
  });

  it("redelivers only the reported failures; a poison record reaches the DLQ after maxReceiveCount", async () => {
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: sqs.queueUrl,
        Entries: ["ok-1", "poison", "ok-2"].map((body, i) => ({ Id: String(i), MessageBody: body })),
      }),
    );
    const seen: { body: string; receiveCount: string }[] = [];
    start(async (event) => {
      const failures: SQSBatchResponse["batchItemFailures"] = [];
      for (const record of event.Records) {
        seen.push({ body: record.body, receiveCount: record.attributes.ApproximateReceiveCount });
        if (record.body === "poison") failures.push({ itemIdentifier: record.messageId });
      }
      return { batchItemFailures: failures };
    });
    await waitFor(async () => (await sqs.count("dlq")).ready === 1, 10_000, "the poison record in the DLQ");

    assert.deepEqual(
      seen.filter((s) => s.body === "poison").map((s) => s.receiveCount),
      ["1", "2"],
    );
    assert.equal(seen.filter((s) => s.body === "ok-1").length, 1);
    assert.equal(seen.filter((s) => s.body === "ok-2").length, 1);
    assert.deepEqual(await sqs.count("main"), EMPTY);
    const dlq = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.dlqUrl, MaxNumberOfMessages: 10 }));
    assert.deepEqual(
      dlq.Messages?.map((message) => message.Body),
      ["poison"],
    );
  });

  it("retries the whole batch when the handler throws, times out or returns an unknown itemIdentifier", async () => {
    for (const [label, behaviour] of [
      ["throws", async () => Promise.reject(new Error("boom"))],
      ["times out", () => new Promise<void>((resolve) => setTimeout(resolve, 600))],
      ["invalid response", async () => ({ batchItemFailures: [{ itemIdentifier: "nope" }] })],
    ] as const) {
      await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: label }));
      let calls = 0;
      const esm = start(
        async () => {
          calls += 1;
          return calls === 1 ? behaviour() : { batchItemFailures: [] };
        },
        { functionTimeoutMs: 300 },
      );
      await waitFor(() => esm.invocations.length >= 2, 6000, `redelivery after the handler ${label}`);
      assert.equal(esm.invocations[0]!.failed, 1, label);
      assert.ok(esm.invocations[0]!.error, label);
      assert.equal(esm.invocations[1]!.succeeded, 1, label);
      await esm.stop();
      mapping = undefined;
      assert.deepEqual(await sqs.count("main"), EMPTY, label);
    }
  });
});
