/**
 * The consumer's durable, exactly-once write against a real DynamoDB protocol (dynalite): duplicates across
 * environments and after a crash leave one record and are `duplicate`, an unreachable store fails its records alone
 * (nothing lost), and the write is a CLIENT span under the record's `process` span.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GetItemCommand, ScanCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { Context as LambdaContext, SQSRecord } from "aws-lambda";
import { createHandler } from "../../lambda/src/sqs-handler";
import { processOnboarding } from "../../lambda/src/onboarding";
import type { AwsJsonCall } from "../../lambda/src/aws-json";
import { createDynamoCall, createDynamoOnboardingStore } from "../../lambda/src/store";
import {
  createOnboardingTable,
  localDynamoCall as dynamoCallTo,
  localDynamoClient,
  startDynamoDb,
  type LocalDynamoDb,
} from "../../local/dynamodb";
import { flushWithin } from "../../telemetry/provider";
import { closedPort, makeRecord, validMessageBody } from "./helpers";
import { lambdaTelemetry } from "./fakes";

const TABLE = "onboarding-test";
const lambdaContext = () => ({ awsRequestId: "r", getRemainingTimeInMillis: () => 10_000 }) as unknown as LambdaContext;

/**
 * A real HTTP hop in front of dynalite that answers `status` + `__type` instead of forwarding when the request body
 * names `requestId` (DynamoDB's throttling and server errors, which dynalite never produces).
 */
