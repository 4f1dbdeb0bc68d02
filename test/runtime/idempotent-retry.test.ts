/**
 * A 503 must not turn into a duplicate customer, end to end with real protocols: fauxqs behind an HTTP hop that
 * forwards SendMessage but holds SQS's answer past the API's publish timeout (SQS took the message; the API answers
 * 503), a retry with the same Idempotency-Key once the hop heals (202, the same request_id), then the Lambda consumer
 * over everything on the queue against dynalite: exactly one record, the second delivery reported as `duplicate`.
 * And two simultaneous first requests with one key while SendMessage's answer is held: one SendMessage, one 202, and a
 * 409 `idempotency_key_in_use` with `Retry-After` for the other (the key's lease; app/src/idempotency.ts).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ScanCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ReceiveMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import type { Tracer } from "@opentelemetry/api";
import type { Context as LambdaContext } from "aws-lambda";
import { createApp } from "../../app/src/app";
import { createDynamoIdempotencyStore } from "../../app/src/idempotency";
import { createSqsClient, createSqsPublisher } from "../../app/src/publisher";
import { createDynamoStatusReader } from "../../app/src/status";
import { createHandler } from "../../lambda/src/sqs-handler";
import { processOnboarding } from "../../lambda/src/onboarding";
import { createDynamoOnboardingStore } from "../../lambda/src/store";
import {
  createOnboardingTable,
  localDynamoCall,
  localDynamoClient,
  startDynamoDb,
  type LocalDynamoDb,
} from "../../local/dynamodb";
import { flushWithin } from "../../telemetry/provider";
import { lambdaTelemetry } from "./fakes";
import { toSqsRecord } from "../../local/event-source-mapping";
import { REGION, startFauxqs, TEST_CREDENTIALS, VALID_REQUEST, type Fauxqs } from "./helpers";

const TABLE = "onboarding-retry";
const PUBLISH_TIMEOUT_MS = 400;

/**
 * An HTTP hop to `target`: every request is forwarded; while `holding`, the upstream answer is kept back (never sent:
 * the client has given up by then); while `gated`, it is kept back until {@link openGate}. `forwarded` counts the
 * requests that reached the target.
 */
