/**
 * Span shape with an in-memory exporter: the API (createApp + the real SQS publisher against fauxqs) produces, the
 * Lambda handler (createHandler) consumes the messages fauxqs really stored — so parentage is checked through the
 * attributes the producer actually wrote.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { ReceiveMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import { SpanKind, SpanStatusCode, propagation, type Tracer } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace";
import type { Context as LambdaContext } from "aws-lambda";
import { createApp } from "../../app/src/app";
import { createSqsClient, createSqsPublisher, type Publisher } from "../../app/src/publisher";
import { createHandler } from "../../lambda/src/sqs-handler";
import { createInMemoryOnboardingStore, processOnboarding } from "../../lambda/src/onboarding";
import { createJsonLogger } from "../../telemetry/logger";
import { createTracerProvider, flushWithin } from "../../telemetry/provider";
import { createServiceResource } from "../../telemetry/resource";
import { toSqsRecord } from "../../local/event-source-mapping";
import { REGION, TEST_CREDENTIALS, VALID_REQUEST, startFauxqs, type Fauxqs } from "./helpers";

function inMemoryTracer(service: string, platform: "aws_ecs" | "aws_lambda") {
  const exporter = new InMemorySpanExporter();
  const provider = createTracerProvider({
    resource: createServiceResource({ defaultServiceName: service, cloudPlatform: platform, env: {} }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  return { exporter, provider, tracer: provider.getTracer(service) as Tracer };
}

const silent = createJsonLogger({ service: "test", write: () => undefined });

function lambdaContext(remainingMs = 10_000): LambdaContext {
  return {
    awsRequestId: "req-1",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:onboarding",
    getRemainingTimeInMillis: () => remainingMs,
  } as unknown as LambdaContext;
}

describe("runtime: span shape (in-memory exporter, real fauxqs)", function () {
  let sqs: Fauxqs;
  let queue: { queueUrl: string; queueArn: string; queueName: string };
  let client: SQSClient;
  let publisher: Publisher;
  let server: Server;
  let baseUrl: string;
  const api = inMemoryTracer("onboarding-api", "aws_ecs");
  const lambda = inMemoryTracer("onboarding-lambda", "aws_lambda");

  before(async () => {
    sqs = await startFauxqs();
    queue = sqs.createQueue("onboarding-spans");
    client = createSqsClient({ region: REGION, credentials: TEST_CREDENTIALS, endpoint: sqs.address });
    publisher = createSqsPublisher({ queueUrl: queue.queueUrl, tracer: api.tracer, client });
    // This suite checks parentage through a caller's traceparent: trust it (the public default starts a new trace).
    const app = createApp({ publisher, tracer: api.tracer, logger: silent, incomingTraceContext: "honour" });
    server = createServer(app.callback());
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    publisher.close();
    await api.provider.shutdown();
    await lambda.provider.shutdown();
    await sqs.stop();
  });

  beforeEach(() => {
    api.exporter.reset();
    lambda.exporter.reset();
  });

  async function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${baseUrl}/onboard`, {
      method: "POST",
      headers: { "content-type": "application/json", connection: "close", ...headers },
      body: JSON.stringify(body),
    });
  }

  async function receiveAll(expected: number): Promise<Message[]> {
    const messages: Message[] = [];
    for (let i = 0; i < 20 && messages.length < expected; i++) {
      const out = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.queueUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["All"],
        }),
      );
      messages.push(...(out.Messages ?? []));
    }
    assert.equal(messages.length, expected);
    return messages;
  }

  const byKind = (spans: ReadableSpan[], kind: SpanKind) => spans.filter((s) => s.kind === kind);

  it("SERVER is the child of the incoming traceparent; PRODUCER its child; CONSUMER the child of the producer", async () => {
    const incomingTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await post(VALID_REQUEST, {
      traceparent: `00-${incomingTrace}-00f067aa0ba902b7-01`,
      tracestate: "k=v",
    });
    assert.equal(res.status, 202);
    const body = (await res.json()) as { request_id: string; customer_id: string; trace_id: string };
    assert.equal(body.trace_id, incomingTrace);
    assert.equal(body.customer_id, "cust-42");

    const apiSpans = api.exporter.getFinishedSpans();
    const [serverSpan] = byKind(apiSpans, SpanKind.SERVER);
    const [producer] = byKind(apiSpans, SpanKind.PRODUCER);
    assert.equal(apiSpans.length, 2);
    assert.equal(serverSpan.name, "POST /onboard");
    assert.equal(serverSpan.spanContext().traceId, incomingTrace);
    assert.equal(serverSpan.parentSpanContext?.spanId, "00f067aa0ba902b7");
    assert.equal(serverSpan.parentSpanContext?.isRemote, true);
    assert.equal(serverSpan.spanContext().traceState?.get("k"), "v");
    assert.deepEqual(
      {
        method: serverSpan.attributes["http.request.method"],
        route: serverSpan.attributes["http.route"],
        path: serverSpan.attributes["url.path"],
        status: serverSpan.attributes["http.response.status_code"],
      },
      { method: "POST", route: "/onboard", path: "/onboard", status: 202 },
    );
    assert.equal(producer.name, "send onboarding-spans");
    assert.equal(producer.parentSpanContext?.spanId, serverSpan.spanContext().spanId);
    const [message] = await receiveAll(1);
    assert.deepEqual(
      {
        system: producer.attributes["messaging.system"],
        op: producer.attributes["messaging.operation.type"],
        dest: producer.attributes["messaging.destination.name"],
        id: producer.attributes["messaging.message.id"],
      },
      { system: "aws_sqs", op: "send", dest: "onboarding-spans", id: message.MessageId },
    );
    assert.deepEqual(message.MessageAttributes?.traceparent, {
      DataType: "String",
      StringValue: `00-${incomingTrace}-${producer.spanContext().spanId}-01`,
    });
    const sent = JSON.parse(message.Body!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(sent).sort(), [
      "accepted_at",
      "company_size",
      "customer_id",
      "email",
      "name",
      "request_id",
    ]);
    assert.equal(sent.request_id, body.request_id);

    const handler = createHandler({
      tracer: lambda.tracer,
      logger: silent,
      flush: (ms) => flushWithin(lambda.provider, ms),
      processMessage: (m, _r, ctx) => processOnboarding(m, createInMemoryOnboardingStore(), ctx),
    });
    const result = await handler({ Records: [toSqsRecord(message, queue.queueArn, REGION)] }, lambdaContext());
    assert.deepEqual(result, { batchItemFailures: [] });
    const lambdaSpans = lambda.exporter.getFinishedSpans();
    const [consumer] = lambdaSpans.filter((s) => s.attributes["messaging.message.id"] !== undefined);
    const [batch] = lambdaSpans.filter((s) => s.attributes["messaging.batch.message_count"] !== undefined);
    assert.equal(lambdaSpans.length, 2);
    // semantic-conventions docs/faas/aws-lambda.md: both SQS spans are `process <queue>` CONSUMER spans.
    assert.equal(consumer.name, "process onboarding-spans");
    assert.equal(consumer.attributes["faas.trigger"], "pubsub");
    assert.equal(batch.name, "process onboarding-spans");
    assert.equal(batch.kind, SpanKind.CONSUMER);
    assert.deepEqual(
      {
        "messaging.operation.type": batch.attributes["messaging.operation.type"],
        "faas.trigger": batch.attributes["faas.trigger"],
        "aws.lambda.invoked_arn": batch.attributes["aws.lambda.invoked_arn"],
        "cloud.account.id": batch.attributes["cloud.account.id"],
        "cloud.resource_id": batch.attributes["cloud.resource_id"],
      },
      {
        "messaging.operation.type": "process",
        "faas.trigger": "pubsub",
        "aws.lambda.invoked_arn": "arn:aws:lambda:us-east-1:000000000000:function:onboarding",
        "cloud.account.id": "000000000000",
        "cloud.resource_id": undefined,
      },
    );
    assert.equal(consumer.kind, SpanKind.CONSUMER);
    assert.equal(consumer.spanContext().traceId, incomingTrace);
    assert.equal(consumer.parentSpanContext?.spanId, producer.spanContext().spanId);
    assert.equal(consumer.attributes["messaging.message.id"], message.MessageId);
    assert.equal(consumer.attributes["messaging.operation.type"], "process");
    assert.deepEqual(
      consumer.links.map((l) => l.context.spanId),
      [batch.spanContext().spanId],
    );
    assert.deepEqual(
      batch.links.map((l) => [l.context.traceId, l.context.spanId]),
      [[incomingTrace, producer.spanContext().spanId]],
    );
    assert.equal(consumer.resource.attributes["cloud.platform"], "aws_lambda");
  });

  it("baggage a trusted caller sets reaches the Lambda's record context through the real queue (OTEL_PROPAGATORS default)", async () => {
    const res = await post(VALID_REQUEST, {
      traceparent: "00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      baggage: "tenant=acme,plan=gold%20plus",
    });
    assert.equal(res.status, 202);
    const [message] = await receiveAll(1);
    assert.equal(message.MessageAttributes?.baggage?.DataType, "String");

    const seen: Record<string, string>[] = [];
    const handler = createHandler({
      tracer: lambda.tracer,
      logger: silent,
      flush: (ms) => flushWithin(lambda.provider, ms),
      processMessage: async (m, _r, ctx) => {
        const entries = propagation.getBaggage(ctx)?.getAllEntries() ?? [];
        seen.push(Object.fromEntries(entries.map(([key, entry]) => [key, entry.value])));
        return processOnboarding(m, createInMemoryOnboardingStore(), ctx);
      },
    });
    const result = await handler({ Records: [toSqsRecord(message, queue.queueArn, REGION)] }, lambdaContext());
    assert.deepEqual(result, { batchItemFailures: [] });
    assert.deepEqual(seen, [{ tenant: "acme", plan: "gold plus" }]);
  });

  it("a batch of 10 records from 10 traces → 10 process spans, each in its producer's trace, and a batch span with 10 links", async () => {
    for (let i = 0; i < 10; i++) {
      const res = await post({ ...VALID_REQUEST, customer_id: `cust-${i}` });
      assert.equal(res.status, 202);
    }
    const producers = byKind(api.exporter.getFinishedSpans(), SpanKind.PRODUCER);
    assert.equal(producers.length, 10);
    assert.equal(new Set(producers.map((p) => p.spanContext().traceId)).size, 10);
    const messages = await receiveAll(10);

    const handler = createHandler({
      tracer: lambda.tracer,
      logger: silent,
      flush: (ms) => flushWithin(lambda.provider, ms),
      processMessage: (m, _r, ctx) => processOnboarding(m, createInMemoryOnboardingStore(), ctx),
    });
    const result = await handler(
      { Records: messages.map((m) => toSqsRecord(m, queue.queueArn, REGION)) },
      lambdaContext(),
    );
    assert.deepEqual(result.batchItemFailures, []);

    const spans = lambda.exporter.getFinishedSpans();
    const processSpans = spans.filter((s) => s.attributes["messaging.message.id"] !== undefined);
    const batches = spans.filter((s) => s.attributes["messaging.batch.message_count"] !== undefined);
    assert.equal(processSpans.length, 10);
    assert.equal(batches.length, 1);
    const [batch] = batches;
    assert.equal(batch.attributes["messaging.batch.message_count"], 10);
    const producerByMessageId = new Map(producers.map((p) => [p.attributes["messaging.message.id"], p]));
    for (const span of processSpans) {
      const producer = producerByMessageId.get(span.attributes["messaging.message.id"]);
      assert.ok(producer, "each process span belongs to a producer");
      assert.equal(span.spanContext().traceId, producer.spanContext().traceId);
      assert.equal(span.parentSpanContext?.spanId, producer.spanContext().spanId);
      assert.deepEqual(
        span.links.map((l) => l.context.spanId),
        [batch.spanContext().spanId],
      );
      assert.equal(span.status.code, SpanStatusCode.UNSET);
    }
    assert.deepEqual(
      batch.links.map((l) => `${l.context.traceId}/${l.context.spanId}`).sort(),
      producers.map((p) => `${p.spanContext().traceId}/${p.spanContext().spanId}`).sort(),
    );
  });

  it("a 400 creates a SERVER span with status code 400 and no PRODUCER span", async () => {
    const res = await post({ ...VALID_REQUEST, email: "nope" });
    assert.equal(res.status, 400);
    const spans = api.exporter.getFinishedSpans();
    assert.equal(spans.length, 1);
    assert.equal(spans[0].attributes["http.response.status_code"], 400);
    assert.equal(spans[0].status.code, SpanStatusCode.UNSET);
  });
});