async function faultyFront(target: string, requestId: string, status: number, type: string): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (body.includes(requestId)) {
        res.writeHead(status, { "content-type": "application/x-amz-json-1.0" });
        res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: "injected" }));
        return;
      }
      const upstream = request(target, { method: "POST", headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.end(body);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

/** One Lambda execution environment: its own tracer, logger, DynamoDB connection and handler. */
function environment(call: AwsJsonCall) {
  const { exporter, provider, logs, logger } = lambdaTelemetry();
  const tracer = provider.getTracer("t") as Tracer;
  const store = createDynamoOnboardingStore({ call, tableName: TABLE, tracer });
  const handler = createHandler({
    tracer,
    logger,
    flush: (ms) => flushWithin(provider, ms),
    processMessage: (m, _r, ctx) => processOnboarding(m, store, ctx),
  });
  const outcomes = () =>
    exporter
      .getFinishedSpans()
      .filter((s) => s.attributes["messaging.message.id"] !== undefined) // record spans, not the invocation's
      .map((s) => s.attributes["onboarding.outcome"]);
  return { exporter, logs, handler, outcomes };
}

const record = (messageId: string, requestId: string): SQSRecord =>
  makeRecord({ messageId, body: validMessageBody(requestId, `cust-${requestId}`) });

describe("runtime: DynamoDB onboarding store (dynalite)", function () {
  this.timeout(30_000);
  let db: LocalDynamoDb;
  let reader: DynamoDBClient;
  const client = () => dynamoCallTo(db.endpoint);
  const itemCount = async (requestId: string) =>
    (
      await reader.send(
        new ScanCommand({
          TableName: TABLE,
          FilterExpression: "request_id = :r",
          ExpressionAttributeValues: { ":r": { S: requestId } },
        }),
      )
    ).Count;

  before(async () => {
    db = await startDynamoDb();
    await createOnboardingTable(db.endpoint, TABLE);
    reader = localDynamoClient(db.endpoint);
  });
  after(async () => {
    reader.destroy();
    await db.close();
  });

  it("two environments receiving the same message → one record; one processed, one duplicate, no failure", async () => {
    const a = environment(client());
    const b = environment(client());
    const [ra, rb] = await Promise.all([
      a.handler({ Records: [record("m-1", "req-two-envs")] }, lambdaContext()),
      b.handler({ Records: [record("m-1", "req-two-envs")] }, lambdaContext()),
    ]);
    assert.deepEqual(ra.batchItemFailures, []);
    assert.deepEqual(rb.batchItemFailures, []);
    assert.deepEqual([...a.outcomes(), ...b.outcomes()].sort(), ["duplicate", "processed"]);
    assert.equal(await itemCount("req-two-envs"), 1);
  });

  it("a message redelivered after its first attempt crashed between the write and the ack → one record, duplicate", async () => {
    const first = environment(client());
    // The first attempt writes, then the environment dies before Lambda deletes the message: its answer is lost.
    await first.handler({ Records: [record("m-2", "req-crash")] }, lambdaContext());
    assert.deepEqual(first.outcomes(), ["processed"]);
    const stored = await reader.send(new GetItemCommand({ TableName: TABLE, Key: { request_id: { S: "req-crash" } } }));
    const processedAt = stored.Item?.processed_at?.S;
    assert.ok(processedAt);

    const retry = environment(client()); // a fresh environment, nothing in memory
    for (let i = 0; i < 3; i++) {
      const result = await retry.handler({ Records: [record("m-2", "req-crash")] }, lambdaContext());
      assert.deepEqual(result.batchItemFailures, []);
    }
    assert.deepEqual(retry.outcomes(), ["duplicate", "duplicate", "duplicate"]);
    assert.equal(retry.logs.filter((l) => l.event === "onboarding.duplicate").length, 3);
    assert.equal(await itemCount("req-crash"), 1);
    const again = await reader.send(new GetItemCommand({ TableName: TABLE, Key: { request_id: { S: "req-crash" } } }));
    assert.equal(again.Item?.processed_at?.S, processedAt, "the first write is kept");
    assert.equal(again.Item?.status?.S, "processed");
    assert.equal(again.Item?.customer_id?.S, "cust-req-crash");
  });

  it("the store unreachable → that record fails alone (partial batch response); the retry records it, nothing lost", async () => {
    const real = client();
    // A connection that cannot reach the store for one request (connection refused), and reaches it for the others.
    const unreachable = dynamoCallTo(`http://127.0.0.1:${await closedPort()}`);
    const flaky: AwsJsonCall = (operation, input) =>
      (input as { Key: { request_id: { S: string } } }).Key.request_id.S === "req-down"
        ? unreachable(operation, input)
        : real(operation, input);
    const env = environment(flaky);
    const result = await env.handler(
      { Records: [record("m-ok", "req-up"), record("m-down", "req-down"), record("m-ok2", "req-up2")] },
      lambdaContext(),
    );
    assert.deepEqual(result.batchItemFailures, [{ itemIdentifier: "m-down" }]);
    assert.equal(await itemCount("req-up"), 1);
    assert.equal(await itemCount("req-up2"), 1);
    assert.equal(await itemCount("req-down"), 0);
    const failedSpan = env.exporter.getFinishedSpans().find((s) => s.name === `UpdateItem ${TABLE}` && s.status.code);
    assert.equal(failedSpan?.status.code, SpanStatusCode.ERROR);

    // SQS delivers the failed record again once the store answers: recorded once.
    const retry = environment(client());
    assert.deepEqual(
      (await retry.handler({ Records: [record("m-down", "req-down")] }, lambdaContext())).batchItemFailures,
      [],
    );
    assert.deepEqual(retry.outcomes(), ["processed"]);
    assert.equal(await itemCount("req-down"), 1);
  });

  for (const [status, type] of [
    [400, "ProvisionedThroughputExceededException"],
    [400, "ThrottlingException"],
    [500, "InternalServerError"],
  ] as const) {
    it(`DynamoDB answering ${status} ${type} → that record fails alone (retryable), the others are recorded`, async () => {
      const front = await faultyFront(db.endpoint, `req-${type}`, status, type);
      try {
        const call = dynamoCallTo(`http://127.0.0.1:${(front.address() as AddressInfo).port}`);
        const env = environment(call);
        const result = await env.handler(
          { Records: [record(`m-${type}`, `req-${type}`), record(`m-ok-${type}`, `req-ok-${type}`)] },
          lambdaContext(),
        );
        assert.deepEqual(result.batchItemFailures, [{ itemIdentifier: `m-${type}` }]);
        assert.equal(await itemCount(`req-${type}`), 0);
        assert.equal(await itemCount(`req-ok-${type}`), 1);
        const failed = env.exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT && s.status.code);
        assert.equal(failed?.attributes["error.type"], type);
        const log = env.logs.find((l) => l.event === "onboarding.record_failed") as Record<string, unknown>;
        assert.equal(log.error_type, type);
        await assert.rejects(call("UpdateItem", { Key: { request_id: { S: `req-${type}` } } }), {
          name: type,
          statusCode: status,
          retryable: true,
        });
      } finally {
        front.closeAllConnections();
        front.close();
      }
    });
  }

  it("the SDK-free call is signed the way DynamoDB accepts and maps its errors by name (dynalite)", async () => {
    const call = client();
    await assert.rejects(call("GetItem", { TableName: "no-such-table", Key: { request_id: { S: "x" } } }), {
      name: "ResourceNotFoundException",
      retryable: false,
      statusCode: 400,
    });
    await assert.rejects(dynamoCallTo(`http://127.0.0.1:${await closedPort()}`)("GetItem", {}), {
      name: "ECONNREFUSED",
      retryable: true,
    });
    assert.throws(() => createDynamoCall({}), /AWS_ACCESS_KEY_ID/);
  });

  it("the write is a CLIENT span under the record's process span, with the database attributes", async () => {
    const env = environment(client());
    await env.handler({ Records: [record("m-3", "req-span"), record("m-3b", "req-span")] }, lambdaContext());
    const spans = env.exporter.getFinishedSpans();
    const processSpans = spans.filter((s) => s.attributes["messaging.message.id"] !== undefined);
    const writes = spans.filter((s) => s.kind === SpanKind.CLIENT);
    assert.equal(writes.length, 2);
    for (const [i, write] of writes.entries()) {
      assert.equal(write.name, `UpdateItem ${TABLE}`);
      assert.equal(write.parentSpanContext?.spanId, processSpans[i].spanContext().spanId);
      assert.equal(write.spanContext().traceId, processSpans[i].spanContext().traceId);
      assert.equal(write.attributes["db.system.name"], "aws.dynamodb");
      assert.equal(write.attributes["db.operation.name"], "UpdateItem");
      assert.deepEqual(write.attributes["aws.dynamodb.table_names"], [TABLE]);
    }
    // The duplicate's failed condition is the expected answer, not an error.
    assert.equal(writes[1].status.code, SpanStatusCode.UNSET);
    assert.equal(writes[1].attributes["error.type"], "ConditionalCheckFailedException");
    assert.deepEqual(env.outcomes(), ["processed", "duplicate"]);
  });
});