async function startHoldingHop(target: string) {
  const state = { holding: false, gated: false, forwarded: 0, held: 0 };
  const waiting: (() => void)[] = [];
  const openGate = () => {
    state.gated = false;
    for (const release of waiting.splice(0)) release();
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const hold = state.holding;
      const upstream = request(target + (req.url ?? "/"), { method: req.method, headers: req.headers }, (up) => {
        state.forwarded++;
        if (hold) {
          state.held++;
          up.resume(); // SQS answered; the answer never reaches the API
          return;
        }
        const answer = () => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        };
        if (state.gated) waiting.push(answer);
        else answer();
      });
      upstream.on("error", () => res.destroy());
      upstream.end(Buffer.concat(chunks));
    });
    res.on("error", () => undefined);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { state, openGate, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("runtime: a 503 retried with the same Idempotency-Key is one customer (fauxqs, dynalite)", function () {
  this.timeout(30_000);
  let sqs: Fauxqs;
  let db: LocalDynamoDb;
  let dynamo: DynamoDBClient;
  let hop: Awaited<ReturnType<typeof startHoldingHop>>;
  let api: Server;
  let raceApi: Server | undefined;
  let reader: SQSClient;

  /** The API's SQS publisher, sending through the hop that can hold SendMessage's reply; one attempt, no SDK retry. */
  function publisherThroughHop(queueUrl: string, tracer: Tracer, publishTimeoutMillis: number) {
    return createSqsPublisher({
      queueUrl,
      tracer,
      client: createSqsClient({
        endpoint: hop.endpoint,
        credentials: TEST_CREDENTIALS,
        timeouts: { connectionTimeoutMillis: 1000, requestTimeoutMillis: 10_000, maxAttempts: 1, publishTimeoutMillis },
      }),
    });
  }

  before(async () => {
    [sqs, db] = await Promise.all([startFauxqs(), startDynamoDb()]);
    await createOnboardingTable(db.endpoint, TABLE);
    dynamo = localDynamoClient(db.endpoint);
    hop = await startHoldingHop(sqs.address);
    reader = new SQSClient({ endpoint: sqs.address, region: REGION, credentials: TEST_CREDENTIALS });
  });
  after(async () => {
    api?.closeAllConnections();
    api?.close();
    raceApi?.closeAllConnections();
    raceApi?.close();
    hop?.server.closeAllConnections();
    hop?.server.close();
    reader?.destroy();
    dynamo?.destroy();
    await db?.close();
    await sqs?.stop();
  });

  it("SendMessage answered too late → 503; retry with the key → 202, same request_id; the consumer keeps one record", async () => {
    const queue = sqs.createQueue("onboarding-retry");
    const { provider: apiProvider } = lambdaTelemetry();
    const tracer = apiProvider.getTracer("api") as Tracer;
    const publisher = publisherThroughHop(queue.queueUrl, tracer, PUBLISH_TIMEOUT_MS);
    const app = createApp({
      publisher,
      tracer,
      logger: lambdaTelemetry().logger,
      idempotency: createDynamoIdempotencyStore({ client: dynamo, tableName: TABLE, tracer }),
      statusReader: createDynamoStatusReader({ client: dynamo, tableName: TABLE, tracer }),
    });
    api = createServer(app.callback());
    api.listen(0, "127.0.0.1");
    await once(api, "listening");
    const base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    const post = () =>
      fetch(`${base}/onboard`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": "signup-ada-1" },
        body: JSON.stringify(VALID_REQUEST),
      });

    hop.state.holding = true;
    const unsure = await post();
    assert.equal(unsure.status, 503);
    const unsureBody = (await unsure.json()) as { error: string; message: string };
    assert.equal(unsureBody.error, "queue_unavailable");
    assert.match(unsureBody.message, /may have been accepted.*same Idempotency-Key/);
    // SQS did take the message the API gave up on.
    await waitUntil(() => hop.state.held === 1);
    assert.equal(hop.state.forwarded, 1);

    hop.state.holding = false;
    const retried = await post();
    assert.equal(retried.status, 202);
    const { request_id: requestId } = (await retried.json()) as { request_id: string };

    const messages = await receiveAll(reader, queue.queueUrl, 2);
    assert.deepEqual(
      messages.map((m) => (JSON.parse(m.Body ?? "{}") as { request_id: string }).request_id),
      [requestId, requestId],
      "both messages carry the request_id of the 503'd attempt",
    );

    // The consumer (one batch per message, as two deliveries would arrive) against dynalite.
    const lambda = lambdaTelemetry();
    const ltracer = lambda.provider.getTracer("lambda") as Tracer;
    const store = createDynamoOnboardingStore({
      call: localDynamoCall(db.endpoint),
      tableName: TABLE,
      tracer: ltracer,
    });
    const handler = createHandler({
      tracer: ltracer,
      logger: lambda.logger,
      flush: (ms) => flushWithin(lambda.provider, ms),
      processMessage: (m, _r, ctx) => processOnboarding(m, store, ctx),
    });
    const context = { awsRequestId: "r", getRemainingTimeInMillis: () => 10_000 } as unknown as LambdaContext;
    for (const message of messages) {
      const result = await handler({ Records: [toSqsRecord(message, queue.queueArn, REGION)] }, context);
      assert.deepEqual(result.batchItemFailures, []);
    }
    const outcomes = lambda.exporter
      .getFinishedSpans()
      .filter((s) => s.name.startsWith("process ") && s.attributes["messaging.batch.message_count"] === undefined)
      .map((s) => s.attributes["onboarding.outcome"]);
    assert.deepEqual(outcomes, ["processed", "duplicate"]);
    assert.equal(lambda.logs.filter((l) => l.event === "onboarding.duplicate").length, 1);

    const records = await dynamo.send(
      new ScanCommand({
        TableName: TABLE,
        FilterExpression: "customer_id = :c AND attribute_exists(processed_at)",
        ExpressionAttributeValues: { ":c": { S: VALID_REQUEST.customer_id } },
      }),
    );
    assert.equal(records.Count, 1, "exactly one customer record");
    assert.equal(records.Items?.[0].request_id.S, requestId);
    const status = (await (await fetch(`${base}/onboard/${requestId}`)).json()) as { status: string };
    assert.equal(status.status, "processed");
    publisher.close();
  });

  it("two concurrent first requests with one key while SendMessage is held → one SendMessage, one 202, one 409 with Retry-After", async () => {
    const queue = sqs.createQueue("onboarding-race");
    const { provider } = lambdaTelemetry();
    const tracer = provider.getTracer("api") as Tracer;
    // Long enough that the held answer is still awaited when the gate opens.
    const publisher = publisherThroughHop(queue.queueUrl, tracer, 8000);
    const app = createApp({
      publisher,
      tracer,
      logger: lambdaTelemetry().logger,
      idempotency: createDynamoIdempotencyStore({ client: dynamo, tableName: TABLE, tracer }),
    });
    const server = createServer(app.callback());
    raceApi = server;
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = () =>
      fetch(`${base}/onboard`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": "signup-race-1" },
        body: JSON.stringify(VALID_REQUEST),
      });

    const before = hop.state.forwarded;
    hop.state.gated = true;
    const answered: number[] = [];
    const requests = [post(), post()].map((p) =>
      p.then((res) => {
        answered.push(res.status);
        return res;
      }),
    );
    // One SendMessage is in flight (its answer held) and the other request answered — or, as before the lease, a
    // second SendMessage reached SQS while the first was in flight.
    await waitUntil(
      () => (hop.state.forwarded - before >= 1 && answered.length >= 1) || hop.state.forwarded - before >= 2,
    );
    await new Promise((r) => setTimeout(r, 300)); // room for a second SendMessage, if one were coming
    const sentWhileHeld = hop.state.forwarded - before;
    hop.openGate();
    const responses = await Promise.all(requests);
    assert.equal(sentWhileHeld, 1, "exactly one SendMessage reached SQS while the first was in flight");
    assert.deepEqual(responses.map((r) => r.status).sort(), [202, 409]);
    assert.deepEqual(answered, [409, 202], "the 409 came back while the first send was still in flight");

    const conflict = responses.find((r) => r.status === 409)!;
    const retryAfter = Number(conflict.headers.get("retry-after"));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${conflict.headers.get("retry-after")}`);
    const conflictBody = (await conflict.json()) as {
      error: string;
      message: string;
      fields: { field: string }[];
      request_id: string;
      trace_id: string;
    };
    assert.equal(conflictBody.error, "idempotency_key_in_use");
    assert.match(conflictBody.message, /still being processed.*same Idempotency-Key/);
    assert.deepEqual(
      conflictBody.fields.map((f) => f.field),
      ["idempotency-key"],
    );
    assert.match(conflictBody.request_id, /^[0-9a-f-]{36}$/);
    assert.match(conflictBody.trace_id, /^[0-9a-f]{32}$/);

    const accepted = (await responses.find((r) => r.status === 202)!.json()) as { request_id: string };
    const messages = await receiveAll(reader, queue.queueUrl, 1);
    assert.equal((JSON.parse(messages[0].Body ?? "{}") as { request_id: string }).request_id, accepted.request_id);
    assert.equal(hop.state.forwarded - before, 1, "and nothing was sent afterwards");

    // Once sent, the key replays the 202.
    const replay = await post();
    assert.equal(replay.status, 202);
    assert.equal(replay.headers.get("idempotent-replayed"), "true");
    assert.equal(((await replay.json()) as { request_id: string }).request_id, accepted.request_id);
    assert.equal(hop.state.forwarded - before, 1);
    publisher.close();
  });
});

async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), "condition never held");
}

async function receiveAll(client: SQSClient, queueUrl: string, expected: number): Promise<Message[]> {
  const messages: Message[] = [];
  for (let i = 0; i < 20 && messages.length < expected; i++) {
    const out = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
    );
    messages.push(...(out.Messages ?? []));
  }
  assert.equal(messages.length, expected);
  return messages;
}
