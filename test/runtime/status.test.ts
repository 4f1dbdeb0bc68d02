/**
 * `GET /onboard/{request_id}` through a message's life against dynalite: 404 before anything is recorded,
 * `accepted` when the API's record is there, `processed` (with `processed_at` and the customer id) once the consumer
 * recorded it; malformed ids are 400 without a table read; an unreachable table is 503; the read is a CLIENT span.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SpanKind, type Tracer } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type { Context as LambdaContext } from "aws-lambda";
import { createApp } from "../../app/src/app";
import { createDynamoIdempotencyStore } from "../../app/src/idempotency";
import type { Publisher } from "../../app/src/publisher";
import { createDynamoStatusReader } from "../../app/src/status";
import { createHandler } from "../../lambda/src/sqs-handler";
import { processOnboarding } from "../../lambda/src/onboarding";
import { createDynamoOnboardingStore } from "../../lambda/src/store";
import { localDynamoCall, localDynamoClient } from "../../local/dynamodb";
import { createJsonLogger } from "../../telemetry/logger";
import { closedPort, makeRecord, VALID_REQUEST } from "./helpers";
import { recordingPublisher } from "./fakes";
import { useOnboardingTable } from "./onboarding-table-fixture";

const TABLE = "onboarding-status";

describe("runtime: GET /onboard/{request_id} (dynalite)", function () {
  this.timeout(30_000);
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer("status-test") as Tracer;
  const logger = createJsonLogger({ service: "test", write: () => undefined });
  const { publisher, published } = recordingPublisher();
  const table = useOnboardingTable(TABLE);

  async function serve(
    reader: Parameters<typeof createApp>[0]["statusReader"],
    api: Partial<Parameters<typeof createApp>[0]> = {},
  ): Promise<string> {
    const server = createServer(createApp({ publisher, statusReader: reader, tracer, logger, ...api }).callback());
    table.servers.push(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  beforeEach(() => exporter.reset());

  it("404 (unknown or not processed yet) → accepted → processed with processed_at and the customer id", async () => {
    // A send SQS has not confirmed yet: the request is known to nobody.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let sent!: (requestId: string) => void;
    const sending = new Promise<string>((resolve) => (sent = resolve));
    const gatedPublisher: Publisher = {
      ...publisher,
      publish: async (message, parent) => {
        sent(message.request_id);
        await gate;
        return publisher.publish(message, parent);
      },
    };
    const base = await serve(createDynamoStatusReader({ tableName: TABLE, tracer, client: table.client }), {
      publisher: gatedPublisher,
      idempotency: createDynamoIdempotencyStore({ client: table.client, tableName: TABLE, tracer }),
    });
    const post = fetch(`${base}/onboard`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "lifecycle-1" },
      body: JSON.stringify(VALID_REQUEST),
    });
    const requestId = await sending;

    const before = await fetch(`${base}/onboard/${requestId}`);
    assert.equal(before.status, 404);
    const notFound = (await before.json()) as Record<string, unknown>;
    assert.equal(notFound.error, "not_found");
    assert.match(String(notFound.message), /unknown request_id, or not processed yet/i);

    release(); // SQS took it: the API notes the request as accepted
    assert.equal((await post).status, 202);
    const accepted = await fetch(`${base}/onboard/${requestId}`);
    assert.equal(accepted.status, 200);
    assert.deepEqual(await accepted.json(), {
      request_id: requestId,
      status: "accepted",
      customer_id: VALID_REQUEST.customer_id,
    });

    // The consumer processes the message the API published.
    const handler = createHandler({
      tracer,
      logger,
      flush: async () => "flushed",
      processMessage: (m, _r, ctx) =>
        processOnboarding(
          m,
          createDynamoOnboardingStore({ call: localDynamoCall(table.db.endpoint), tableName: TABLE, tracer }),
          ctx,
        ),
    });
    const result = await handler(
      { Records: [makeRecord({ messageId: "m-1", body: JSON.stringify(published.at(-1)) })] },
      { getRemainingTimeInMillis: () => 10_000 } as unknown as LambdaContext,
    );
    assert.deepEqual(result.batchItemFailures, []);
    const processed = await fetch(`${base}/onboard/${requestId}`);
    assert.equal(processed.status, 200);
    const body = (await processed.json()) as Record<string, string>;
    assert.equal(body.status, "processed");
    assert.equal(body.request_id, requestId);
    assert.equal(body.customer_id, VALID_REQUEST.customer_id);
    assert.ok(!Number.isNaN(Date.parse(body.processed_at)), `processed_at ${body.processed_at}`);
  });

  it("the reads are GetItem CLIENT spans under the SERVER span GET /onboard/:request_id (record, then accepted note)", async () => {
    const base = await serve(createDynamoStatusReader({ tableName: TABLE, tracer, client: table.client }));
    const id = "0b7c9a52-3c1e-4a7e-9d2f-6a2b7e1f0c11";
    assert.equal((await fetch(`${base}/onboard/${id}`)).status, 404);
    const spans = exporter.getFinishedSpans();
    const serverSpan = spans.find((s) => s.kind === SpanKind.SERVER)!;
    const reads = spans.filter((s) => s.kind === SpanKind.CLIENT);
    assert.equal(serverSpan.name, "GET /onboard/:request_id");
    assert.equal(serverSpan.attributes["http.route"], "/onboard/:request_id");
    assert.equal(serverSpan.attributes["http.response.status_code"], 404);
    assert.equal(reads.length, 2, "the consumer's record, then the API's accepted note");
    for (const read of reads) {
      assert.equal(read.name, `GetItem ${TABLE}`);
      assert.equal(read.parentSpanContext?.spanId, serverSpan.spanContext().spanId);
      assert.equal(read.attributes["db.system.name"], "aws.dynamodb");
      assert.equal(read.attributes["db.operation.name"], "GetItem");
      assert.deepEqual(read.attributes["aws.dynamodb.table_names"], [TABLE]);
    }
  });

  it("bad ids → 400 naming request_id, without reading the table", async () => {
    let reads = 0;
    const base = await serve({ get: async () => (reads++, undefined) });
    for (const id of ["not-a-uuid", "0B7C9A52-3C1E-4A7E-9D2F-6A2B7E1F0C11", "x".repeat(300), "%00"]) {
      const res = await fetch(`${base}/onboard/${id}`);
      assert.equal(res.status, 400, id);
      const body = (await res.json()) as { error: string; fields: { field: string }[] };
      assert.equal(body.error, "validation_failed");
      assert.deepEqual(
        body.fields.map((f) => f.field),
        ["request_id"],
      );
    }
    assert.equal(reads, 0);
    assert.equal((await fetch(`${base}/onboard/`)).status, 404, "strict routing: no trailing slash");
    assert.equal((await fetch(`${base}/onboard/0b7c9a52-3c1e-4a7e-9d2f-6a2b7e1f0c11`, { method: "POST" })).status, 405);
  });

  it("the table unreachable → 503 store_unavailable", async () => {
    const down = localDynamoClient(`http://127.0.0.1:${await closedPort()}`);
    const base = await serve(createDynamoStatusReader({ tableName: TABLE, tracer, client: down }));
    const res = await fetch(`${base}/onboard/0b7c9a52-3c1e-4a7e-9d2f-6a2b7e1f0c11`);
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { error: string }).error, "store_unavailable");
    down.destroy();
  });
});
